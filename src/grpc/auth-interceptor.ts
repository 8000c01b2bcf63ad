/**
 * Access control as a grpc-js server interceptor: each call's `authorization: Bearer <token>` is
 * looked up in the token table before the call reaches its handler. No token or an unknown one:
 * UNAUTHENTICATED; a known token whose role is too weak: PERMISSION_DENIED naming the role needed
 * (auth-roles.ts holds the table). Health needs no token; reflection follows --reflection.
 * Refused calls are logged at debug level with the method and the code, never the token.
 */
import {
  ResponderBuilder,
  ServerInterceptingCall,
  ServerListenerBuilder,
  status as GrpcStatus,
  type Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from "@grpc/grpc-js";
import type { Logger } from "pino";
import { accessNeeded, grants, methodName, type ReflectionMode, type Role } from "./auth-roles.js";
import type { TokenTable } from "./auth-tokens.js";

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** The token of the first `authorization` header, when it is a Bearer one. */
function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get("authorization")[0];
  if (typeof value !== "string") return undefined;
  return BEARER.exec(value)?.[1];
}

/** Why a call with `metadata` may not go on, or undefined when it may. */
export function refusal(
  path: string,
  metadata: Metadata,
  tokens: Pick<TokenTable, "roleOf">,
  reflection: ReflectionMode,
): { code: GrpcStatus; details: string } | undefined {
  const needed = accessNeeded(path, reflection);
  if (needed === "open") return undefined;
  const token = bearerToken(metadata);
  if (token === undefined) {
    return { code: GrpcStatus.UNAUTHENTICATED, details: `${methodName(path)} needs a token: send the header "authorization: Bearer <token>"` };
  }
  const role: Role | undefined = tokens.roleOf(token);
  if (role === undefined) return { code: GrpcStatus.UNAUTHENTICATED, details: "unknown token" };
  if (!grants(role, needed)) {
    return {
      code: GrpcStatus.PERMISSION_DENIED,
      details: `${methodName(path)} needs the "${needed}" role (or a stronger one); this token has "${role}"`,
    };
  }
  return undefined;
}

/** The interceptor: calls that `refusal` stops end with its status before any handler runs. */
export function createAuthInterceptor(options: { tokens: Pick<TokenTable, "roleOf">; reflection: ReflectionMode; logger: Logger }): ServerInterceptor {
  const { tokens, reflection, logger } = options;
  return (method, call: ServerInterceptingCallInterface) => {
    let refused = false;
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const stop = refusal(method.path, metadata, tokens, reflection);
        if (stop === undefined) return next(metadata);
        refused = true;
        logger.debug({ method: method.path, code: GrpcStatus[stop.code] }, "call refused");
        call.sendStatus({ code: stop.code, details: stop.details });
      })
      // A refused call's messages go nowhere (its handler never started).
      .withOnReceiveMessage((message, next) => {
        if (!refused) next(message);
      })
      .withOnReceiveHalfClose((next) => {
        if (!refused) next();
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
