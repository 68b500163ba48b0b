/**
 * Statements a subgraph builds once per process. A loader's SQL depends on its table, its key
 * column, the page's shape and the caller's legal-entity scope — not on the ids it is given — so
 * building it again with drizzle for every request is wasted work (drizzle's query building was
 * 9–13 % of each subgraph's CPU, bench/RESULTS.md #13). And a drizzle statement run without a name
 * is unprepared in postgres.js: every run sends Parse and Describe and waits for the description
 * before it can bind, where a prepared one is bound and executed in one round trip.
 *
 *   const query = preparedStatement(db, customer, `byId:id|${scopeKey(scope)}`, () =>
 *     db.select().from(customer).where(inListPlaceholder(customer.id, "ids")).prepare("byId"));
 *   const rows = await query.execute({ ids: pgArray(ids) });
 *
 * The key must name everything the statement's text and fixed parameters depend on; the values
 * that vary per call are placeholders.
 */
import type { Db, LegalEntityScope } from "@pshub/db";

/** Distinct statements kept per owner before its cache starts over (a bound, not a goal). */
const MAX_STATEMENTS = 500;

const statements = new WeakMap<object, WeakMap<object, Map<string, unknown>>>();

/**
 * The statement `build` makes for `key` on `db`, built on first use and kept. `owner` is the
 * object the statement belongs to (a table, a list spec): keys are only compared within it, so two
 * specs that share a name cannot share a statement.
 */
export function preparedStatement<T>(db: Db, owner: object, key: string, build: () => T): T {
  let owners = statements.get(db);
  if (!owners) {
    owners = new WeakMap();
    statements.set(db, owners);
  }
  let cache = owners.get(owner);
  if (!cache) {
    cache = new Map();
    owners.set(owner, cache);
  }
  let statement = cache.get(key) as T | undefined;
  if (statement === undefined) {
    if (cache.size >= MAX_STATEMENTS) cache.clear();
    statement = build();
    cache.set(key, statement);
  }
  return statement;
}

/** A legal-entity scope as part of a statement key: its condition is fixed in the statement. */
export const scopeKey = (scope: LegalEntityScope): string =>
  scope === undefined ? "*" : JSON.stringify(scope);
