/**
 * Interactions on Redis. Layout: one sorted set per user, `<prefix><index>:interactions:<userId>`
 * (score = time in ms, member = item id, kind and weight, see interaction-codec.ts), and, so that
 * deleting an item can find its interactions, one set per item of the users that interacted with it,
 * `<prefix><index>:item-users:<itemId>`. One user's history is one key: reading the K neighbours'
 * histories is one ZRANGE each, issued together (on a cluster each goes to its shard, all at once).
 * No hash tag is shared by an index: its users spread over every shard.
 *
 * Two keys updated without a transaction (they lie in different slots), and what a crash or failover
 * in between leaves: RecordInteractions adds the user to each item's set of users (round trip 1)
 * before it adds the interaction to the user's history (round trip 2). Stopped in between, an item's
 * set names a user with no interaction with it: harmless (DeleteItems finds nothing to remove there),
 * and the call failed, so the client repeats it. The other order could leave an interaction that
 * DeleteItems would never find.
 *
 * A call cancelled or past its deadline sends nothing more (each command checks the call's signal):
 * stopped after round trip 1, no interaction is stored; during round trip 2, some users' interactions
 * may be (each user's whole or not at all). Repeating the call is safe: recording is idempotent.
 * Both round trips check the index after their writes (RedisRoom.checkedAfter, index-definitions.ts
 * confirmWritten), so the call is never acknowledged into an index that vanished, and one that finds
 * its index gone under a DropIndex with delete_items deletes the keys it wrote (those of the users and
 * items it touched, all of which that drop deletes) instead of leaving them behind the drop's sweep.
 */
import { RedisRoom, type Written } from "./redis-room.js";
import type { Interaction, InteractionPage } from "../../domain/interaction.js";
import type { RedisCommand } from "./connection.js";
import {
  compareInteractions,
  decodeInteractionMember,
  encodeInteractionMember,
  interactionIdentity,
} from "./interaction-codec.js";
import { settleAll } from "./items.js";
import { parseScoredMembers, replyArray, replyNumber, replyText, type Reply } from "./reply-parsers.js";

/** Commands sent once each (no second pipeline) as RedisRoom.checkedAfter takes them. */
function written(replies: Promise<unknown[]>): Promise<Written> {
  return replies.then((settled) => ({ replies: settled, resent: false }));
}

export class InteractionOperations extends RedisRoom {

  async recordInteractions(index: string, interactions: readonly Interaction[], signal?: AbortSignal): Promise<number> {
    // An index that does not exist gets nothing written, not even the bookkeeping of round trip 1 (from
    // the definitions cache: no round trip for a known index; the checks after the writes catch one that vanishes).
    await this.definitions.get(index, signal);
    // Last one wins within the call for the same (user, item, kind, time).
    const latest = new Map<string, Interaction>();
    for (const interaction of interactions) {
      const identity = interactionIdentity(encodeInteractionMember(interaction));
      latest.set(`${interaction.userId}\u001f${identity}`, interaction);
    }
    const slots = new Map<string, { key: string; time: number }>();
    const usersByItem = new Map<string, Set<string>>();
    for (const interaction of latest.values()) {
      const key = this.keys.interactions(index, interaction.userId);
      slots.set(`${key}\u0000${interaction.occurredAtMs}`, { key, time: interaction.occurredAtMs });
      const users = usersByItem.get(interaction.itemId) ?? new Set<string>();
      users.add(interaction.userId);
      usersByItem.set(interaction.itemId, users);
    }
    // Round trip 1: the items' sets of users (first: see the header), and the members already stored
    // at the same times (usually none), for the dedup.
    const slotList = [...slots.values()];
    const bookkeepingKeys = [...usersByItem.keys()].map((itemId) => this.keys.itemUsers(index, itemId));
    const bookkeeping = [...usersByItem.values()].map((users, i) => this.send(["SADD", bookkeepingKeys[i]!, ...users], bookkeepingKeys[i], signal));
    const [existing] = await Promise.all([
      settleAll(slotList.map(({ key, time }) => this.send(["ZRANGE", key, String(time), String(time), "BYSCORE"], key, signal))),
      this.checkedAfter(index, bookkeepingKeys, written(settleAll(bookkeeping)), signal),
    ]);
    const stored = new Map<string, string[]>();
    slotList.forEach(({ key, time }, i) => stored.set(`${key}\u0000${time}`, replyArray(existing[i] ?? []).map(replyText)));

    // Round trip 2: per user, one MULTI/EXEC on their one key replacing and adding the members.
    const byUser = new Map<string, RedisCommand[]>();
    for (const interaction of latest.values()) {
      const key = this.keys.interactions(index, interaction.userId);
      const member = encodeInteractionMember(interaction);
      const identity = interactionIdentity(member);
      const replaced = (stored.get(`${key}\u0000${interaction.occurredAtMs}`) ?? []).filter(
        (m) => m !== member && interactionIdentity(m) === identity,
      );
      const commands = byUser.get(key) ?? [];
      if (replaced.length > 0) commands.push(["ZREM", key, ...replaced]);
      commands.push(["ZADD", key, String(interaction.occurredAtMs), member]);
      byUser.set(key, commands);
    }
    const histories = [...byUser].map(([key, commands]) =>
      commands.length === 1 ? this.send(commands[0] as RedisCommand, key, signal) : this.connection.transaction(key, commands, signal),
    );
    await this.checkedAfter(index, [...byUser.keys(), ...bookkeepingKeys], written(settleAll<unknown>(histories)), signal);
    return interactions.length;
  }

