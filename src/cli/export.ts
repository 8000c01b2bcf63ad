/**
 * `vecrec export INDEX [FILE]`: every item of the index (or those matching --filter), in id order, as
 * the JSON Lines `vecrec load` reads (gzip when FILE ends in .gz; stdout without FILE). Resumable with
 * --after ID (the last id written), which appends to FILE.
 */
import type { ClientReadableStream } from "@grpc/grpc-js";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { ExportItemsResponse, GetIndexResponse } from "../gen/vecrec/v1/vecrec.js";
import { unary, type Connection } from "./connection.js";
import { itemToJson } from "./item-json.js";
import { startProgress } from "./progress.js";

export interface ExportOptions {
  readonly index: string;
  readonly file?: string;
  readonly filter?: string;
  readonly after?: string;
}

export interface ExportSummary {
  index: string;
  file: string;
  exported: number;
  lastId?: string;
  seconds: number;
}

export async function exportIndex(connection: Connection, options: ExportOptions): Promise<ExportSummary> {
  const { client } = connection;
  const info = await unary<GetIndexResponse>((cb) => client.getIndex({ indexName: options.index }, connection.metadata(), cb));
  const total = Number(info.index?.itemCount ?? 0);
  let sink: Writable = process.stdout;
  let file: Writable | undefined;
  if (options.file !== undefined) {
    // Resuming (--after) adds to what the run that stopped wrote (a .gz gets a second gzip member,
    // which gunzip and `vecrec load` read on from the first).
    file = createWriteStream(options.file, { flags: options.after === undefined ? "w" : "a" });
    sink = options.file.toLowerCase().endsWith(".gz") ? createGzip() : file;
    if (sink !== file) sink.pipe(file);
  }
  // The index's item count is the total only of a whole export; a filtered or resumed one shows its
  // count and rate alone.
  const whole = options.filter === undefined && options.after === undefined;
  const progress = startProgress(whole ? total : undefined, "items", process.stderr.isTTY === true && options.file !== undefined);
  const started = performance.now();
  const summary: ExportSummary = { index: options.index, file: options.file ?? "-", exported: 0, seconds: 0 };
  const call: ClientReadableStream<ExportItemsResponse> = client.exportItems(
    { indexName: options.index, afterId: options.after ?? "", filter: undefined, filterQuery: options.filter ?? "" },
    connection.metadata(),
  );
  try {
    for await (const message of call as AsyncIterable<ExportItemsResponse>) {
      if (message.item === undefined) continue;
      if (!sink.write(`${itemToJson(message.item)}\n`)) await once(sink, "drain");
      summary.exported++;
      summary.lastId = message.item.id;
      if (summary.exported % 1000 === 0) progress.update(summary.exported, summary.exported);
    }
  } catch (error) {
    progress.stop();
    const resume = summary.lastId === undefined ? "" : `; resume with --after ${JSON.stringify(summary.lastId)}`;
    throw Object.assign(error as Error, { resumeNote: `${summary.exported} items written${resume}` });
  } finally {
    if (sink !== process.stdout) {
      sink.end();
      await finished(file ?? sink);
    }
  }
  progress.stop();
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}
