/**
 * The `vecrec` command-line tool: a client of a running vecrec server (`--address`, env VECREC_ADDR).
 * Commands: load, export, search, recommend, indexes list|get|drop. Errors are one line on stderr and a
 * non-zero exit code (1: the command failed; 2: `load` finished but rejected some rows); `--json`
 * prints machine-readable output.
 */
import { Command, Option } from "commander";
import { connect, CliError, DEFAULT_ADDRESS, describeError, type Connection } from "./connection.js";
import { exportIndex } from "./export.js";
import { load, type LoadOptions } from "./load.js";
import { dropIndex, getIndex, listIndexes, recommend, search } from "./queries.js";

interface GlobalOptions {
  address: string;
  tlsCa?: string;
  token?: string;
  json: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const positiveInt = (name: string, max = Number.MAX_SAFE_INTEGER) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`${name} must be a positive integer, got ${value}`);
  if (n > max) throw new CliError(`${name} must be at most ${max}, got ${value}`);
  return n;
};

/**
 * The bounds the server takes, as the proto documents them (UpsertStreamRequest.items,
 * SearchRequest.k, RecommendRequest.limit and neighbor_count): checked here too, so that a value past
 * them is refused in words rather than failing to encode (a k past 2^32 is no uint32).
 */
const MAX_BATCH = 10_000;
const MAX_K = 10_000;
const MAX_RECOMMENDATIONS = 1_000;
const MAX_NEIGHBORS = 1_000;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

