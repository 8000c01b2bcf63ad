/**
 * UpsertStream: items arrive in messages for one index; each message's items are validated one by one
 * (bad items are rejected with their reasons, the rest written) and the message is acknowledged once
 * written. Writes overlap: up to WRITES_IN_FLIGHT messages are being written at once (on Redis the
 * next message's commands are already on their way while Redis executes the ones before, so Redis never
 * waits for vecrec between messages), and the next message is read and validated meanwhile, no further:
 * a stream holds at most WRITES_IN_FLIGHT + 1 messages here, whatever the client sends, since the source
 * is only pulled when this generator is ready for it. Acknowledgements stay in message order. Writes of
 * one id in two messages land in order: each store applies one call's writes after the earlier call's
 * (one connection per Redis node, commands in order; the embedded store's write path in call order).
 */
import type { Durability } from "../domain/durability.js";
import { IndexNotFoundError, throwIfAborted, throwIfViolations } from "../domain/errors.js";
import { MAX_BATCH_ITEMS, type Item } from "../domain/item.js";
import { indexNameViolations } from "../domain/request-limits.js";
import type { VectorStore } from "../store/vector-store.js";
import { lookUpIndexSpec } from "./index-spec-lookup.js";
import { validateStreamItems, type ItemInput, type RejectedItem } from "./items.js";

/** One request message of the stream, as the transport decoded it. */
export interface UpsertStreamMessage {
  /** Required in the first message; later ones: empty or the same name. */
  readonly indexName: string;
  readonly items: readonly ItemInput[];
  readonly durability?: Durability;
}

/** The acknowledgement of one message: its accepted items are written. */
export interface UpsertStreamAck {
  readonly messageIndex: number;
  readonly acceptedCount: number;
  /** `position` counts items across the whole stream. */
  readonly rejected: readonly (RejectedItem & { readonly position: number })[];
  readonly totalAccepted: number;
  readonly totalRejected: number;
}

/** Messages being written at once. */
export const WRITES_IN_FLIGHT = 2;

/**
 * An acknowledgement echoes each rejected item's id and reason, within bounds, so that it stays well
 * under the 4 MiB a gRPC client receives by default whatever the message held (10,000 items with long
 * ids and several problems each made 4.4 MB): an id is echoed up to ECHOED_ID_CHARS characters, a
 * reason up to REASON_CHARS, and once ACK_TEXT_BUDGET bytes of ids and reasons are listed, the
 * further rejected items carry their positions only.
 */
export const ECHOED_ID_CHARS = 256;
export const REASON_CHARS = 1_000;
export const ACK_TEXT_BUDGET = 1024 * 1024;

function clip(text: string, chars: number): string {
  if (text.length <= chars) return text;
  // Not between the two halves of a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(text.charAt(chars - 2)) ? chars - 2 : chars - 1;
  return `${text.slice(0, end)}…`;
}

/** One message's rejections as acknowledged: positions in the stream, ids and reasons bounded (see above). */
function boundedRejections(rejected: readonly RejectedItem[], first: number): (RejectedItem & { position: number })[] {
  let budget = ACK_TEXT_BUDGET;
  return rejected.map((r) => {
    if (budget <= 0) return { index: r.index, id: "", reason: "", position: first + r.index };
    const id = clip(r.id, ECHOED_ID_CHARS);
    const reason = clip(r.reason, REASON_CHARS);
    budget -= Buffer.byteLength(id) + Buffer.byteLength(reason);
    return { index: r.index, id, reason, position: first + r.index };
  });
}

/** Which of two promises settles first (fulfilled or rejected alike); "first" when both already have. */
function firstSettled(first: Promise<unknown>, second: Promise<unknown>): Promise<"first" | "second"> {
  const settled = (which: "first" | "second") => () => which;
  return Promise.race([first.then(settled("first"), settled("first")), second.then(settled("second"), settled("second"))]);
}

interface Prepared {
  readonly items: Item[];
  readonly rejected: (RejectedItem & { position: number })[];
  readonly durability?: Durability;
}

