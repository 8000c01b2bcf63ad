/**
 * The floors' own node-redis client, configured like vecrec's (no command timeout, bulk strings as
 * Buffers, maps as Maps: src/store/redis/connection.ts), with no vecrec code between the bench and
 * Redis. On a cluster, keyless commands (FT.*) go to any primary, as vecrec sends them; keyed ones to
 * the key's primary.
 */
import { createClient, createCluster } from "redis";
import { TYPE_MAPPING, type RedisArg } from "../src/store/redis/connection.js";
import type { Reply } from "../src/store/redis/reply-parsers.js";

export interface DirectRedis {
  send(command: RedisArg[], key?: RedisArg): Promise<Reply>;
  close(): Promise<void>;
}

export async function connectDirect(url: string, cluster: boolean): Promise<DirectRedis> {
  if (cluster) {
    const client = createCluster({
      rootNodes: [{ url }],
      useReplicas: false,
      commandOptions: { timeout: 0, typeMapping: TYPE_MAPPING },
    });
    client.on("error", () => undefined);
    await client.connect();
    return {
      send: (command, key) => client.sendCommand<Reply>(key, false, command),
      close: () => client.close(),
    };
  }
  const client = createClient({ url, commandOptions: { timeout: 0, typeMapping: TYPE_MAPPING } });
  client.on("error", () => undefined);
  await client.connect();
  return {
    send: (command) => client.sendCommand<Reply>(command),
    close: () => client.close(),
  };
}
