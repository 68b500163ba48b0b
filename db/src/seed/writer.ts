/**
 * Set-based loading: rows are buffered per table and written as one
 * `INSERT … SELECT … FROM json_populate_recordset(…)` statement per table and flush (a few
 * thousand rows each), always in foreign-key order so a flush never references a row that has
 * not been written yet.
 */
import type postgres from "postgres";

/** A pool or a transaction: anything that runs SQL. */
export type Executor = postgres.Sql | postgres.TransactionSql;

/** A row keyed by SQL column name (snake_case). */
export type Row = Record<string, unknown>;

/** Every table the seed writes, parents before children. */
export const TABLE_ORDER = [
  "legal_entity",
  "tax_rate",
  "customer",
  "contact",
  "opportunity",
  "contract",
  "fee_schedule_item",
  "project",
  "milestone",
  "resource",
  "assignment",
  "time_entry",
  "expense",
  "billing_event",
  "invoice",
  "invoice_line",
  "payment",
  "dispute",
  "source_link",
  "sync_exception",
] as const;

export type TableName = (typeof TABLE_ORDER)[number];

/** Writes rows of any table into one statement (the rows must share their keys). */
export async function insertRows(sql: Executor, table: TableName, rows: Row[]): Promise<void> {
  const first = rows[0];
  if (!first) return;
  const keys = Object.keys(first);
  const columns = keys.map((c) => `"${c}"`).join(", ");
  await sql.unsafe(
    `insert into "${table}" (${columns}) select ${columns} from json_populate_recordset(null::"${table}", $1::json)`,
    [JSON.stringify(rows)],
  );
}

export class RowSink {
  private readonly buffers = new Map<TableName, Row[]>();
  private buffered = 0;
  readonly counts: Record<string, number> = {};

  constructor(
    private readonly sql: Executor,
    /** Flush once this many rows are buffered across all tables. */
    private readonly flushAt = 20_000,
    private readonly onFlush: (rowsWritten: number) => void = () => {},
  ) {}

  push(table: TableName, row: Row): Row {
    let buffer = this.buffers.get(table);
    if (!buffer) {
      buffer = [];
      this.buffers.set(table, buffer);
    }
    buffer.push(row);
    this.buffered++;
    return row;
  }

  /**
   * Hands the buffered rows to the database once enough are buffered, and returns while they are
   * written, so generating the next rows overlaps with writing these (at most one batch in
   * flight). Call between self-contained units of work; rows must not change after this.
   */
  async maybeFlush(): Promise<void> {
    if (this.buffered < this.flushAt) return;
    const batch = this.take();
    await this.inFlight;
    this.inFlight = this.write(batch);
    // Handled when awaited by the next flush; this only keeps it from counting as unhandled.
    this.inFlight.catch(() => {});
  }

  /** Writes everything buffered and waits until it is written. */
  async flush(): Promise<void> {
    const batch = this.take();
    await this.inFlight;
    this.inFlight = this.write(batch);
    await this.inFlight;
  }

  private inFlight: Promise<void> = Promise.resolve();

  private take(): Map<TableName, Row[]> {
    const batch = new Map(this.buffers);
    this.buffers.clear();
    this.buffered = 0;
    return batch;
  }

  private async write(batch: Map<TableName, Row[]>): Promise<void> {
    let written = 0;
    for (const table of TABLE_ORDER) {
      const rows = batch.get(table);
      if (!rows?.length) continue;
      for (let i = 0; i < rows.length; i += 5_000) {
        await insertRows(this.sql, table, rows.slice(i, i + 5_000));
      }
      this.counts[table] = (this.counts[table] ?? 0) + rows.length;
      written += rows.length;
    }
    this.onFlush(written);
  }
}

/**
 * Bulk-load mode for one transaction: when the role may (superuser), foreign-key triggers are
 * switched off (`session_replication_role = replica`, as pg_restore does) and the keys are
 * checked once, set-based, by {@link verifyForeignKeys} before commit. Returns whether it is on.
 */
export async function enterBulkLoad(tx: Executor): Promise<boolean> {
  const [role] = await tx<{ super: boolean }[]>`
    select rolsuper as super from pg_roles where rolname = current_user`;
  if (!role?.super) return false;
  await tx`set local session_replication_role = replica`;
  return true;
}

/**
 * Checks every foreign key of the given tables with one anti-join each; throws naming the first
 * broken key (the caller's transaction then rolls back).
 */
export async function verifyForeignKeys(tx: Executor, tables: readonly string[]): Promise<void> {
  const keys = await tx<
    { child: string; column: string; parent: string; ref: string; name: string }[]
  >`
    select c.conrelid::regclass::text as child, a.attname as column,
           c.confrelid::regclass::text as parent, r.attname as ref, c.conname as name
    from pg_constraint c
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
    join pg_attribute r on r.attrelid = c.confrelid and r.attnum = c.confkey[1]
    where c.contype = 'f' and cardinality(c.conkey) = 1
      and c.conrelid::regclass::text = any(${tables as string[]})`;
  for (const key of keys) {
    const [broken] = await tx.unsafe<{ n: number }[]>(
      `select count(*)::int as n from ${key.child} c
       where c."${key.column}" is not null
         and not exists (select 1 from ${key.parent} p where p."${key.ref}" = c."${key.column}")`,
    );
    if (broken && broken.n > 0) {
      throw new Error(`${broken.n} ${key.child} rows break foreign key ${key.name}`);
    }
  }
}
