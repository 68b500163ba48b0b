/**
 * drizzle's sql`` spreads a JS array into a list of parameters; a set-based `= any($1::uuid[])`
 * needs ONE parameter. This renders the array as a PostgreSQL array literal (quoted, escaped).
 */
export function pgArray(values: readonly (string | number)[]): string {
  return `{${values.map((v) => `"${String(v).replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",")}}`;
}
