/**
 * grpc-js's server call chain, which it does not expose: the call a handler gets holds `call`, an
 * intercepting call, whose `nextCall` leads through the interceptors to the base call that holds the
 * HTTP/2 `stream` and serializes messages. vecrec reaches in for two things: corking that stream while a
 * batch of messages is handed over (stream-writer.ts), and framing pages (message-page.ts). Where the
 * chain has another shape (another grpc-js), `baseCallOf` finds nothing and both fall back to the
 * public API.
 */

/** The base call of `call`'s chain: the first node holding an HTTP/2 `stream` (at most 32 deep). */
export function baseCallOf(call: object): { readonly stream: object } | undefined {
  let node: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; depth < 32 && typeof node === "object" && node !== null; depth++) {
    const stream = (node as { stream?: unknown }).stream;
    if (typeof stream === "object" && stream !== null) return node as { stream: object };
    node = (node as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}