/**
 * Runs one UpsertStream: yields one acknowledgement per message, in order, each after its items are
 * written. Throws (ending the stream) on a message-level problem: InvalidArgumentError (index name
 * missing or changed, more than MAX_BATCH_ITEMS items), IndexNotFoundError, or the store's error while
 * writing (then that message is not acknowledged; earlier ones are written).
 */
export async function* runUpsertStream(
  store: VectorStore,
  messages: AsyncIterable<UpsertStreamMessage>,
  signal: AbortSignal,
): AsyncGenerator<UpsertStreamAck, void, undefined> {
  const source = messages[Symbol.asyncIterator]();
  let indexName: string | undefined;
  /** The index's own name, once the first message resolved `indexName` (which may be an alias). */
  let target: string | undefined;
  let position = 0;
  let messageIndex = 0;
  let totalAccepted = 0;
  let totalRejected = 0;

  async function prepareNext(): Promise<Prepared | undefined> {
    const next = await source.next();
    if (next.done === true) return undefined;
    const message = next.value;
    if (indexName === undefined) {
      throwIfViolations(indexNameViolations(message.indexName));
      indexName = message.indexName;
    } else if (message.indexName !== "" && message.indexName !== indexName) {
      throwIfViolations([
        { field: "index_name", description: `one stream writes to one index: "${message.indexName}" after "${indexName}"` },
      ]);
    }
    if (message.items.length > MAX_BATCH_ITEMS) {
      throwIfViolations([{ field: "items", description: `must hold at most ${MAX_BATCH_ITEMS} elements per message (got ${message.items.length})` }]);
    }
    // An alias is resolved once, by the first message's lookup: the whole stream writes to that index.
    const spec = await lookUpIndexSpec(store, target ?? indexName, signal);
    if (spec === undefined) throw new IndexNotFoundError(indexName);
    target = spec.name;
    const { items, rejected } = validateStreamItems(message.items, spec);
    const first = position;
    position += message.items.length;
    return { items, rejected: boundedRejections(rejected, first), durability: message.durability };
  }

  let pending = prepareNext();
  const writing: { readonly prepared: Prepared; readonly written: Promise<void> }[] = [];
  const acknowledge = async (): Promise<UpsertStreamAck> => {
    const { prepared, written } = writing.shift() as (typeof writing)[number];
    await written;
    totalAccepted += prepared.items.length;
    totalRejected += prepared.rejected.length;
    return {
      messageIndex: messageIndex++,
      acceptedCount: prepared.items.length,
      rejected: prepared.rejected,
      totalAccepted,
      totalRejected,
    };
  };
  try {
    for (;;) {
      // While the next message is awaited, each write that finishes is acknowledged at once: a client
      // may wait for an acknowledgement before it sends the next message.
      while (writing.length > 0 && (await firstSettled(pending, (writing[0] as (typeof writing)[number]).written)) === "second") {
        yield await acknowledge();
      }
      let prepared: Prepared | undefined;
      try {
        prepared = await pending;
      } catch (error) {
        // A bad next message ends the stream, after the messages already being written are acknowledged.
        while (writing.length > 0) yield await acknowledge();
        throw error;
      }
      if (prepared === undefined) break;
      throwIfAborted(signal);
      const written =
        prepared.items.length === 0
          ? Promise.resolve()
          : store.upsert(target ?? (indexName as string), prepared.items, { signal, durability: prepared.durability });
      written.catch(() => undefined); // its failure is thrown when it is acknowledged
      writing.push({ prepared, written });
      // Read and validate the next message while these are written (and no further).
      pending = prepareNext();
      pending.catch(() => undefined); // its failure is thrown when it is awaited
      if (writing.length >= WRITES_IN_FLIGHT) yield await acknowledge();
    }
    while (writing.length > 0) yield await acknowledge();
  } finally {
    // A failed write ends the stream while the next message may still be written: the call answers only
    // once nothing it sent is in flight (that write stands or fails whole per item, unacknowledged).
    await Promise.allSettled(writing.map((w) => w.written));
    // The source is the call's messages: stop reading them (not awaited: a read may be waiting on the client).
    source.return?.(undefined).catch(() => undefined);
  }
}