  /**
   * One page of a user's interactions, newest first, equal times by (item id, kind). ZRANGE REV orders
   * equal times by member descending, the opposite of the wanted order, so the page is read with one
   * neighbour on each side: only when a run of equal times crosses a page edge is the whole run read
   * (second round trip) to place its members exactly, so consecutive pages never repeat or skip one.
   */
  async getInteractions(index: string, userId: string, page: { offset: number; limit: number }, signal?: AbortSignal): Promise<InteractionPage> {
    const key = this.keys.interactions(index, userId);
    const offset = Math.max(0, page.offset);
    const limit = Math.max(0, page.limit);
    const from = Math.max(0, offset - 1);
    // One round trip (two when the definition is not cached): the page, its neighbours and the count.
    const [, rangeReply, countReply] = await Promise.all([
      this.definitions.get(index, signal),
      limit > 0
        ? this.send(["ZRANGE", key, String(from), String(offset + limit), "REV", "WITHSCORES"], key, signal)
        : Promise.resolve<Reply>([]),
      this.send(["ZCARD", key], key, signal),
    ]);
    const totalCount = replyNumber(countReply);
    const window = parseScoredMembers(rangeReply); // window[i] is at position from + i
    const inPage = (position: number): boolean => position >= offset && position < offset + limit;
    const pageEntries = window.map((entry, i) => ({ ...entry, position: from + i })).filter((e) => inPage(e.position));
    if (pageEntries.length === 0) return { interactions: [], totalCount };

    // Runs of equal times: positions are the same in both orders, only members move within a run.
    const runs = new Map<number, { positions: number[]; members: string[]; crosses: boolean }>();
    window.forEach((entry, i) => {
      const run = runs.get(entry.score) ?? { positions: [], members: [], crosses: false };
      run.positions.push(from + i);
      run.members.push(entry.member);
      if (!inPage(from + i)) run.crosses = true;
      runs.set(entry.score, run);
    });
    const crossing = [...runs.entries()].filter(([, run]) => run.crosses && run.positions.some(inPage));
    // Round trip 2, only for a run across a page edge: all its members and where it starts.
    const whole = await Promise.all(
      crossing.map(([score]) =>
        Promise.all([
          this.send(["ZRANGE", key, String(score), String(score), "BYSCORE"], key, signal),
          this.send(["ZCOUNT", key, `(${score}`, "+inf"], key, signal),
        ]),
      ),
    );
    const placed = new Map<number, Interaction>();
    const decodeSorted = (members: string[]): Interaction[] =>
      members.map((m) => decodeInteractionMember(userId, m)).sort(compareInteractions);
    crossing.forEach(([, run], i) => {
      const [membersReply, newerReply] = whole[i] ?? [[], 0];
      const sorted = decodeSorted(replyArray(membersReply).map(replyText));
      const start = replyNumber(newerReply);
      for (const position of run.positions) {
        const interaction = sorted[position - start];
        if (interaction !== undefined && inPage(position)) placed.set(position, interaction);
      }
    });
    for (const run of runs.values()) {
      if (run.crosses) continue;
      const sorted = decodeSorted(run.members);
      run.positions.forEach((position, i) => {
        const interaction = sorted[i];
        if (interaction !== undefined) placed.set(position, interaction);
      });
    }
    const interactions = pageEntries.flatMap((e) => {
      const interaction = placed.get(e.position);
      return interaction === undefined ? [] : [interaction];
    });
    return { interactions, totalCount };
  }

  async getInteractionsOfUsers(index: string, userIds: readonly string[], signal?: AbortSignal): Promise<Map<string, Interaction[]>> {
    const unique = [...new Set(userIds)];
    // ONE round trip: the definition check (when not cached) and one ZRANGE per user are issued in
    // the same tick, so node-redis writes them together (on a cluster, each to its shard, all at once).
    const [, ...ranges] = await Promise.all([
      this.definitions.get(index, signal),
      ...unique.map((u) => {
        const key = this.keys.interactions(index, u);
        return this.send(["ZRANGE", key, "0", "-1", "REV", "WITHSCORES"], key, signal);
      }),
    ]);
    const result = new Map<string, Interaction[]>();
    unique.forEach((u, i) => {
      result.set(
        u,
        parseScoredMembers(ranges[i] ?? [])
          .map(({ member }) => decodeInteractionMember(u, member))
          .sort(compareInteractions),
      );
    });
    for (const u of userIds) if (!result.has(u)) result.set(u, []);
    return result;
  }
}
