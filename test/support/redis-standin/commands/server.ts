/** Server commands: ACL WHOAMI, CONFIG GET (the one setting clients ask for), FLUSHALL/FLUSHDB, DBSIZE. */
import { OK, type Reply, arr, bulk, err, int, map } from "../resp.js";
import type { Call, Command } from "./command.js";

const flush = ({ state }: Call): Reply => {
  state.flushAll();
  return OK;
};

export const SERVER_COMMANDS: readonly Command[] = [
  {
    name: "ACL",
    arity: -2,
    run: ({ s }) => {
      if (s(1).toUpperCase() === "WHOAMI") return bulk("default");
      return err(`ERR unknown subcommand '${s(1)}'. Try ACL HELP.`);
    },
  },
  {
    name: "CONFIG",
    arity: -2,
    run: ({ proto, s }) => {
      if (s(1).toUpperCase() === "GET" && s(2) === "search-default-dialect") {
        return map([[bulk("search-default-dialect"), bulk("1")]]);
      }
      return proto === 3 ? map([]) : arr([]);
    },
  },
  { name: "FLUSHALL", arity: -1, run: flush },
  { name: "FLUSHDB", arity: -1, run: flush },
  { name: "DBSIZE", arity: 1, run: ({ ks }) => int(ks.size) },
];
