/**
 * syncStatus: per connector and object, the sync cursor's counters and the inbox's backlog,
 * in one statement.
 */
import { type Db, inLegalEntityScope, type LegalEntityScope } from "@pshub/db";
import { inboxEvent } from "@pshub/db/schema";
import { sql } from "drizzle-orm";

export interface SyncStatusRow {
  connector: string;
  object: string;
  leader: string | null;
  lastPollAt: Date | null;
  lastSuccessAt: Date | null;
  lastErrorAt: Date | null;
  lastError: string | null;
  lagMs: number | null;
  cursor: string;
  recordsIn: number;
  recordsOut: number;
  errors: number;
  ignoredFields: number;
  pending: number;
  waiting: number;
  apiBudgetUsed: number | null;
  apiBudgetLimit: number | null;
  pausedUntil: Date | null;
}

/** `scope`: the caller's legal entities; the inbox backlog counts only their entities' rows. */
export async function syncStatus(
  db: Db,
  connector: string | null | undefined,
  scope: LegalEntityScope,
): Promise<SyncStatusRow[]> {
  const rows = await db.execute<Record<string, unknown>>(sql`
    with backlog as (
      select source, object,
        count(*) filter (where waiting_for is null)::int as pending,
        count(*) filter (where waiting_for is not null)::int as waiting
      from inbox_event where status = 'RECEIVED'
        and (${connector ?? null}::text is null or source = ${connector ?? null})
        and ${inLegalEntityScope(inboxEvent, scope) ?? sql`true`}
      group by source, object
    )
    select coalesce(c.connector, b.source) as connector, coalesce(c.object, b.object) as object,
      c.leader, c.last_poll_at, c.last_success_at, c.last_error_at, c.last_error, c.lag_ms,
      coalesce(c.cursor, '{}'::jsonb)::text as cursor, coalesce(c.records_in, 0)::int as records_in,
      coalesce(c.records_out, 0)::int as records_out, coalesce(c.error_count, 0)::int as errors,
      coalesce(c.ignored_fields, 0)::int as ignored_fields, coalesce(b.pending, 0) as pending,
      coalesce(b.waiting, 0) as waiting, c.api_budget_used, c.api_budget_limit, c.paused_until
    from (select * from sync_cursor
          where ${connector ?? null}::text is null or connector = ${connector ?? null}) c
    full join backlog b on b.source = c.connector and b.object = c.object
    order by 1, 2`);
  const date = (v: unknown) => (v == null ? null : new Date(v as string));
  return rows.map((r) => ({
    connector: String(r.connector),
    object: String(r.object),
    leader: (r.leader as string | null) ?? null,
    lastPollAt: date(r.last_poll_at),
    lastSuccessAt: date(r.last_success_at),
    lastErrorAt: date(r.last_error_at),
    lastError: (r.last_error as string | null) ?? null,
    lagMs: (r.lag_ms as number | null) ?? null,
    cursor: String(r.cursor),
    recordsIn: Number(r.records_in),
    recordsOut: Number(r.records_out),
    errors: Number(r.errors),
    ignoredFields: Number(r.ignored_fields),
    pending: Number(r.pending),
    waiting: Number(r.waiting),
    apiBudgetUsed: (r.api_budget_used as number | null) ?? null,
    apiBudgetLimit: (r.api_budget_limit as number | null) ?? null,
    pausedUntil: date(r.paused_until),
  }));
}
