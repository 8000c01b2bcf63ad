/**
 * Per-shard figures for the benchmark: each primary's used memory (INFO memory) and key count (DBSIZE),
 * read through node-redis directly (on a cluster, every primary the cluster client discovers; on a
 * standalone server, that server). Deltas between two readings give bytes per stored item per shard.
 */
import { createClient, createCluster } from "redis";

export interface ShardReading {
  /** host:port */
  readonly node: string;
  readonly usedMemory: number;
  readonly keys: number;
}

/** INFO's text: a string, or a verbatim string node-redis may wrap. */
function textOf(reply: unknown): string {
  if (typeof reply === "string") return reply;
  if (Buffer.isBuffer(reply)) return reply.toString("utf8");
  if (reply instanceof String) return reply.valueOf();
  throw new TypeError("INFO did not answer text");
}

function field(info: string, name: string): number {
  const match = new RegExp(`^${name}:(\\d+)`, "m").exec(info);
  return match === null ? 0 : Number(match[1]);
}

/** Reads every primary once; [] when the server does not answer INFO (the test stand-in). */
export async function readShards(url: string): Promise<ShardReading[]> {
  try {
    return await readShardsOrThrow(url);
  } catch {
    return [];
  }
}

async function readShardsOrThrow(url: string): Promise<ShardReading[]> {
  const probe = createClient({ url });
  probe.on("error", () => undefined);
  await probe.connect();
  try {
    const clusterInfo = textOf(await probe.sendCommand(["INFO", "cluster"]));
    if (!/^cluster_enabled:1/m.test(clusterInfo)) {
      const info = textOf(await probe.sendCommand(["INFO", "memory"]));
      const keys = Number(await probe.sendCommand(["DBSIZE"]));
      const { host, port } = new URL(url);
      return [{ node: `${host}:${port || "6379"}`, usedMemory: field(info, "used_memory"), keys }];
    }
  } finally {
    probe.destroy();
  }
  const cluster = createCluster({ rootNodes: [{ url }] });
  cluster.on("error", () => undefined);
  await cluster.connect();
  try {
    const readings: ShardReading[] = [];
    for (const master of cluster.masters) {
      const client = await cluster.nodeClient(master);
      const info = textOf(await client.sendCommand(["INFO", "memory"]));
      const keys = Number(await client.sendCommand(["DBSIZE"]));
      readings.push({ node: `${master.host}:${master.port}`, usedMemory: field(info, "used_memory"), keys });
    }
    return readings.sort((a, b) => (a.node < b.node ? -1 : 1));
  } finally {
    await cluster.close();
  }
}
