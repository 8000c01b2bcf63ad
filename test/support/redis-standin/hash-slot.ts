/**
 * Redis Cluster key slots: CRC16/XMODEM (polynomial 0x1021, initial value 0) of the key, or of its
 * hash tag (the text between the first `{` and the first `}` after it, when that text is not empty),
 * modulo 16384.
 */

export const SLOT_COUNT = 16384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** CRC16/XMODEM of `bytes`. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ b) & 0xff] as number);
  return crc;
}

/** The bytes of `key` that are hashed: its first non-empty `{...}` hash tag, or the whole key. */
export function hashedPart(key: Buffer): Buffer {
  const open = key.indexOf(0x7b); // {
  if (open < 0) return key;
  const close = key.indexOf(0x7d, open + 1); // }
  if (close < 0 || close === open + 1) return key;
  return key.subarray(open + 1, close);
}

/** The cluster slot (0..16383) of `key` (a string is taken as its UTF-8 bytes). */
export function keySlot(key: Buffer | string): number {
  const bytes = typeof key === "string" ? Buffer.from(key, "utf8") : key;
  return crc16(hashedPart(bytes)) % SLOT_COUNT;
}
