/**
 * Aliases: second names of indexes (CreateAlias, UpdateAlias, DeleteAlias), the rules both backends
 * follow and the errors they answer with, worded once here.
 *
 * - An alias is named like an index (indexNameViolations at `alias`) and shares their namespace: no
 *   alias may have an index's name, and no index an alias's (ALREADY_EXISTS either way).
 * - An alias points to an index, never to another alias (FAILED_PRECONDITION).
 * - Every call naming an index accepts an alias, resolved once, when the call reads the index spec
 *   (VectorStore.getIndexSpec returns the spec of the index, whose `name` is the index's own); the rest
 *   of the call uses that name. DropIndex takes the index's own name only, and refuses an index that
 *   aliases still point to (FAILED_PRECONDITION naming them: move or delete them first), so that no
 *   client's alias silently stops working.
 */
import { AlreadyExistsError, FailedPreconditionError } from "./errors.js";
import { compareIds } from "./id-order.js";

/** The aliases of `indexName` in an alias → index table, sorted (compareIds). */
export function aliasesOf(table: Iterable<readonly [string, string]>, indexName: string): string[] {
  const out: string[] = [];
  for (const [alias, target] of table) if (target === indexName) out.push(alias);
  return out.sort(compareIds);
}

/** CreateAlias/UpdateAlias of an alias named like an index. */
export function aliasNamedLikeIndex(alias: string): AlreadyExistsError {
  return new AlreadyExistsError(`cannot create alias "${alias}": an index has that name (indexes and aliases share one namespace)`);
}

/** Index of a name an alias already has. */
export function indexNamedLikeAlias(name: string, target: string): AlreadyExistsError {
  return new AlreadyExistsError(
    `cannot create index "${name}": "${name}" is an alias of index "${target}" (indexes and aliases share one namespace; ` +
      `delete the alias first, or choose another name)`,
  );
}

/** CreateAlias of an alias that points to another index. */
export function aliasPointsElsewhere(alias: string, current: string): AlreadyExistsError {
  return new AlreadyExistsError(`alias "${alias}" already exists and points to index "${current}": move it with UpdateAlias`);
}

/** CreateAlias/UpdateAlias whose target is itself an alias. */
export function aliasToAlias(target: string, itsIndex: string): FailedPreconditionError {
  return new FailedPreconditionError(
    `"${target}" is an alias (of index "${itsIndex}"), and an alias must point to an index: give the index's own name`,
  );
}

/** DropIndex through an alias. */
export function dropThroughAlias(alias: string, target: string): FailedPreconditionError {
  return new FailedPreconditionError(
    `"${alias}" is an alias of index "${target}": DropIndex takes the index's own name (or delete the alias with DeleteAlias)`,
  );
}

/** DropIndex of an index that aliases point to. */
export function dropAliasedIndex(indexName: string, aliases: readonly string[]): FailedPreconditionError {
  const names = aliases.map((a) => `"${a}"`).join(", ");
  return new FailedPreconditionError(
    `index "${indexName}" is still the target of alias${aliases.length > 1 ? "es" : ""} ${names}: ` +
      `move them to another index (UpdateAlias) or delete them (DeleteAlias) before dropping it`,
  );
}
