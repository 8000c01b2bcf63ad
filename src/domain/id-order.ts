/**
 * The one order of item and user ids: Unicode code point order, which is the byte order of their UTF-8
 * encoding. Redis sorts the hidden id field that way (strcmp), so filter-only pages on Redis come in
 * this order and every other place that orders ids (KNN ties, the embedded engine, scores) follows it.
 * It differs from JavaScript's `<` (UTF-16 code units) only between a character above U+FFFF and one in
 * U+E000..U+FFFF: "😀" (U+1F600) sorts after "！" (U+FF01) here, before it with `<`.
 */

/** Negative when `a` sorts before `b`, positive when after, 0 when equal. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  let x = a.charCodeAt(i);
  let y = b.charCodeAt(i);
  if (x >= 0xd800 && y >= 0xd800) {
    // Surrogates (D800..DFFF, characters above U+FFFF) go after E000..FFFF: the usual UTF-16 fix-up.
    x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
  }
  return x - y;
}

// Units at or above U+D800: only ids holding one can sort differently under `<`.
const HIGH_UNIT = /[\uD800-\uFFFF]/;

/**
 * A string whose JavaScript `<` order is compareIds's order: the id itself unless it holds a unit at
 * or above U+D800 (then a remapped copy). For hot loops that compare many ids: compute the key once.
 */
export function idSortKey(id: string): string {
  if (!HIGH_UNIT.test(id)) return id;
  let key = "";
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    key += String.fromCharCode(c < 0xd800 ? c : c >= 0xe000 ? c - 0x800 : c + 0x2000);
  }
  return key;
}
