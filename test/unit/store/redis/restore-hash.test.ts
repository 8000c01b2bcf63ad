import { describe, expect, it } from "vitest";
import { crc64, hashDumpPayload, RDB_VERSION_WRITTEN, restoreHashArgs } from "../../../../src/store/redis/commands/restore-hash.js";
import { crc64Bitwise, readHashPayload } from "../../../support/redis-standin/commands/dump-payload.js";

const crcOf = (data: Buffer): string => {
  const out = Buffer.alloc(8);
  crc64(data, 0, data.length, out, 0);
  return out.readBigUInt64LE(0).toString(16);
};

describe("RESTORE of a hash (commands/restore-hash.ts)", () => {
  it("computes Redis's CRC-64: its check value, and the footer of a payload a real Redis 7.4.1 dumped", () => {
    // crc64.c's own test: crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca.
    expect(crcOf(Buffer.from("123456789"))).toBe("e9c6d914c4b8d9ca");
    // DUMP of a 4-field hash (hashtable encoding, an integer and an LZF string among its values), RDB 12.
    const dumped = Buffer.from(
      "04040474696d65c200f15365066c6162656c730563312c633203766563c3094046017676e03900017676045f5f6964066974656d2d310c00f710c4bcb2315a5b",
      "hex",
    );
    const out = Buffer.alloc(8);
    crc64(dumped, 0, dumped.length - 8, out, 0);
    expect(out.equals(dumped.subarray(dumped.length - 8))).toBe(true);
    // Every length of tail (the part after the last 8-byte step) agrees with the stand-in's bit-by-bit CRC.
    const data = Buffer.from(Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff));
    for (let n = 0; n <= data.length; n++) {
      const payload = Buffer.concat([data.subarray(0, n), Buffer.alloc(10)]);
      crc64(payload, 0, n + 2, payload, n + 2);
      expect(crc64Bitwise(payload.subarray(0, n + 2)), `length ${n}`).toBe(payload.readBigUInt64LE(n + 2));
    }
  });

  it("writes every pair, with RDB's 6-, 14- and 32-bit lengths at their edges and UTF-8 strings, as the stand-in (Redis's reader) reads it", () => {
    const vector = Buffer.from(new Float32Array([1, -2.5, 3e-8]).buffer);
    const pairs: (string | Buffer)[] = [
      "__id", "item:ü 日本",
      "vec", vector,
      "a".repeat(63), "b".repeat(64),
      "c".repeat(16383), "d".repeat(16384),
      "empty", "",
      "big", Buffer.alloc(70000, 7),
    ];
    const payload = hashDumpPayload(pairs);
    expect(payload[0]).toBe(4); // RDB_TYPE_HASH
    expect(payload[1]).toBe(6); // pairs, a 6-bit length
    expect(payload.readUInt16LE(payload.length - 10)).toBe(RDB_VERSION_WRITTEN);
    const read = readHashPayload(payload);
    expect([...read.keys()]).toEqual(pairs.filter((_, i) => i % 2 === 0).map(String));
    for (let i = 0; i < pairs.length; i += 2) {
      expect(read.get(String(pairs[i]))?.equals(Buffer.from(pairs[i + 1]!)), String(pairs[i]).slice(0, 8)).toBe(true);
    }
    // 64 bytes take the 14-bit form (0x40 | high bits, low byte), 16384 the 32-bit one (0x80, big endian).
    expect(payload.includes(Buffer.concat([Buffer.from([0x40, 64]), Buffer.from("b".repeat(64))]))).toBe(true);
    expect(payload.includes(Buffer.concat([Buffer.from([0x80, 0, 0, 0x40, 0]), Buffer.from("d".repeat(8))]))).toBe(true);
  });

  it("is refused by the reader when a byte changes (the CRC) and when the version is newer than the server's", () => {
    const payload = hashDumpPayload(["f", "v"]);
    const flipped = Buffer.from(payload);
    flipped[3]! ^= 1;
    expect(() => readHashPayload(flipped)).toThrow("ERR DUMP payload version or checksum are wrong");
    expect(() => hashDumpPayload(["f"])).toThrow(RangeError);
    expect(restoreHashArgs("k", ["f", "v"])).toEqual(["RESTORE", "k", "0", payload, "REPLACE"]);
  });
});
