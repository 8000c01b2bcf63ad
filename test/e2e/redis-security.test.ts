/**
 * Redis connection security: a password given apart from the URL and TLS material (CA, client
 * certificate) reach the connection, standalone and on every node of a cluster; and no URL is
 * printed with its password, however odd the password (`@`, `/`, `:`).
 */
import { once } from "node:events";
import net from "node:net";
import tls from "node:tls";
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createStore } from "../../src/store/create-store.js";
import { nodeDefaults } from "../../src/store/redis/cluster-connection.js";
import { redactUrl } from "../../src/store/redis/connection-url.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import { closedPort } from "../support/closed-port.js";
import { startRedisStandInCluster } from "../support/redis-standin/cluster.js";
import { startRedisStandIn } from "../support/redis-standin/index.js";
import { createAuthority } from "../support/test-certificates.js";

const PASSWORD = "p@ss:w/rd#LEAK";

/** A logger whose lines are kept, to look for secrets in them. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logger: pino({ level: "trace" }, stream), text: () => lines.join("") };
}

/** The password each AUTH / HELLO ... AUTH carried, per node. */
function authPasswords(log: readonly { node?: number; argv: readonly string[] }[]): Map<number, string[]> {
  const found = new Map<number, string[]>();
  for (const { node = 0, argv } of log) {
    const name = argv[0]?.toUpperCase();
    const at = name === "AUTH" ? 0 : name === "HELLO" ? argv.findIndex((a) => a.toUpperCase() === "AUTH") : -1;
    if (at < 0) continue;
    const password = argv[at + 2] ?? argv[at + 1];
    if (password !== undefined) found.set(node, [...(found.get(node) ?? []), password]);
  }
  return found;
}

describe("Redis password given apart from the URL", () => {
  it("is sent in the handshake of a standalone connection", async () => {
    const standin = await startRedisStandIn();
    const store = await createRedisStore({ url: standin.url, security: { password: PASSWORD } });
    try {
      expect(await store.listIndexes()).toEqual([]);
      expect(authPasswords(standin.commandLog.map((argv) => ({ argv }))).get(0)).toContain(PASSWORD);
    } finally {
      await store.close();
      await standin.close();
    }
  });

  it("is sent in the handshake of every node of a cluster", async () => {
    const cluster = await startRedisStandInCluster();
    const store = await createRedisStore({ url: cluster.url, security: { password: PASSWORD } });
    try {
      expect(await store.listIndexes()).toEqual([]);
      const passwords = authPasswords(cluster.commandLog);
      const nodes = new Set(cluster.commandLog.map((entry) => entry.node));
      expect(nodes.size).toBeGreaterThan(1);
      for (const node of nodes) expect(passwords.get(node), `node ${node}`).toContain(PASSWORD);
    } finally {
      await store.close();
      await cluster.close();
    }
  });

  it("the cluster's node defaults carry the password and the TLS material", () => {
    const material = { password: PASSWORD, tlsCa: Buffer.from("ca"), tlsCert: Buffer.from("cert"), tlsKey: Buffer.from("key") };
    const defaults = nodeDefaults("rediss://user@redis.example:6380", 1_000, material);
    expect(defaults).toMatchObject({ username: "user", password: PASSWORD });
    expect(defaults.socket).toMatchObject({ tls: true, ca: material.tlsCa, cert: material.tlsCert, key: material.tlsKey, servername: "redis.example" });
    expect(nodeDefaults("redis://h:6379", 1_000, material).socket).not.toHaveProperty("ca");
  });
});

describe("Redis over TLS with a private CA and a client certificate", () => {
  it("connects through a TLS endpoint that requires a client certificate, and fails without the CA", async () => {
    const standin = await startRedisStandIn();
    const ca = await createAuthority("redis test CA");
    const serverPem = await ca.issue("redis", "server");
    const clientPem = await ca.issue("vecrec", "client");
    // A TLS terminator in front of the stand-in, as stunnel or a Redis with tls-auth-clients yes.
    const terminator = tls.createServer(
      { cert: serverPem.cert, key: serverPem.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true },
      (socket) => {
        const upstream = net.connect(standin.port, "127.0.0.1");
        socket.pipe(upstream).pipe(socket);
        socket.on("error", () => upstream.destroy());
        upstream.on("error", () => socket.destroy());
      },
    );
    terminator.on("tlsClientError", () => undefined);
    terminator.listen(0, "127.0.0.1");
    await once(terminator, "listening");
    const port = (terminator.address() as net.AddressInfo).port;
    const url = `rediss://localhost:${port}`;
    try {
      const store = await createRedisStore({
        url,
        security: { tlsCa: Buffer.from(ca.cert), tlsCert: Buffer.from(clientPem.cert), tlsKey: Buffer.from(clientPem.key) },
      });
      expect(await store.listIndexes()).toEqual([]);
      expect(store.isAvailable?.()).toBe(true);
      await store.close();

      // Without trusting the CA: never available (the certificate cannot be verified).
      const untrusted = await createRedisStore({ url, connectTimeoutMs: 1_000 });
      expect(untrusted.isAvailable?.()).toBe(false);
      await untrusted.close();
    } finally {
      terminator.close();
      await standin.close();
    }
  });
});

describe("one URL redactor", () => {
  it("hides a password holding @, : or / whole", () => {
    expect(redactUrl("redis://user:p@ssw0rdLEAK@redis.example:6379")).toBe("redis://user:***@redis.example:6379");
    expect(redactUrl("rediss://:a:b%2Fc@h:6380/0")).toBe("rediss://:***@h:6380/0");
    expect(redactUrl("redis://user:pa/ssLEAK@h")).not.toMatch(/LEAK/);
    expect(redactUrl("not a url LEAK")).toBe("<unparsable url>");
  });

  it("no log line nor error of a failed connection shows the password (standalone, seeds, bad database)", async () => {
    const port = await closedPort();
    const { logger, text } = capturingLogger();
    const urls = [`redis://user:p@ssw0rdLEAK@127.0.0.1:${port}`, `redis://u:a@b@c:LEAK@127.0.0.1:${port},redis://x:y@LEAK@127.0.0.1:${port}`];
    for (const url of urls) {
      const store = await createStore({ redisUrl: url, logger });
      await store.close();
    }
    let message = "";
    try {
      await createStore({ redisUrl: `redis://user:p@ssw0rdLEAK@127.0.0.1:${port}/2`, logger });
    } catch (error: unknown) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/database 2/);
    expect(message).toContain("redis://user:***@127.0.0.1");
    expect(text()).toMatch(/Redis is unreachable/);
    expect(text()).toContain("***");
    expect(`${text()}\n${message}`).not.toMatch(/LEAK/);
  });
});

describe("redactUrlsIn", () => {
  it("redacts every Redis URL inside a message", async () => {
    const { redactUrlsIn } = await import("../../src/store/redis/connection-url.js");
    expect(redactUrlsIn("tls socket option is set to true which is mismatch with protocol or the URL redis://u:p@ssLEAK@h:1 passed")).toBe(
      "tls socket option is set to true which is mismatch with protocol or the URL redis://u:***@h:1 passed",
    );
  });
});
