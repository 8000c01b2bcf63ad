/**
 * `vecrec load INDEX FILE`: streams the rows of a file into an index over one UpsertStream call, in
 * messages of `--batch` items, with backpressure (a message is written only when the call accepts more).
 * Bad rows (unreadable, or rejected by the server) are reported by line and the rest loaded. Resumable:
 * after each acknowledged message the last line it covered is saved in a checkpoint file beside the
 * input; running the same command again skips what was acknowledged (writes are idempotent, so a
 * message sent twice does no harm). The checkpoint is deleted once the whole file is loaded. A load that
 * stops (the server fails, the file cannot be read on, Ctrl-C) lets what was sent be acknowledged and
 * checkpointed first (Ctrl-C: at once, as of the last acknowledgement), and says up to which line all is
 * stored.
 */
import type { ClientDuplexStream } from "@grpc/grpc-js";
import { once } from "node:events";
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  DistanceMetric,
  IndexRequest,
  VectorAlgorithm,
  type FieldSchema,
  type GetIndexResponse,
  type IndexResponse,
  type Item,
  type UpsertStreamRequest,
  type UpsertStreamResponse,
} from "../gen/vecrec/v1/vecrec.js";
import { CliError, unary, type Connection } from "./connection.js";
import { fieldKinds, toProtoItem } from "./item-json.js";
import { startProgress } from "./progress.js";
import { formatOf, readRows, type ReadOptions } from "./readers.js";

export interface LoadOptions {
  readonly index: string;
  readonly file: string;
  readonly format?: string;
  readonly idColumn: string;
  readonly vectorColumn: string;
  readonly ids?: string;
  readonly batch: number;
  readonly createIndex: boolean;
  readonly schema?: string;
  readonly dim?: number;
  readonly metric: string;
  readonly algorithm: string;
  readonly vectorField: string;
  readonly text: readonly string[];
  readonly tag: readonly string[];
  readonly numeric: readonly string[];
  readonly checkpoint?: string;
  readonly restart: boolean;
  /** Aborted (Ctrl-C): the load stops at once, its checkpoint as of the last acknowledgement. */
  readonly signal?: AbortSignal;
}

export interface LoadSummary {
  index: string;
  file: string;
  accepted: number;
  rejected: number;
  /** Rows skipped because an earlier run had them acknowledged. */
  skipped: number;
  /** Rows rejected, by line (at most the first 1000). */
  rejections: { line: number; id?: string; reason: string }[];
  seconds: number;
  itemsPerSecond: number;
  resumedAfterLine?: number;
}

interface Checkpoint {
  index: string;
  file: string;
  size: number;
  mtimeMs: number;
  /** Every row up to this line is acknowledged (or was reported bad). */
  line: number;
  accepted: number;
  rejected: number;
}

const MAX_REPORTED = 1000;

/** The index request of --create-index: from --schema (IndexRequest JSON, as grpcurl takes it) or the flags. */
export function indexRequestOf(options: LoadOptions): IndexRequest {
  if (options.schema !== undefined) {
    const json = JSON.parse(readFileSync(options.schema, "utf8")) as Record<string, unknown>;
    return IndexRequest.fromJSON({ ...json, indexName: options.index });
  }
  if (options.dim === undefined) throw new CliError("--create-index needs --dim N (or --schema FILE)");
  const metric = { cosine: DistanceMetric.DISTANCE_METRIC_COSINE, l2: DistanceMetric.DISTANCE_METRIC_L2, ip: DistanceMetric.DISTANCE_METRIC_IP }[
    options.metric.toLowerCase()
  ];
  const algorithm = { flat: VectorAlgorithm.VECTOR_ALGORITHM_FLAT, hnsw: VectorAlgorithm.VECTOR_ALGORITHM_HNSW }[options.algorithm.toLowerCase()];
  if (metric === undefined) throw new CliError(`unknown --metric ${options.metric}: use cosine, l2 or ip`);
  if (algorithm === undefined) throw new CliError(`unknown --algorithm ${options.algorithm}: use flat or hnsw`);
  const fields: FieldSchema[] = [
    ...options.text.map((name): FieldSchema => ({ name, type: { $case: "text", value: { weight: 0 } } })),
    ...options.tag.map((name): FieldSchema => ({ name, type: { $case: "tag", value: { separator: "", caseSensitive: false } } })),
    ...options.numeric.map((name): FieldSchema => ({ name, type: { $case: "numeric", value: {} } })),
    {
      name: options.vectorField,
      type: { $case: "vector", value: { dimension: options.dim, algorithm, distanceMetric: metric, elementType: 0, hnsw: undefined } },
    },
  ];
  return IndexRequest.fromPartial({ indexName: options.index, fields });
}

