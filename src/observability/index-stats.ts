/**
 * Per-index figures for a scrape, cheaply: the store's listIndexes (on Redis FT._LIST + one FT.INFO per
 * index) runs at most once per `cacheMs` whatever the number of gauges or scrapers, and a scrape waits at
 * most `timeoutMs` for it: a slow or unreachable Redis cannot hang /metrics, which then shows the last
 * figures known (and vecrec_index_stats_fresh 0).
 */
import type { IndexInfo } from "../domain/schema.js";

export class IndexStats {
  readonly #list: () => Promise<IndexInfo[]>;
  readonly #cacheMs: number;
  readonly #timeoutMs: number;
  #infos: IndexInfo[] = [];
  #readAt = -Infinity;
  #pending: Promise<void> | undefined;
  #ok = false;

  constructor(list: () => Promise<IndexInfo[]>, cacheMs: number, timeoutMs: number) {
    this.#list = list;
    this.#cacheMs = cacheMs;
    this.#timeoutMs = timeoutMs;
  }

  /** Whether the last read() returned figures the store gave within the timeout (not the last known). */
  fresh(): boolean {
    return this.#ok;
  }

  /** The figures: fresh ones when the store answers within the timeout, else the last known. */
  async read(): Promise<IndexInfo[]> {
    if (this.#ok && performance.now() - this.#readAt < this.#cacheMs) return this.#infos;
    this.#pending ??= this.#list()
      .then(
        (infos) => {
          this.#infos = infos;
          this.#readAt = performance.now();
        },
        () => {
          this.#readAt = -Infinity; // unavailable: keep the last figures; fresh() says they are old
        },
      )
      .finally(() => (this.#pending = undefined));
    let timer: NodeJS.Timeout | undefined;
    const readAt = this.#readAt;
    await Promise.race([this.#pending, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#timeoutMs)))]);
    clearTimeout(timer);
    this.#ok = this.#readAt !== readAt && this.#readAt !== -Infinity;
    return this.#infos;
  }
}
