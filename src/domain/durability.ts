/**
 * How durable a write must be before it is acknowledged (the server default `--redis-durability`, or
 * a write request's own `durability`):
 * - `none`: applied by Redis (in memory); as durable as Redis's own fsync policy (AOF everysec can lose
 *   about a second of acknowledged writes on a crash or power loss, more under load).
 * - `local`: also written and fsynced to the append-only file of each primary that received the
 *   call's writes (`WAITAOF 1 0`). Needs `appendonly yes`.
 * - `replicas`: fsynced to the append-only file of each of those primaries and of at least one of its
 *   replicas (`WAITAOF 1 1`). Needs `appendonly yes` on the primaries and their replicas.
 */
export const DURABILITIES = ["none", "local", "replicas"] as const;
export type Durability = (typeof DURABILITIES)[number];
