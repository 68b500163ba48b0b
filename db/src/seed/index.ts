/** The demo seed: builders, the deterministic demo firm, and the set-based loader. */
import type { Executor } from "./writer.ts";

export { Builders } from "./builders.ts";
export {
  DatabaseNotEmptyError,
  DEFAULT_SEED,
  DEFAULT_TODAY,
  type SeedOptions,
  type SeedProgress,
  type SeedResult,
  seedDemo,
  seedIfEmpty,
} from "./demo.ts";
export { Random, salesforceId } from "./random.ts";
export { type Executor, insertRows, type Row, RowSink, TABLE_ORDER } from "./writer.ts";

/**
 * Empties every hub table (not the migrations), invoice number series included — except the
 * audit log, which is append-only (migration 0013 refuses TRUNCATE) and outlives a demo reset.
 */
export async function resetDatabase(sql: Executor): Promise<void> {
  const tables = await sql<{ name: string }[]>`
    select quote_ident(tablename) as name from pg_tables
    where schemaname = 'public' and tablename <> 'audit_log'`;
  if (tables.length === 0) return;
  await sql.unsafe(
    `truncate table ${tables.map((t) => t.name).join(", ")} restart identity cascade`,
  );
}
