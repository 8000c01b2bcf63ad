/** Script commands: EVAL, EVALSHA, SCRIPT. vecrec's scripts run natively (../scripts.ts). */
import type { Reply } from "../resp.js";
import type { Call, Command } from "./command.js";

const evaluate = ({ state, ks, cmd, argv }: Call): Reply => state.scripts.eval(ks, argv, cmd === "EVALSHA");

export const SCRIPT_COMMANDS: readonly Command[] = [
  { name: "EVAL", arity: -3, run: evaluate },
  { name: "EVALSHA", arity: -3, run: evaluate },
  { name: "SCRIPT", arity: -2, run: ({ state, argv }) => state.scripts.script(argv) },
];
