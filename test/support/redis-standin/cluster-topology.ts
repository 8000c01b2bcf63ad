/**
 * The shared view of a stand-in Redis Cluster: its nodes (each with its own StandInState, i.e. its own
 * keyspace and per-shard indexes), which node owns each of the 16384 slots, a slot migration in
 * progress, and whether the cluster is healthy (every node running).
 */
import { createHash } from "node:crypto";
import type { StandInState } from "./commands.js";
import { SLOT_COUNT } from "./hash-slot.js";
import type { Reply } from "./resp.js";

/** An FT.AGGREGATE WITHCURSOR result kept by the node that created it. */
export interface AggregateCursor {
  readonly index: string;
  /** Rows still to read, each as its field/value pairs. */
  rows: Array<ReadonlyArray<readonly [Reply, Reply]>>;
  readonly count: number;
}

export interface ClusterNode {
  readonly index: number;
  port: number;
  /** 40 hex digits, like a real node id. */
  readonly id: string;
  readonly shardId: string;
  readonly state: StandInState;
  running: boolean;
  readonly cursors: Map<number, AggregateCursor>;
}

export interface Migration {
  readonly from: number;
  readonly to: number;
  readonly first: number;
  readonly last: number;
}

/** A deterministic 40-hex-digit id. */
export function nodeHexId(kind: string, index: number, seed: string): string {
  return createHash("sha1").update(`vecrec-standin:${kind}:${index}:${seed}`).digest("hex");
}

export class ClusterTopology {
  readonly nodes: ClusterNode[] = [];
  /** Owner node index of each slot. */
  readonly owners = new Uint8Array(SLOT_COUNT);
  migration: Migration | undefined;

  /** Slots split evenly like `redis-cli --cluster create` (3 nodes: 0-5460, 5461-10922, 10923-16383). */
  assignEvenly(count: number): void {
    const per = SLOT_COUNT / count;
    for (let n = 0; n < count; n++) {
      const first = Math.round(n * per);
      const last = n === count - 1 ? SLOT_COUNT - 1 : Math.round((n + 1) * per) - 1;
      this.owners.fill(n, first, last + 1);
    }
  }

  get healthy(): boolean {
    return this.nodes.every((n) => n.running);
  }

  ownerOf(slot: number): ClusterNode {
    return this.nodes[this.owners[slot] as number] as ClusterNode;
  }

  /** The migration that covers `slot`, if any. */
  migrationOf(slot: number): Migration | undefined {
    const m = this.migration;
    return m !== undefined && slot >= m.first && slot <= m.last ? m : undefined;
  }

  /** Contiguous slot ranges in slot order, each with its owner. */
  ranges(): Array<{ first: number; last: number; node: ClusterNode }> {
    const out: Array<{ first: number; last: number; node: ClusterNode }> = [];
    let first = 0;
    for (let s = 1; s <= SLOT_COUNT; s++) {
      if (s === SLOT_COUNT || this.owners[s] !== this.owners[first]) {
        out.push({ first, last: s - 1, node: this.ownerOf(first) });
        first = s;
      }
    }
    return out;
  }

  rangesOf(node: ClusterNode): Array<{ first: number; last: number }> {
    return this.ranges().filter((r) => r.node === node);
  }

  busPort(node: ClusterNode): number {
    return node.port + 10000;
  }
}
