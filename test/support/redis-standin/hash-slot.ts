/**
 * Redis Cluster key slots for the stand-in: the store's own `keySlot` (CRC16/XMODEM of the key or its
 * first non-empty `{...}` hash tag, modulo 16384), so there is one implementation. It is still checked
 * against real servers: the cluster replay compares CLUSTER KEYSLOT and every MOVED slot with the
 * recordings of a real cluster.
 */
export { keySlot } from "../../../src/store/redis/key-slot.js";

export const SLOT_COUNT = 16384;
