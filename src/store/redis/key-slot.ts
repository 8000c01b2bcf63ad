/**
 * Redis Cluster key slots, as node-redis routes by them: CRC16/XMODEM of the key, or of its hash tag
 * (the text between the first `{` and the first `}` after it, when not empty), modulo 16384. Used to
 * group the keys a call wrote by the primary owning them (durability.ts).
 */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

/** The cluster slot (0..16383) of `key` (a string is taken as its UTF-8 bytes). */
export function keySlot(key: Buffer | string): number {
  let bytes = typeof key === "string" ? Buffer.from(key, "utf8") : key;
  const open = bytes.indexOf(0x7b); // {
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ b) & 0xff] as number);
  return crc % 16384;
}
