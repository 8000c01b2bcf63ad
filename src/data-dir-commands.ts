/**
 * The embedded engine's data-directory commands, run instead of the server when the first argument
 * names one (`node dist/src/main.js backup ...`, `npm run backup -- ...`):
 *
 *   backup  --data-dir DIR --to BACKUP   a consistent snapshot of DIR (the server may be running on it)
 *                                        into BACKUP, a new or empty directory: a data directory itself
 *   restore --from BACKUP --data-dir DIR puts a backup into DIR, which must be new or empty (stop the
 *                                        server and move the old directory away first)
 *
 * Exit codes: 0 done, 1 failed (the message says why; nothing was overwritten), 2 bad arguments.
 */
import { Command, CommanderError } from "commander";
import path from "node:path";
import { DEFAULT_DATA_DIR } from "./config.js";
import { emptyToUndefined } from "./file-settings.js";

const COMMANDS = ["backup", "restore"] as const;

export function isDataDirCommand(arg: string | undefined): boolean {
  return (COMMANDS as readonly string[]).includes(arg ?? "");
}

/** Runs `backup` or `restore` (argv: node, script, command, ...options); resolves with the exit code. */
export async function runDataDirCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { backupDataDir, restoreDataDir } = await import("./store/embedded/lmdb-persistence.js");
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const program = new Command()
    .name("vecrec")
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(`vecrec: ${text.replace(/^error: /, "")}`) });
  program
    .command("backup")
    .description("copy a consistent snapshot of a data directory (live or not) into a new directory")
    .option("--data-dir <dir>", `the data directory (env VECREC_DATA_DIR, default ./${DEFAULT_DATA_DIR})`)
    .requiredOption("--to <dir>", "where to write the backup (must be missing or empty)")
    .action(async (options: { dataDir?: string; to: string }) => {
      const from = options.dataDir ?? emptyToUndefined(env.VECREC_DATA_DIR) ?? DEFAULT_DATA_DIR;
      const bytes = await backupDataDir(from, options.to);
      out(`vecrec: backed up ${path.resolve(from)} to ${path.resolve(options.to)} (${bytes} bytes)`);
    });
  program
    .command("restore")
    .description("put a backup into a data directory (which must be missing or empty)")
    .requiredOption("--from <dir>", "the backup (a directory written by backup)")
    .option("--data-dir <dir>", `the data directory to create (env VECREC_DATA_DIR, default ./${DEFAULT_DATA_DIR})`)
    .action(async (options: { from: string; dataDir?: string }) => {
      const to = options.dataDir ?? emptyToUndefined(env.VECREC_DATA_DIR) ?? DEFAULT_DATA_DIR;
      await restoreDataDir(options.from, to);
      out(`vecrec: restored ${path.resolve(options.from)} into ${path.resolve(to)}; start the server with --data-dir ${to}`);
    });
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error: unknown) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    process.stderr.write(`vecrec: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
