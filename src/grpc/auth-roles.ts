/**
 * Who may call what: the one table giving each RPC the role it needs. A token's role grants its own
 * RPCs and those of the weaker roles (admin > write > read). An RPC missing from the table needs
 * `admin` (default deny), and test/unit/grpc/auth-roles.test.ts fails until every VectorService
 * method has its own row: a new RPC gets a role here, deliberately.
 */

export const ROLES = ["read", "write", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Server reflection: served to anyone (`on`), not served (`off`), or to any valid token (`auth`). */
export type ReflectionMode = "on" | "off" | "auth";

const RANK: Record<Role, number> = { read: 1, write: 2, admin: 3 };

/** Whether a token of role `held` may call an RPC needing `needed`. */
export function grants(held: Role, needed: Role): boolean {
  return RANK[held] >= RANK[needed];
}

export const VECTOR_SERVICE_PATH_PREFIX = "/vecrec.v1.VectorService/";

/** The role each VectorService RPC needs (method name as in the proto). */
export const VECTOR_SERVICE_ROLES: Readonly<Record<string, Role>> = {
  // read: look at indexes, items and interactions, and query them.
  GetIndex: "read",
  ListIndexes: "read",
  GetItems: "read",
  ExportItems: "read",
  Search: "read",
  Recommend: "read",
  GetInteractions: "read",
  // write: change items and interactions inside existing indexes.
  Upsert: "write",
  DeleteItems: "write",
  RecordInteractions: "write",
  UpdateItems: "write",
  UpsertStream: "write",
  // admin: create, change and drop indexes.
  Index: "admin",
  DropIndex: "admin",
  CreateAlias: "admin",
  UpdateAlias: "admin",
  DeleteAlias: "admin",
  UpdateInterests: "admin",
};

/** Paths of gRPC health's methods start with this. */
export const HEALTH_PREFIX = "/grpc.health.v1.Health/";
const REFLECTION_PREFIXES = ["/grpc.reflection.v1.ServerReflection/", "/grpc.reflection.v1alpha.ServerReflection/"];

/** Whether `path` is a method of server reflection (v1 or v1alpha). */
export function isReflectionPath(path: string): boolean {
  return REFLECTION_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/**
 * What a call of `path` (`/package.Service/Method`) needs: `open` (no token: health, and reflection
 * when `on`), or a role. Anything not known here needs admin.
 */
export function accessNeeded(path: string, reflection: ReflectionMode): "open" | Role {
  if (path.startsWith(HEALTH_PREFIX)) return "open";
  if (isReflectionPath(path)) return reflection === "on" ? "open" : "read";
  if (path.startsWith(VECTOR_SERVICE_PATH_PREFIX)) {
    const method = path.slice(VECTOR_SERVICE_PATH_PREFIX.length);
    return Object.hasOwn(VECTOR_SERVICE_ROLES, method) ? (VECTOR_SERVICE_ROLES[method] as Role) : "admin";
  }
  return "admin";
}

/** The RPC's short name for messages: `Search` for `/vecrec.v1.VectorService/Search`. */
export function methodName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
