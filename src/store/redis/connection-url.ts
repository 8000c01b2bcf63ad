/**
 * What vecrec reads from a Redis URL itself (node-redis parses the rest: host, port, TLS for
 * `rediss://`, user and password, which it percent-decodes).
 */

/**
 * The database a Redis URL selects, the way node-redis reads it: the path of `redis://` and
 * `rediss://` URLs (`/3`), the `db` query parameter of `unix://` URLs; 0 when there is none.
 * @throws TypeError for a URL node-redis would refuse too (not a number, unknown scheme)
 */
export function selectedDatabase(url: string): number {
  if (url.startsWith("unix:")) {
    const query = url.indexOf("?");
    if (query < 0) return 0;
    const db = new URLSearchParams(url.slice(query + 1).replace(/#.*$/, "")).get("db");
    return db === null ? 0 : parseDatabase(db, url);
  }
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new TypeError(`not a Redis URL (redis://, rediss:// or unix://): ${parsed.protocol}`);
  }
  return parsed.pathname.length > 1 ? parseDatabase(parsed.pathname.slice(1), url) : 0;
}

function parseDatabase(text: string, url: string): number {
  const db = Number(text);
  if (text.trim() === "" || !Number.isInteger(db) || db < 0) {
    throw new TypeError(`the database in the Redis URL is not a number: ${JSON.stringify(text)} (${redactUrl(url)})`);
  }
  return db;
}

/**
 * `url` with its password replaced by `***`, for messages and logs. Parsed as a URL, so a password
 * holding `@`, `/` or `:` is hidden whole; a URL that does not parse is not printed at all.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparsable url>";
  }
}

/**
 * `text` (an error message from node-redis, which prints URLs as given) with every `redis://`,
 * `rediss://` or `unix://` URL in it passed through redactUrl.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b(?:rediss?|unix):\/\/[^\s,'"`]+/g, (url) => redactUrl(url));
}

/**
 * The URLs of a `VECREC_REDIS_URL` value: one URL, or several separated by commas (seeds of a
 * cluster). Blank entries are dropped.
 * @throws TypeError when none is given
 */
export function splitRedisUrls(value: string): string[] {
  const urls = value
    .split(",")
    .map((url) => url.trim())
    .filter((url) => url !== "");
  if (urls.length === 0) throw new TypeError("no Redis URL given");
  return urls;
}
