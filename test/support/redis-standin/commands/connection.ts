/** Connection commands: PING, ECHO, SELECT, QUIT, AUTH, HELLO, CLIENT. */
import type { Connection } from "../commands.js";
import { NULL, OK, type Reply, arr, bulk, err, int, map, simple } from "../resp.js";
import type { Command } from "./command.js";

function helloReply(conn: Connection): Reply {
  const module = (name: string, ver: number): Reply =>
    map([
      [bulk("name"), bulk(name)],
      [bulk("ver"), int(ver)],
      [bulk("path"), bulk("")],
      [bulk("args"), arr([])],
    ]);
  return map([
    [bulk("server"), bulk("redis")],
    [bulk("version"), bulk("8.0.2")],
    [bulk("proto"), int(conn.proto)],
    [bulk("id"), int(conn.id)],
    [bulk("mode"), bulk("standalone")],
    [bulk("role"), bulk("master")],
    [bulk("modules"), arr([module("vectorset", 1), module("search", 80002)])],
  ]);
}

export const CONNECTION_COMMANDS: readonly Command[] = [
  { name: "PING", arity: -1, run: ({ argv }) => (argv.length > 1 ? bulk(argv[1] as Buffer) : simple("PONG")) },
  { name: "ECHO", arity: 2, run: ({ argv }) => bulk(argv[1] as Buffer) },
  {
    name: "SELECT",
    arity: 2,
    run: ({ conn, s }) => {
      if (!/^\d+$/.test(s(1)) || Number(s(1)) >= 16) return err("ERR DB index is out of range");
      conn.db = Number(s(1));
      return OK;
    },
  },
  {
    name: "QUIT",
    arity: -1,
    run: ({ conn }) => {
      conn.closing = true;
      return OK;
    },
  },
  {
    name: "AUTH",
    arity: -2,
    run: ({ argv, s }) => {
      if (argv.length === 2) {
        return err(
          "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        );
      }
      return s(1) === "default" ? OK : err("WRONGPASS invalid username-password pair or user is disabled.");
    },
  },
  {
    name: "HELLO",
    arity: -1,
    run: ({ conn, argv, s }) => {
      let i = 1;
      let proto2 = conn.proto;
      if (argv.length > 1) {
        const v = s(1);
        if (!/^\d+$/.test(v)) return err("ERR Protocol version is not an integer or out of range");
        if (v !== "2" && v !== "3") return err("NOPROTO unsupported protocol version");
        proto2 = Number(v) as 2 | 3;
        i = 2;
      }
      let name: string | undefined;
      while (i < argv.length) {
        const opt = s(i).toUpperCase();
        if (opt === "AUTH" && i + 2 < argv.length) {
          if (s(i + 1) !== "default") return err("WRONGPASS invalid username-password pair or user is disabled.");
          i += 3;
        } else if (opt === "SETNAME" && i + 1 < argv.length) {
          name = s(i + 1);
          i += 2;
        } else {
          return err(`ERR Syntax error in HELLO option '${s(i)}'`);
        }
      }
      conn.proto = proto2;
      if (name !== undefined) conn.name = name;
      return helloReply(conn);
    },
  },
  {
    name: "CLIENT",
    arity: -2,
    run: ({ conn, argv, s }) => {
      const sub = s(1).toUpperCase();
      if (sub === "SETINFO") {
        const attr = s(2).toUpperCase();
        if (/[\s]/.test(s(3))) return err(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
        return OK;
      }
      if (sub === "SETNAME") {
        if (/[\s]/.test(s(2))) return err("ERR Client names cannot contain spaces, newlines or special characters.");
        conn.name = s(2) === "" ? undefined : s(2);
        return OK;
      }
      if (sub === "GETNAME") return conn.name === undefined ? NULL : bulk(conn.name);
      if (sub === "ID") return int(conn.id);
      return err(`ERR unknown subcommand '${argv[1]?.toString("utf8") ?? ""}'. Try CLIENT HELP.`);
    },
  },
];
