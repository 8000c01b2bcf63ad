/**
 * setInterestTags on Redis: one compare-and-set script per item (scripts/set-interest-tag.ts), all
 * issued in the same tick so node-redis writes them together (one round trip per node; a second only
 * for the items whose node did not know the script yet).
 */
import { RedisRoom } from "./redis-room.js";
import { vectorField } from "../../domain/schema.js";
import { encodeElements } from "../../domain/element-type.js";
import type { InterestTagUpdate } from "../vector-store.js";
import { settleAll } from "./items.js";
import { replyNumber, type Reply } from "./reply-parsers.js";
import { SET_INTEREST_TAG_SCRIPT, SET_INTEREST_TAG_SHA1, setInterestTagArgs } from "./scripts/set-interest-tag.js";

export class InterestTagOperations extends RedisRoom {

  async setInterestTags(index: string, updates: readonly InterestTagUpdate[], tagField: string): Promise<number> {
    const spec = await this.definitions.get(index);
    const vector = vectorField(spec);
    const field = spec.fields.find((f) => f.name === tagField);
    const separator = field?.type === "tag" ? field.separator : ",";
    const latest = [...new Map(updates.map((u) => [u.id, u])).values()];
    const replies = await settleAll(
      latest.map((update) => {
        const key = this.keys.item(index, update.id);
        const args = setInterestTagArgs(
          vector.name,
          encodeElements(vector.elementType, update.basedOnVector),
          tagField,
          update.tags.length > 0 ? update.tags.join(separator) : undefined,
        );
        return this.#run(key, args);
      }),
    );
    return replies.reduce<number>((sum, reply) => sum + replyNumber(reply), 0);
  }

  async #run(key: string, args: (string | Buffer)[]): Promise<Reply> {
    try {
      return await this.connection.send(["EVALSHA", SET_INTEREST_TAG_SHA1, "1", key, ...args], { key });
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return await this.connection.send(["EVAL", SET_INTEREST_TAG_SCRIPT, "1", key, ...args], { key });
    }
  }
}
