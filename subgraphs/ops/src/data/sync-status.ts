/**
 * syncStatus: per connector and object, the sync cursor's counters and the inbox's backlog,
 * in one statement.
 */
import { type Db, inLegalEntityScope, type LegalEntityScope } from "@pshub/db";
import { inboxEvent } from "@pshub/db/schema";
import { BadUserInputError } from "@pshub/subgraph-kit";
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

interface SyncLagPointRow {
  at: Date;
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface SyncLagSeriesRow {
  connector: string;
  object: string;
  bucketMinutes: number;
  points: SyncLagPointRow[];
}

/** Bounds of Query.syncLagHistory (samples are kept 25 hours: db sync/inbox.ts). */
const MAX_HOURS = 25;
const MAX_BUCKET_MINUTES = 1440;
const MAX_BUCKETS = 300;

/**
 * Query.syncLagHistory: the lag samples of the last `hours` per connector and object, in buckets
 * of `bucketMinutes` aligned to 2000-01-01T00:00Z (date_bin), one statement. Arguments out of
 * bounds are BAD_USER_INPUT.
 */
export async function syncLagHistory(
  db: Pick<Db, "execute">,
  input: {
    connector?: string | null;
    object?: string | null;
    hours?: number | null;
    bucketMinutes?: number | null;
  },
): Promise<SyncLagSeriesRow[]> {
  const args = {
    connector: input.connector ?? null,
    object: input.object ?? null,
    hours: input.hours ?? 24,
    bucketMinutes: input.bucketMinutes ?? 30,
  };
  if (args.hours < 1 || args.hours > MAX_HOURS)
    throw new BadUserInputError(`hours must be 1 to ${MAX_HOURS} (lag samples are kept 25 h)`, {
      argument: "hours",
    });
  if (args.bucketMinutes < 1 || args.bucketMinutes > MAX_BUCKET_MINUTES)
    throw new BadUserInputError(`bucketMinutes must be 1 to ${MAX_BUCKET_MINUTES}`, {
      argument: "bucketMinutes",
    });
  const buckets = Math.ceil((args.hours * 60) / args.bucketMinutes);
  if (buckets > MAX_BUCKETS)
    throw new BadUserInputError(
      `at most ${MAX_BUCKETS} buckets: ${args.hours} h in ${args.bucketMinutes}-minute buckets is ${buckets}`,
      { argument: "bucketMinutes" },
    );
  const rows = await db.execute<Record<string, unknown>>(sql`
    select connector, object,
           date_bin(make_interval(mins => ${args.bucketMinutes}::int), sampled_at,
             timestamptz '2000-01-01 00:00:00+00') as at,
           count(*)::int as samples,
           percentile_disc(0.5) within group (order by lag_ms) as p50,
           percentile_disc(0.99) within group (order by lag_ms) as p99,
           max(lag_ms) as max
      from sync_lag_sample
     where sampled_at > now() - make_interval(hours => ${args.hours}::int)
       and (${args.connector}::text is null or connector = ${args.connector})
       and (${args.object}::text is null or object = ${args.object})
     group by 1, 2, 3
     order by 1, 2, 3`);
  const series = new Map<string, SyncLagSeriesRow>();
  for (const r of rows) {
    const key = `${r.connector}/${r.object}`;
    let one = series.get(key);
    if (!one) {
      one = {
        connector: String(r.connector),
        object: String(r.object),
        bucketMinutes: args.bucketMinutes,
        points: [],
      };
      series.set(key, one);
    }
    one.points.push({
      at: new Date(r.at as string),
      samples: Number(r.samples),
      p50Ms: Number(r.p50),
      p99Ms: Number(r.p99),
      maxMs: Number(r.max),
    });
  }
  return [...series.values()];
}
