/**
 * Tokens with roles, seen from an independent client (Connect for Node, not grpc-js), over mutual
 * TLS and over TLS: every RPC answers with the role it needs, is PERMISSION_DENIED (naming the role)
 * with a weaker one and UNAUTHENTICATED without a token or with an unknown one; health needs no
 * token; reflection follows --reflection; the tokens file is re-read when it changes.
 */
import type { JsonValue } from "@bufbuild/protobuf";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, credentials, Metadata, status as GrpcStatus } from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VECTOR_SERVICE_ROLES, type Role } from "../../src/grpc/auth-roles.js";
import { startServer, type RunningServer } from "../../src/main.js";
import { createEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { Code, connectCaller, VECTOR_SERVICE, type ConnectCaller, type ConnectTarget } from "../support/connect-client.js";
import { createAuthority, type Authority, type Pem } from "../support/test-certificates.js";

const logger = pino({ level: process.env.VECREC_TEST_LOG_LEVEL ?? "silent" });

const TOKENS: Record<Role, string> = {
  read: "read-token-0123456789abcdef",
  write: "write-token-0123456789abcdef",
  admin: "admin-token-0123456789abcdef",
};
const TOKENS_FILE_TEXT = `# vecrec tokens: <token> <role>\n\n${TOKENS.read} read\n${TOKENS.write}\twrite\n  ${TOKENS.admin}   admin\n`;

const vector = (values: number[]): JsonValue => ({ float32Values: { values } });

/** Every VectorService RPC in an order where each succeeds, with the role it needs. */
const CALLS: readonly { method: string; role: Role; request: JsonValue }[] = [
  { method: "Index", role: "admin", request: { indexName: "sec", defaultVectorDimension: 3, interests: { categoryNames: ["books", "comics", "computers"] } } },
  { method: "GetIndex", role: "read", request: { indexName: "sec" } },
  { method: "ListIndexes", role: "read", request: {} },
  {
    method: "Upsert",
    role: "write",
    request: {
      indexName: "sec",
      items: [
        { id: "user:1", vector: vector([0.9, 0.7, 0.2]) },
        { id: "user:2", vector: vector([0.8, 0.6, 0.1]) },
      ],
    },
  },
  { method: "UpsertStream", role: "write", request: { indexName: "sec", items: [{ id: "user:3", vector: vector([0.1, 0.2, 0.9]) }] } },
  { method: "UpdateItems", role: "write", request: { indexName: "sec", updates: [{ id: "user:1", removeFields: ["labels"] }] } },
  { method: "GetItems", role: "read", request: { indexName: "sec", ids: ["user:1"] } },
  { method: "Search", role: "read", request: { indexName: "sec", vector: vector([0.9, 0.7, 0.2]), k: 2 } },
  { method: "ExportItems", role: "read", request: { indexName: "sec" } },
  {
    method: "RecordInteractions",
    role: "write",
    request: { indexName: "sec", interactions: [{ userId: "user:2", itemId: "book:dune", kind: "INTERACTION_KIND_PURCHASE" }] },
  },
  { method: "GetInteractions", role: "read", request: { indexName: "sec", userId: "user:2" } },
  { method: "Recommend", role: "read", request: { indexName: "sec", userId: "user:1", neighborCount: 5, limit: 5 } },
  { method: "UpdateInterests", role: "admin", request: { indexName: "sec", interests: { categoryNames: ["books", "comics", "computers"], threshold: 0.5 } } },
  { method: "DeleteItems", role: "write", request: { indexName: "sec", ids: ["user:2"] } },
  { method: "CreateAlias", role: "admin", request: { alias: "sec_live", indexName: "sec" } },
  { method: "UpdateAlias", role: "admin", request: { alias: "sec_live", indexName: "sec" } },
  { method: "DeleteAlias", role: "admin", request: { alias: "sec_live" } },
  { method: "DropIndex", role: "admin", request: { indexName: "sec", deleteItems: true } },
];

const WEAKER: Record<Role, Role | undefined> = { read: undefined, write: "read", admin: "write" };
const STRONGER: Record<Role, Role | undefined> = { read: "write", write: "admin", admin: undefined };

interface Setup {
  readonly dir: string;
  readonly ca: Authority;
  readonly client: Pem;
  readonly server: RunningServer;
  readonly close: () => Promise<void>;
}

async function setUp(options: { mutual: boolean; reflection?: "on" | "off" | "auth" }): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), "vecrec-auth-"));
  const ca = await createAuthority("vecrec test CA");
  const serverPem = await ca.issue("vecrec server", "server");
  const client = await ca.issue("recommender", "client");
  writeFileSync(join(dir, "server.pem"), serverPem.cert);
  writeFileSync(join(dir, "server.key"), serverPem.key);
  writeFileSync(join(dir, "ca.pem"), ca.cert);
  writeFileSync(join(dir, "tokens"), TOKENS_FILE_TEXT);
  const store = createEmbeddedStore();
  const server = await startServer({
    store,
    listen: "127.0.0.1:0",
    logger,
    security: {
      tls: { certFile: join(dir, "server.pem"), keyFile: join(dir, "server.key"), clientCaFile: options.mutual ? join(dir, "ca.pem") : undefined },
      authTokensFile: join(dir, "tokens"),
      reflection: options.reflection,
    },
    filePollMs: 50,
  });
  return {
    dir,
    ca,
    client,
    server,
    async close() {
      for (const [key, caller] of callers) {
        if (key.startsWith(`${server.port}|`)) caller.close();
        if (key.startsWith(`${server.port}|`)) callers.delete(key);
      }
      await server.close({ graceMs: 1_000 });
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function target(setup: Setup, token: string | undefined, mutual: boolean): ConnectTarget {
  return {
    port: setup.server.port,
    tls: { ca: setup.ca.cert, ...(mutual ? setup.client : {}) },
    ...(token === undefined ? {} : { token }),
  };
}

/** One Connect client (one HTTP/2 session) per server, token and service, reused across calls. */
const callers = new Map<string, ConnectCaller>();

function call(to: ConnectTarget, method: string, request: JsonValue, service?: string) {
  const key = `${to.port}|${to.token ?? "-"}|${to.tls?.cert === undefined ? "tls" : "mtls"}|${service ?? ""}`;
  let caller = callers.get(key);
  if (caller === undefined) {
    caller = connectCaller(to, service);
    callers.set(key, caller);
  }
  return caller.call(method, request);
}

describe("tokens with roles over mutual TLS (Connect client)", () => {
  let setup: Setup;
  beforeAll(async () => (setup = await setUp({ mutual: true })));
  afterAll(() => setup?.close());

  it("the e2e calls cover every VectorService RPC, with the role of the table", () => {
    expect(CALLS.map((c) => c.method).sort()).toEqual(Object.keys(VECTOR_SERVICE_ROLES).sort());
    for (const c of CALLS) expect(VECTOR_SERVICE_ROLES[c.method], c.method).toBe(c.role);
  });

  it("serves every RPC with the role it needs, and refuses it with the weaker role, without a token or with an unknown one", async () => {
    for (const { method, role, request } of CALLS) {
      const weaker = WEAKER[role];
      if (weaker !== undefined) {
        const denied = await call(target(setup, TOKENS[weaker], true), method, request);
        expect(denied.code, `${method} with a ${weaker} token: ${denied.message}`).toBe(Code.PermissionDenied);
        expect(denied.message).toBe(`${method} needs the "${role}" role (or a stronger one); this token has "${weaker}"`);
      }
      const missing = await call(target(setup, undefined, true), method, request);
      expect(missing.code, `${method} without a token`).toBe(Code.Unauthenticated);
      expect(missing.message).toMatch(/needs a token: send the header "authorization: Bearer <token>"/);
      const unknown = await call(target(setup, "not-a-known-token-at-all", true), method, request);
      expect(unknown.code, `${method} with an unknown token`).toBe(Code.Unauthenticated);
      expect(unknown.message).toBe("unknown token");
      const served = await call(target(setup, TOKENS[role], true), method, request);
      expect(served.code, `${method} with a ${role} token: ${served.message}`).toBe("OK");
      // A stronger role may do what a weaker one may (reads and writes are repeatable).
      const stronger = STRONGER[role];
      if (stronger !== undefined) {
        const again = await call(target(setup, TOKENS[stronger], true), method, request);
        expect(again.code, `${method} with a ${stronger} token: ${again.message}`).toBe("OK");
      }
    }
  });

  it("refuses every RPC of the descriptor without a token, including ones this test does not know", async () => {
    for (const method of VECTOR_SERVICE.methods) {
      const result = await call(target(setup, undefined, true), method.name, {});
      expect(result.code, method.name).toBe(Code.Unauthenticated);
    }
  });

  it("answers health without a token", async () => {
    const result = await call(target(setup, undefined, true), "Check", { service: "vecrec.v1.VectorService" }, "grpc.health.v1.Health");
    expect(result).toMatchObject({ code: "OK", answers: [{ status: 1 }] });
  });

  it("re-reads the tokens file when it changes: a new token works, a removed one is refused", async () => {
    const added = "rotated-token-0123456789abcdef";
    writeFileSync(join(setup.dir, "tokens"), `${added} read\n${TOKENS.admin} admin\n`);
    const until = Date.now() + 5_000;
    while ((await call(target(setup, added, true), "ListIndexes", {})).code !== "OK") {
      if (Date.now() > until) throw new Error("the new token was not picked up");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await call(target(setup, TOKENS.read, true), "ListIndexes", {})).code).toBe(Code.Unauthenticated);
    // A broken file keeps the tokens in force.
    writeFileSync(join(setup.dir, "tokens"), `${added} superuser\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await call(target(setup, added, true), "ListIndexes", {})).code).toBe("OK");
    writeFileSync(join(setup.dir, "tokens"), TOKENS_FILE_TEXT);
    setup.server.reload();
    expect((await call(target(setup, TOKENS.read, true), "ListIndexes", {})).code).toBe("OK");
  });
});

/**
 * One reflection request (list_services) with grpc-js over TLS: the descriptor set the Connect client
 * reads holds vecrec's services only. Resolves with the status code.
 */
function reflectionCode(setup: Setup, token: string | undefined): Promise<number> {
  const client = new Client(`127.0.0.1:${setup.server.port}`, credentials.createSsl(Buffer.from(setup.ca.cert)), {
    "grpc.ssl_target_name_override": "localhost",
  });
  const metadata = new Metadata();
  if (token !== undefined) metadata.set("authorization", `Bearer ${token}`);
  return new Promise<number>((resolve) => {
    const stream = client.makeBidiStreamRequest<Buffer, Buffer>(
      "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
      (message) => message,
      (bytes) => bytes,
      metadata,
      { deadline: Date.now() + 5_000 },
    );
    stream.on("data", () => undefined);
    stream.on("status", (status: { code: number }) => {
      client.close();
      resolve(status.code);
    });
    stream.on("error", () => undefined);
    // ServerReflectionRequest { list_services: "" }: field 7, length-delimited, empty.
    stream.write(Buffer.from([0x3a, 0x00]));
    stream.end();
  });
}

describe("tokens over TLS, and reflection", () => {
  it("serves over TLS with a token; reflection is open by default", async () => {
    const setup = await setUp({ mutual: false });
    try {
      expect((await call(target(setup, TOKENS.read, false), "ListIndexes", {})).code).toBe("OK");
      expect((await call(target(setup, undefined, false), "ListIndexes", {})).code).toBe(Code.Unauthenticated);
      expect(await reflectionCode(setup, undefined)).toBe(GrpcStatus.OK);
    } finally {
      await setup.close();
    }
  });

  it("--reflection auth needs a token (any role); --reflection off does not serve it", async () => {
    const auth = await setUp({ mutual: false, reflection: "auth" });
    try {
      expect(await reflectionCode(auth, undefined)).toBe(GrpcStatus.UNAUTHENTICATED);
      expect(await reflectionCode(auth, TOKENS.read)).toBe(GrpcStatus.OK);
    } finally {
      await auth.close();
    }
    const off = await setUp({ mutual: false, reflection: "off" });
    try {
      expect(await reflectionCode(off, TOKENS.admin)).toBe(GrpcStatus.UNIMPLEMENTED);
    } finally {
      await off.close();
    }
  });
});