const PROCESS_IO: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs the CLI on `argv` (process.argv shape); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = PROCESS_IO): Promise<number> {
  let exitCode = 0;
  let address = DEFAULT_ADDRESS;
  const program = new Command("vecrec")
    .description("Load, export and query a vecrec server (a vector database for recommendations on Redis)")
    .addOption(new Option("--address <host:port>", "the vecrec server").env("VECREC_ADDR").default(DEFAULT_ADDRESS))
    .addOption(new Option("--tls-ca <file>", "PEM CA certificate of the server: connect with TLS").env("VECREC_TLS_CA"))
    .addOption(new Option("--token <token>", "bearer token sent with every call").env("VECREC_TOKEN"))
    .option("--json", "machine-readable output", false)
    .showHelpAfterError()
    .exitOverride();

  const withConnection = async (command: Command, run: (connection: Connection, globals: GlobalOptions) => Promise<void>): Promise<void> => {
    const globals = command.optsWithGlobals<GlobalOptions>();
    address = globals.address;
    const connection = connect({ address: globals.address, tlsCa: globals.tlsCa, token: globals.token });
    try {
      await run(connection, globals);
    } finally {
      connection.close();
    }
  };

  program
    .command("load")
    .description("load a JSON Lines, CSV or .npy file into an index (resumes after a failure)")
    .argument("<index>", "index name")
    .argument("<file>", "JSON Lines ({\"id\", \"vector\", \"fields\"} a line), .csv, or .npy (with --ids); .gz accepted")
    .option("--format <format>", "jsonl, csv or npy (default: from the file name)")
    .option("--ids <file>", ".npy only: ids, one a line, or JSON Lines {\"id\", \"fields\"}")
    .option("--id-column <name>", "CSV: the id column", "id")
    .option("--vector-column <name>", "CSV: the vector column ([0.1, 0.2] or numbers separated by spaces)", "vector")
    .option("--batch <n>", `items per message, 1 to ${MAX_BATCH}`, positiveInt("--batch", MAX_BATCH), 1000)
    .option("--create-index", "create the index first (from --schema, or --dim and the field flags)", false)
    .option("--schema <file>", "with --create-index: an IndexRequest as JSON (as grpcurl takes it)")
    .option("--dim <n>", "with --create-index: vector dimension", positiveInt("--dim"))
    .option("--metric <metric>", "with --create-index: cosine, l2 or ip", "cosine")
    .option("--algorithm <algorithm>", "with --create-index: flat or hnsw", "flat")
    .option("--vector-field <name>", "with --create-index: name of the vector field", "vec")
    .option("--text <field>", "with --create-index: a TEXT field (repeatable)", collect, [])
    .option("--tag <field>", "with --create-index: a TAG field (repeatable)", collect, [])
    .option("--numeric <field>", "with --create-index: a NUMERIC field (repeatable)", collect, [])
    .option("--checkpoint <file>", "where progress is saved (default: FILE.vecrec-checkpoint.json)")
    .option("--restart", "ignore a checkpoint and load from the first line", false)
    .action(async (index: string, file: string, _options: unknown, command: Command) => {
      await withConnection(command, async (connection, globals) => {
        // Ctrl-C stops the load at once with the line it can resume after (a second one ends the
        // process as usual: the listener is gone after the first).
        const interrupt = new AbortController();
        const onInterrupt = (): void => interrupt.abort();
        process.once("SIGINT", onInterrupt);
        const options = { ...command.opts<Omit<LoadOptions, "index" | "file" | "signal">>(), index, file, signal: interrupt.signal };
        const reported: string[] = [];
        const summary = await load(
          connection,
          options,
          (line, reason, id) => {
            if (reported.length < 100) io.err(`line ${line}${id === undefined || id === "" ? "" : ` (id ${JSON.stringify(id)})`}: ${reason}`);
            reported.push(reason);
          },
          (text) => io.err(text),
        ).finally(() => process.removeListener("SIGINT", onInterrupt));
        if (reported.length > 100) io.err(`... and ${reported.length - 100} more rejected rows`);
        if (globals.json) io.out(JSON.stringify(summary));
        else {
          const resumed = summary.resumedAfterLine === undefined ? "" : `, resumed after line ${summary.resumedAfterLine}`;
          io.out(
            `loaded ${summary.accepted} items into ${index} from ${file}, ${summary.rejected} rejected${resumed}, in ${summary.seconds.toFixed(1)} s (${summary.itemsPerSecond} items/s)`,
          );
        }
        if (summary.rejected > 0) exitCode = 2;
      });
    });

  program
    .command("export")
    .description("write every item of an index as JSON Lines (the format load reads), in id order")
    .argument("<index>", "index name")
    .argument("[file]", "output file (.gz compresses); stdout when absent")
    .option("--filter <query>", "only items matching this filter (Search's filter_query syntax)")
    .option("--after <id>", "resume after this id (the last one written)")
    .action(async (index: string, file: string | undefined, _options: unknown, command: Command) => {
      await withConnection(command, async (connection, globals) => {
        const opts = command.opts<{ filter?: string; after?: string }>();
        const summary = await exportIndex(connection, { index, file, filter: opts.filter, after: opts.after });
        const line = globals.json
          ? JSON.stringify(summary)
          : `exported ${summary.exported} items of ${index} to ${summary.file} in ${summary.seconds.toFixed(1)} s`;
        io.err(line);
      });
    });

  program
    .command("search")
    .description("nearest neighbours of a vector or of a stored item")
    .argument("<index>", "index name")
    .option("--vector <values>", "the query vector, e.g. '[0.1, 0.2, 0.3]'")
    .option("--item <id>", "search around a stored item")
    .option("-k, --k <n>", `number of results, 1 to ${MAX_K}`, positiveInt("-k", MAX_K), 10)
    .option("--filter <query>", "filter (Search's filter_query syntax)")
    .option("--fields <names>", "comma-separated fields to return")
    .option("--with-vectors", "print each hit's vector", false)
    .action(async (index: string, _options: unknown, command: Command) => {
      await withConnection(command, async (connection, globals) => {
        const opts = command.opts<{ vector?: string; item?: string; k: number; filter?: string; fields?: string; withVectors: boolean }>();
        for (const line of await search(connection, index, opts, globals.json)) io.out(line);
      });
    });

  program
    .command("recommend")
    .description("items a user's nearest neighbours interacted with")
    .argument("<index>", "index name")
    .requiredOption("--user <id>", "the user (an item of the index)")
    .option("--limit <n>", `number of items, 1 to ${MAX_RECOMMENDATIONS}`, positiveInt("--limit", MAX_RECOMMENDATIONS), 10)
    .option("--neighbors <n>", `neighbours to draw from, 1 to ${MAX_NEIGHBORS}`, positiveInt("--neighbors", MAX_NEIGHBORS), 20)
    .option("--filter <query>", "filter on neighbours")
    .action(async (index: string, _options: unknown, command: Command) => {
      await withConnection(command, async (connection, globals) => {
        const opts = command.opts<{ user: string; limit: number; neighbors: number; filter?: string }>();
        for (const line of await recommend(connection, index, opts, globals.json)) io.out(line);
      });
    });

  const indexes = program.command("indexes").description("list, describe or drop indexes");
  indexes
    .command("list")
    .description("every index")
    .action(async (_options: unknown, command: Command) => {
      await withConnection(command, async (connection, globals) => {
        for (const line of await listIndexes(connection, globals.json)) io.out(line);
      });
    });
  indexes
    .command("get")
    .description("one index as JSON")
    .argument("<index>", "index name")
    .action(async (index: string, _options: unknown, command: Command) => {
      await withConnection(command, async (connection) => {
        for (const line of await getIndex(connection, index)) io.out(line);
      });
    });
  indexes
    .command("drop")
    .description("drop an index")
    .argument("<index>", "index name")
    .option("--delete-items", "also delete its items and their interactions", false)
    .action(async (index: string, _options: unknown, command: Command) => {
      await withConnection(command, async (connection, globals) => {
        const opts = command.opts<{ deleteItems: boolean }>();
        for (const line of await dropIndex(connection, index, opts.deleteItems, globals.json)) io.out(line);
      });
    });

  program.configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) });
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    const commanderCode = (error as { code?: string }).code;
    if (typeof commanderCode === "string" && commanderCode.startsWith("commander.")) {
      return commanderCode === "commander.helpDisplayed" || commanderCode === "commander.version" ? 0 : 1;
    }
    const note = (error as { resumeNote?: string }).resumeNote;
    io.err(`vecrec: ${describeError(error, address)}${note === undefined ? "" : ` (${note})`}`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}
