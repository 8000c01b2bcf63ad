/**
 * Transactions: MULTI, DISCARD, EXEC, WATCH, UNWATCH. Queueing inside MULTI is the dispatcher's
 * (../commands.ts); EXEC runs the queue through `execute`, so a cluster node checks each command again.
 */
import { NULL_ARRAY, OK, arr, err } from "../resp.js";
import type { Command } from "./command.js";

export const TRANSACTION_COMMANDS: readonly Command[] = [
  {
    name: "MULTI",
    arity: 1,
    run: ({ conn }) => {
      if (conn.multi) return err("ERR MULTI calls can not be nested");
      conn.multi = { queue: [], dirty: false };
      return OK;
    },
  },
  {
    name: "DISCARD",
    arity: 1,
    run: ({ state, conn }) => {
      if (!conn.multi) return err("ERR DISCARD without MULTI");
      conn.multi = undefined;
      state.unwatch(conn);
      return OK;
    },
  },
  {
    name: "EXEC",
    arity: 1,
    run: ({ state, conn, execute }) => {
      const m = conn.multi;
      if (!m) return err("ERR EXEC without MULTI");
      conn.multi = undefined;
      const touched = conn.watch?.dirty === true;
      // The watch ends with EXEC whatever happens; the queued commands below do not touch it.
      state.unwatch(conn);
      // A queueing error wins over a touched key (Redis checks EXECABORT first).
      if (m.dirty) return err("EXECABORT Transaction discarded because of previous errors.");
      if (touched) return NULL_ARRAY;
      return arr(m.queue.map((q) => execute(q)));
    },
  },
  {
    name: "WATCH",
    arity: -2,
    run: ({ state, conn, argv }) => {
      if (conn.multi) return err("ERR WATCH inside MULTI is not allowed");
      state.watch(conn, argv.slice(1).map((a) => a.toString("utf8")));
      return OK;
    },
  },
  {
    name: "UNWATCH",
    arity: 1,
    run: ({ state, conn }) => {
      state.unwatch(conn);
      return OK;
    },
  },
];
