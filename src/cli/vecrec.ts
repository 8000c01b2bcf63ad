/** Entry point of the `vecrec` command (bin/vecrec.mjs runs this, from dist/ or through tsx). */
import { runCli } from "./main.js";

process.exitCode = await runCli(process.argv);
