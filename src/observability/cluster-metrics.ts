/**
 * `/metrics` of the `--workers` primary: every serving worker's metrics, merged as one server's.
 *
 * prom-client's AggregatorRegistry.clusterMetrics() asks every forked worker and fails the whole scrape
 * when one does not answer within 5 s, which a worker being started or replaced never does (it answers
 * once its registry exists): every scrape during a replacement or the startup answered 500. And the sums
 * of counters went down when a worker was replaced (its counts left with it), which Prometheus reads as
 * a counter reset, so rate() and increase() over-counted. Here, over the same IPC messages the workers
 * answer (prom-client's, so the workers keep using AggregatorRegistry):
 * - only workers that said they serve are asked, each bounded by `timeoutMs`; one that does not answer
 *   in time counts with its counters and histograms as of its last answer (its gauges left out);
 * - a worker that exits leaves its counters and histograms as of its last answer in a retired sum,
 *   added to every later scrape, so that what the port counted never goes down (what it counted after
 *   its last scrape is lost with it);
 * - the merge is prom-client's own (AggregatorRegistry.aggregate: each metric by its `aggregator`).
 * The primary must not construct an AggregatorRegistry itself: its listener would take these answers
 * for its own requests.
 */
import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, Registry } from "prom-client";

type MetricsJson = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>;

/** prom-client's cluster messages (lib/cluster.js): what a worker's AggregatorRegistry answers. */
const GET_METRICS_REQ = "prom-client:getMetricsReq";
const GET_METRICS_RES = "prom-client:getMetricsRes";

interface MetricsResponse {
  readonly type: typeof GET_METRICS_RES;
  readonly requestId: number;
  readonly metrics?: MetricsJson[];
  readonly error?: string;
}

function isMetricsResponse(message: unknown): message is MetricsResponse {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === GET_METRICS_RES;
}

/** The metrics of a worker kept after it stops answering: counters and histograms, which only grow. */
function cumulative(metrics: MetricsJson): MetricsJson {
  return metrics.filter((metric) => {
    const type = String(metric.type);
    return (type === "counter" || type === "histogram") && (metric.aggregator === undefined || metric.aggregator === "sum");
  });
}

export const DEFAULT_WORKER_METRICS_TIMEOUT_MS = 2_000;

export class ClusterMetrics {
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;
  readonly #serving: (worker: Worker) => boolean;
  readonly #timeoutMs: number;
  /** Each worker's last answer (worker id -> metrics). */
  readonly #last = new Map<number, MetricsJson>();
  /** The counters and histograms of the workers that exited, summed. */
  #retired: MetricsJson = [];
  #nextRequest = 0;
  readonly #pending = new Map<number, (worker: Worker, metrics: MetricsJson | undefined) => void>();
  readonly #onMessage = (worker: Worker, message: unknown): void => {
    if (isMetricsResponse(message)) this.#pending.get(message.requestId)?.(worker, message.error === undefined ? message.metrics?.flat() : undefined);
  };
  readonly #onExit = (worker: Worker): void => {
    void this.#retire(worker);
  };
  #retiring: Promise<void> = Promise.resolve();

  /** `serving`: whether a worker has said it serves (asked only then). */
  constructor(options: { serving: (worker: Worker) => boolean; timeoutMs?: number }) {
    this.#serving = options.serving;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_WORKER_METRICS_TIMEOUT_MS;
    cluster.on("message", this.#onMessage);
    cluster.on("exit", this.#onExit);
  }

  /** The merged metrics in the text exposition format. */
  async metrics(): Promise<string> {
    await this.#retiring;
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected() && this.#serving(worker));
    const answers = await this.#ask(workers);
    const parts: MetricsJson[] = [this.#retired];
    for (const worker of workers) {
      const fresh = answers.get(worker.id);
      if (fresh !== undefined) {
        this.#last.set(worker.id, fresh);
        parts.push(fresh);
      } else {
        const last = this.#last.get(worker.id);
        if (last !== undefined) parts.push(cumulative(last));
      }
    }
    return await AggregatorRegistry.aggregate(parts).metrics();
  }

  close(): void {
    cluster.off("message", this.#onMessage);
    cluster.off("exit", this.#onExit);
  }

  /** Asks each worker once; resolves with the answers that came within the timeout. */
  #ask(workers: readonly Worker[]): Promise<Map<number, MetricsJson>> {
    const answers = new Map<number, MetricsJson>();
    if (workers.length === 0) return Promise.resolve(answers);
    const requestId = this.#nextRequest++;
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.#pending.delete(requestId);
        resolve(answers);
      };
      const timer = setTimeout(finish, this.#timeoutMs);
      let waiting = workers.length;
      this.#pending.set(requestId, (worker, metrics) => {
        if (metrics !== undefined) answers.set(worker.id, metrics);
        if (--waiting === 0) finish();
      });
      for (const worker of workers) {
        worker.send({ type: GET_METRICS_REQ, requestId }, (error: Error | null) => {
          // Gone meanwhile: nothing will come from it.
          if (error !== null) this.#pending.get(requestId)?.(worker, undefined);
        });
      }
    });
  }

  /** Adds what `worker` had counted, as of its last answer, to the retired sum. */
  async #retire(worker: Worker): Promise<void> {
    const last = this.#last.get(worker.id);
    this.#last.delete(worker.id);
    if (last === undefined) return;
    const before = this.#retiring;
    this.#retiring = (async () => {
      await before;
      this.#retired = await AggregatorRegistry.aggregate([this.#retired, cumulative(last)]).getMetricsAsJSON();
    })();
    await this.#retiring;
  }
}
