// Access control: the role table (every RPC has a row), the tokens file, and the lookup.
import { Metadata, status as GrpcStatus } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { VectorServiceService } from "../../../src/gen/vecrec/v1/vecrec.js";
import { refusal } from "../../../src/grpc/auth-interceptor.js";
import { accessNeeded, grants, VECTOR_SERVICE_ROLES } from "../../../src/grpc/auth-roles.js";
import { lookUp, parseTokens } from "../../../src/grpc/auth-tokens.js";

const T = "0123456789abcdef-token";

describe("the role table", () => {
  it("gives every VectorService method an explicit role (a new RPC must get its row in src/grpc/auth-roles.ts)", () => {
    const methods = Object.values(VectorServiceService).map((method) => method.path.slice(method.path.lastIndexOf("/") + 1));
    const missing = methods.filter((name) => !Object.hasOwn(VECTOR_SERVICE_ROLES, name));
    expect(missing, "RPCs without a role").toEqual([]);
    const stale = Object.keys(VECTOR_SERVICE_ROLES).filter((name) => !methods.includes(name));
    expect(stale, "roles of RPCs that do not exist").toEqual([]);
  });

  it("follows the issue's split of read, write and admin", () => {
    expect(VECTOR_SERVICE_ROLES).toMatchObject({
      GetIndex: "read",
      ListIndexes: "read",
      GetItems: "read",
      Search: "read",
      Recommend: "read",
      GetInteractions: "read",
      Upsert: "write",
      DeleteItems: "write",
      RecordInteractions: "write",
      UpdateItems: "write",
      UpsertStream: "write",
      Index: "admin",
      DropIndex: "admin",
      UpdateInterests: "admin",
    });
  });

  it("denies by default: an unknown method or service needs admin; health is open; reflection follows its mode", () => {
    expect(accessNeeded("/vecrec.v1.VectorService/SomethingNew", "on")).toBe("admin");
    expect(accessNeeded("/vecrec.v1.VectorService/__proto__", "on")).toBe("admin");
    expect(accessNeeded("/other.Service/Method", "on")).toBe("admin");
    expect(accessNeeded("/grpc.health.v1.Health/Check", "auth")).toBe("open");
    expect(accessNeeded("/grpc.health.v1.Health/Watch", "off")).toBe("open");
    expect(accessNeeded("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "on")).toBe("open");
    expect(accessNeeded("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "auth")).toBe("read");
    expect(grants("admin", "read")).toBe(true);
    expect(grants("write", "admin")).toBe(false);
  });
});

describe("the tokens file", () => {
  it("reads <token> <role> pairs separated by whitespace, skipping blank lines and # comments", () => {
    const entries = parseTokens(`# comment\n\n  ${T}1 read\n${T}2\t\twrite\r\n${T}3 admin  \n   # indented comment\n`);
    expect(entries.map((entry) => entry.role)).toEqual(["read", "write", "admin"]);
    expect(lookUp(entries, `${T}1`)).toBe("read");
    expect(lookUp(entries, `${T}3`)).toBe("admin");
    expect(lookUp(entries, `${T}4`)).toBeUndefined();
    expect(lookUp(entries, "")).toBeUndefined();
    expect(lookUp([], `${T}1`)).toBeUndefined();
  });

  it("refuses bad lines by number, never printing a token", () => {
    const text = `${T}1 read extra\n${T}2 root\ntiny read\n${T}3 read\n${T}3 admin\n`;
    let message = "";
    try {
      parseTokens(text);
    } catch (error: unknown) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'bad tokens file: line 1: expected "<token> <role>" (2 words, got 3); line 2: unknown role (one of read, write, admin); ' +
        "line 3: the token is shorter than 16 characters; line 5: the same token as line 4",
    );
    expect(message).not.toContain(T);
    expect(message).not.toContain("tiny");
  });
});

describe("the refusal of a call", () => {
  const tokens = { roleOf: (token: string) => lookUp(parseTokens(`${T}r read\n${T}w write\n`), token) };
  const withAuth = (value?: string): Metadata => {
    const metadata = new Metadata();
    if (value !== undefined) metadata.set("authorization", value);
    return metadata;
  };

  it("UNAUTHENTICATED without a Bearer token or with an unknown one, PERMISSION_DENIED naming the role with a weaker one", () => {
    const path = "/vecrec.v1.VectorService/DropIndex";
    expect(refusal(path, withAuth(), tokens, "on")?.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(refusal(path, withAuth(`Basic ${T}r`), tokens, "on")?.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(refusal(path, withAuth("Bearer nope-nope-nope-nope"), tokens, "on")).toEqual({ code: GrpcStatus.UNAUTHENTICATED, details: "unknown token" });
    expect(refusal(path, withAuth(`Bearer ${T}w`), tokens, "on")).toEqual({
      code: GrpcStatus.PERMISSION_DENIED,
      details: 'DropIndex needs the "admin" role (or a stronger one); this token has "write"',
    });
    expect(refusal("/vecrec.v1.VectorService/Upsert", withAuth(`bearer  ${T}w `), tokens, "on")).toBeUndefined();
    expect(refusal("/grpc.health.v1.Health/Check", withAuth(), tokens, "auth")).toBeUndefined();
  });
});
