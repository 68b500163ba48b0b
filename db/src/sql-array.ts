/**
 * An array as ONE bind parameter, defined once for every set-based statement of the hub.
 *
 * drizzle's sql`` spreads a JS array into a list of parameters (`in ($1, …, $n)`), so the statement
 * text — and postgres.js's prepared statement — changes with the list's length. `= any($1::uuid[])`
 * with the whole list as one PostgreSQL array literal keeps one statement text at any size.
 */
import { type SQL, sql } from "drizzle-orm";

/** The values as a PostgreSQL array literal (`{"a","b"}`), every element quoted and escaped;
 *  null and undefined are NULL elements. */
export function pgArray(values: readonly unknown[]): string {
  return `{${values.map((v) => (v == null ? "NULL" : `"${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)).join(",")}}`;
}

/** A uuid[] bind value: `where id = any(${uuidArray(ids)})`. Callers pass validated uuids. */
export function uuidArray(ids: readonly string[]): SQL {
  return sql`${pgArray(ids)}::uuid[]`;
}
