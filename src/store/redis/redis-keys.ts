/**
 * The Redis key layout of vecrec (documented in the team context, "Redis layout"). Every name is built
 * here so the layout lives in one place. `prefix` defaults to `vecrec:`; tests pass their own to
 * isolate themselves inside one Redis.
 */

/** Hidden TAG field holding the item id: sortable (filter-only order) and used to exclude ids. */
export const ID_FIELD = "__vecrec_id";
/** The name the KNN distance is yielded as (`AS __vecrec_distance`). */
export const DISTANCE_FIELD = "__vecrec_distance";
/**
 * Separator of the hidden id TAG field. Ids may contain `,` (the default separator) but never control
 * characters, so an id is always one whole tag.
 */
export const ID_TAG_SEPARATOR = "\u001f";

export interface RedisKeys {
  readonly prefix: string;
  /** Hash of index definitions: field = index name, value = JSON IndexSpec. */
  readonly definitions: string;
  /** Hash of aliases: field = alias, value = the index name it points to (index-definitions.ts). */
  readonly aliases: string;
  /** Name of the FT index behind a vecrec index (namespaced by the prefix). */
  ftIndex(index: string): string;
  /** The PREFIX of the FT index: every item hash of `index` starts with it. */
  itemPrefix(index: string): string;
  item(index: string, id: string): string;
  interactions(index: string, userId: string): string;
  /** Set of the users that interacted with an item (so deleting the item can delete those). */
  itemUsers(index: string, itemId: string): string;
  /** A SCAN MATCH pattern for every item key of `index`. */
  itemPattern(index: string): string;
  /**
   * A SCAN MATCH pattern for every item, interactions and item-users key of `index` in one walk (their
   * common start, `<prefix><index>:i`); it may match other keys, which `isIndexData` tells apart.
   */
  indexDataPattern(index: string): string;
  /** Whether `key` is an item, interactions or item-users key of `index`. */
  isIndexData(index: string, key: string): boolean;
}

/** Escapes the glob characters of SCAN MATCH (`* ? [ ] \`). */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

export function createRedisKeys(prefix = "vecrec:"): RedisKeys {
  // The starts of the three kinds of keys an index owns, each written once (the keys, their patterns
  // and isIndexData are built from them).
  const itemPrefix = (index: string): string => `${prefix}${index}:item:`;
  const interactionsPrefix = (index: string): string => `${prefix}${index}:interactions:`;
  const itemUsersPrefix = (index: string): string => `${prefix}${index}:item-users:`;
  return {
    prefix,
    definitions: `${prefix}indexes`,
    aliases: `${prefix}aliases`,
    ftIndex: (index) => `${prefix}idx:${index}`,
    itemPrefix,
    item: (index, id) => itemPrefix(index) + id,
    interactions: (index, userId) => interactionsPrefix(index) + userId,
    itemUsers: (index, itemId) => itemUsersPrefix(index) + itemId,
    itemPattern: (index) => `${escapeGlob(itemPrefix(index))}*`,
    indexDataPattern: (index) => `${escapeGlob(`${prefix}${index}:i`)}*`,
    isIndexData: (index, key) => key.startsWith(itemPrefix(index)) || key.startsWith(interactionsPrefix(index)) || key.startsWith(itemUsersPrefix(index)),
  };
}