function checkpointPath(options: LoadOptions): string {
  return options.checkpoint ?? `${options.file}.vecrec-checkpoint.json`;
}

function readCheckpoint(file: string, expected: Omit<Checkpoint, "line" | "accepted" | "rejected">): Checkpoint | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const saved = JSON.parse(readFileSync(file, "utf8")) as Checkpoint;
    const same = saved.index === expected.index && saved.file === expected.file && saved.size === expected.size && saved.mtimeMs === expected.mtimeMs;
    return same && Number.isInteger(saved.line) ? saved : undefined;
  } catch {
    return undefined;
  }
}

function writeCheckpoint(file: string, checkpoint: Checkpoint): void {
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, JSON.stringify(checkpoint));
  renameSync(temporary, file);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Fails at once when the checkpoint cannot be written there (a read-only input's folder, a missing one). */
function probeCheckpoint(file: string): void {
  const temporary = `${file}.tmp`;
  try {
    writeFileSync(temporary, "");
    rmSync(temporary, { force: true });
  } catch (error) {
    throw new CliError(`cannot write the checkpoint ${file}: ${reasonOf(error)} (set --checkpoint to a writable path)`);
  }
}

/** Loads the file; `report` gets each bad row as it is found. */
export async function load(
  connection: Connection,
  options: LoadOptions,
  report: (line: number, reason: string, id?: string) => void,
  notice: (text: string) => void,
): Promise<LoadSummary> {
  const { client } = connection;
  const format = formatOf(options.file, options.format);
  if (!existsSync(options.file)) throw new CliError(`no such file: ${options.file}`);
  const stat = statSync(options.file);
  const identity = { index: options.index, file: path.resolve(options.file), size: stat.size, mtimeMs: stat.mtimeMs };
  const checkpointFile = checkpointPath(options);
  probeCheckpoint(checkpointFile);
  const resumed = options.restart ? undefined : readCheckpoint(checkpointFile, identity);
  if (resumed !== undefined) notice(`resuming after line ${resumed.line} (checkpoint ${checkpointFile}; --restart to load from the start)`);

  if (options.createIndex) {
    const response = await unary<IndexResponse>((cb) => client.index(indexRequestOf(options), connection.metadata(), cb));
    if (response.created) notice(`created index ${options.index}`);
  }
  const info = await unary<GetIndexResponse>((cb) => client.getIndex({ indexName: options.index }, connection.metadata(), cb));
  const kinds = fieldKinds(info.index);

  const summary: LoadSummary = {
    index: options.index,
    file: options.file,
    accepted: resumed?.accepted ?? 0,
    rejected: resumed?.rejected ?? 0,
    skipped: 0,
    rejections: [],
    seconds: 0,
    itemsPerSecond: 0,
    ...(resumed !== undefined && { resumedAfterLine: resumed.line }),
  };
  /**
   * Rows this run rejected itself (unreadable, or not convertible), counted as they are read, which runs
   * ahead of the acknowledgements: a checkpoint counts those up to its line only (each message carries
   * the count as of its last line), so that a resumed run, which reads the lines after it again, does
   * not count them twice.
   */
  let rejectedHere = 0;
  /** The rejections of the earlier runs, and the server's ones acknowledged in this run. */
  let rejectedAcknowledged = resumed?.rejected ?? 0;
  const reject = (line: number, reason: string, id?: string): void => {
    summary.rejected++;
    if (summary.rejections.length < MAX_REPORTED) summary.rejections.push(id === undefined ? { line, reason } : { line, id, reason });
    report(line, reason, id);
  };

  let bytesRead = 0;
  const progress = startProgress(stat.size, "items");
  const started = performance.now();
  let loadedNow = 0;
  const readOptions: ReadOptions = {
    format,
    idColumn: options.idColumn,
    vectorColumn: options.vectorColumn,
    ...(options.ids !== undefined && { idsFile: options.ids }),
    onBytes: (bytes) => {
      bytesRead = bytes;
    },
  };

  const call: ClientDuplexStream<UpsertStreamRequest, UpsertStreamResponse> = client.upsertStream(connection.metadata());
  /**
   * Messages sent and not yet acknowledged: the line of each item, the last line covered, and how many
   * rows this run had rejected itself up to that line.
   */
  const inFlight: { lines: number[]; ids: string[]; lastLine: number; rejectedHere: number }[] = [];
  let checkpointLine = resumed?.line ?? 0;
  let failure: Error | undefined;
  let checkpointFailure: unknown;
  const finished = new Promise<void>((resolve) => {
    call.on("data", (ack: UpsertStreamResponse) => {
      const message = inFlight.shift();
      if (message === undefined) return;
      summary.accepted += ack.acceptedCount;
      loadedNow += ack.acceptedCount;
      rejectedAcknowledged += ack.rejected.length;
      for (const r of ack.rejected) reject(message.lines[r.indexInMessage] ?? 0, r.reason, r.id);
      try {
        writeCheckpoint(checkpointFile, { ...identity, line: message.lastLine, accepted: summary.accepted, rejected: rejectedAcknowledged + message.rejectedHere });
        checkpointLine = message.lastLine;
      } catch (error) {
        // The disk filled up, the folder went away: stop rather than load on without a way to resume.
        checkpointFailure ??= error;
        call.cancel();
      }
      progress.update(bytesRead, loadedNow);
    });
    call.on("error", (error: Error) => {
      failure = error;
      resolve();
    });
    call.on("end", () => resolve());
  });

  let batch: Item[] = [];
  let lines: number[] = [];
  let lastLine = checkpointLine;
  const send = async (): Promise<void> => {
    inFlight.push({ lines, ids: batch.map((i) => i.id), lastLine, rejectedHere });
    const ready = call.write({ indexName: options.index, items: batch, durability: undefined });
    batch = [];
    lines = [];
    if (!ready && failure === undefined) await Promise.race([once(call, "drain"), finished]);
  };
  // Ctrl-C: the call is cancelled at once; what was acknowledged is in the checkpoint.
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
    call.cancel();
  };
  if (options.signal?.aborted === true) interrupt();
  else options.signal?.addEventListener("abort", interrupt, { once: true });
  let readFailure: unknown;
  try {
    for await (const row of readRows(options.file, readOptions)) {
      if (failure !== undefined || interrupted) break;
      if (resumed !== undefined && row.line <= resumed.line) {
        summary.skipped++;
        continue;
      }
      lastLine = row.line;
      if ("error" in row) {
        rejectedHere++;
        reject(row.line, row.error);
        continue;
      }
      try {
        batch.push(toProtoItem(row, kinds));
        lines.push(row.line);
      } catch (error) {
        rejectedHere++;
        reject(row.line, error instanceof Error ? error.message : String(error), typeof row.id === "string" ? row.id : undefined);
        continue;
      }
      if (batch.length >= options.batch) await send();
    }
    if (batch.length > 0 && failure === undefined && !interrupted) await send();
  } catch (error) {
    // The file cannot be read on (a gzip stream cut short, a .npy whose ids do not match, the disk):
    // what was sent is still acknowledged and checkpointed before the load fails.
    readFailure = error;
  }
  if (!interrupted) call.end();
  // Interruptible until the last acknowledgement: the reading may be over long before.
  await finished;
  options.signal?.removeEventListener("abort", interrupt);
  progress.stop();
  summary.seconds = (performance.now() - started) / 1000;
  summary.itemsPerSecond = summary.seconds > 0 ? Math.round(loadedNow / summary.seconds) : 0;
  const stored = `everything up to line ${checkpointLine} is stored`;
  if (checkpointFailure !== undefined) {
    throw Object.assign(new CliError(`cannot write the checkpoint ${checkpointFile}: ${reasonOf(checkpointFailure)}`), {
      resumeNote: `${stored} (the checkpoint says so); make room or set --checkpoint, then run the same command again to resume`,
    });
  }
  const resumeNote = `${stored}; run the same command again to resume`;
  if (interrupted) throw Object.assign(new CliError("interrupted", 130), { resumeNote });
  if (readFailure !== undefined) {
    throw Object.assign(new CliError(`cannot read ${options.file}: ${reasonOf(readFailure)}`), { resumeNote });
  }
  if (failure !== undefined) throw Object.assign(failure, { resumeNote });
  rmSync(checkpointFile, { force: true });
  return summary;
}
