/**
 * The inbox (inbound side of the outbox pattern): every inbound change is recorded as received,
 * unique per (source, dedupe_key), raw payload kept for replay. Writes are set-based (one
 * statement per batch, unnest) and take the caller's transaction, so a connector's
 * cursor is stored in the same transaction as the records it covers.
 *
 * States: RECEIVED (to apply; with `waiting_for` set it waits for a parent record), APPLIED,
 * SKIPPED (duplicate change, stale, unchanged, or deliberately not tracked), FAILED (mapping or
 * domain rule refused it; a sync_exception names the fix; webhooks refused at the door are FAILED
 * rows too, with the HTTP status in `reason`). `reason` always says why.
 */
import { sql } from "drizzle-orm";
import type { Db, Tx } from "../client.ts";
import { pgArray } from "../sql-array.ts";
import type { SyncSystem } from "./entities.ts";

/** Wake-up channel for appliers (payload: the source). Rows are read from the table. */
export const INBOX_CHANNEL = "pshub_inbox";

/** inbox_event's id sequence, as an init plan: pg_get_serial_sequence is not constant-folded, so
 *  called per row it looked the sequence up in the catalogue for every id (half of the cost of
 *  reserving a 2,000-key batch). */
const INBOX_ID_SEQUENCE = sql`(select pg_get_serial_sequence('inbox_event', 'id')::regclass)`;

export interface InboxRecordInput {
  dedupeKey: string;
  /** null for deliveries refused before their source could be trusted. */
  system: SyncSystem | null;
  object: string;
  externalId: string | null;
  /** The whole inbound record as received (kept for replay). */
  payload: unknown;
  sourceModifiedAt?: string | null;
  /** Normally RECEIVED; webhooks refused at the door are written FAILED with a reason. */
  status?: "RECEIVED" | "FAILED";
  reason?: string | null;
  /** An id taken by reserveInboxIds (the row is then written with it). */
  id?: number;
  /** The record was applied before it was written (same transaction): the row is written in
   *  that final state, counted like recordInboxOutcomes counts (one insert, no later update). */
  outcome?: InboxOutcome;
}

export interface CursorInput {
  connector: string;
  object: string;
  cursor: Record<string, unknown>;
  lagMs?: number | null;
}

export interface InboxRow {
  id: number;
  source: string;
  dedupeKey: string;
  object: string;
  externalId: string | null;
  system: SyncSystem | null;
  payload: unknown;
  attempts: number;
  waitingFor: string | null;
  sourceModifiedAt: string | null;
}

/**
 * Records a batch of inbound changes for one source (connector) and, when given, its cursor —
 * in the caller's transaction. Duplicates (same source + dedupe key, also within the batch) are
 * not recorded again. Counts `records_in` per object on the cursor rows. Sends a wake-up NOTIFY.
 *
 * The rows, the counters and the NOTIFY are ONE statement (one round trip). Given the pool
 * instead of a transaction (no cursor: nothing else has to commit with it), that statement is its
 * own transaction: when the call resolves the rows are committed, and a failure records none of
 * them — the webhook receiver's group commit answers its deliveries on that.
 */
export async function writeInbox(
  tx: Tx,
  source: string,
  records: InboxRecordInput[],
  cursor?: CursorInput,
): Promise<WrittenInbox>;
export async function writeInbox(
  db: Db,
  source: string,
  records: InboxRecordInput[],
): Promise<WrittenInbox>;
export async function writeInbox(
  tx: Tx | Db,
  source: string,
  records: InboxRecordInput[],
  cursor?: CursorInput,
): Promise<WrittenInbox> {
  let ids: number[] = [];
  const idsByKey = new Map<string, number>();
  if (records.length > 0) {
    // One array per column (unnest) and the payloads as one JSON array: jsonb_to_recordset built
    // a jsonb document of the whole batch first and each payload's jsonb after it (~60 % of the
    // statement's CPU on a 2,000-record page); a json payload is kept as the text it was sent.
    const cols = {
      id: [] as (number | null)[],
      dedupeKey: [] as string[],
      system: [] as (string | null)[],
      object: [] as string[],
      externalId: [] as (string | null)[],
      sourceModifiedAt: [] as (string | null)[],
      status: [] as string[],
      reason: [] as (string | null)[],
      applied: [] as boolean[],
      waitingFor: [] as (string | null)[],
      entityType: [] as (string | null)[],
      entityId: [] as (string | null)[],
      ignored: [] as (string | null)[],
      error: [] as (string | null)[],
    };
    let leftToAppliers = false;
    for (const r of records) {
      const o = r.outcome;
      const status = o
        ? o.status === "WAITING"
          ? "RECEIVED"
          : o.status
        : (r.status ?? "RECEIVED");
      cols.id.push(r.id ?? null);
      cols.dedupeKey.push(r.dedupeKey);
      cols.system.push(r.system);
      cols.object.push(r.object);
      cols.externalId.push(r.externalId);
      cols.sourceModifiedAt.push(r.sourceModifiedAt ?? null);
      cols.status.push(status);
      cols.reason.push(o ? o.reason : (r.reason ?? null));
      // Only rows applied before they were written have these (and count as attempted once).
      cols.applied.push(o !== undefined);
      cols.waitingFor.push(o?.status === "WAITING" ? (o.waitingFor ?? null) : null);
      cols.entityType.push(o?.entityType ?? null);
      cols.entityId.push(o?.entityId ?? null);
      // A row's list as an array literal inside the text[] (unnest cannot take ragged arrays).
      cols.ignored.push(o?.ignoredFields?.length ? pgArray(o.ignoredFields) : null);
      cols.error.push(o?.status === "FAILED" ? o.reason : null);
      if (!o && status === "RECEIVED") leftToAppliers = true;
    }
    // Appliers are woken only for rows left to them (written RECEIVED, due now).
    const notify = leftToAppliers
      ? sql`(select pg_notify(${INBOX_CHANNEL}, ${source}))::text`
      : sql`null`;
    // The counter CTE runs whether or not it is read (a data-modifying CTE always does); the
    // NOTIFY is an init plan of the result, sent once if any row was recorded.
    const inserted = await tx.execute<{ id: string; dedupe_key: string }>(sql`
      with inserted as (
        insert into inbox_event (id, source, dedupe_key, system, object, external_id, payload,
          source_modified_at, status, reason, processed_at, waiting_for, entity_type, entity_id,
          ignored_fields, error, attempts, next_attempt_at)
        select coalesce(r.id, nextval(${INBOX_ID_SEQUENCE})), ${source},
          r.dedupe_key, r.system::external_system, r.object, r.external_id, r.payload,
          r.source_modified_at, r.status::inbox_status, r.reason,
          case when r.status = 'RECEIVED' then null else now() end, r.waiting_for, r.entity_type,
          r.entity_id, r.ignored::text[], r.error, case when r.applied then 1 else 0 end,
          case when r.applied and r.status = 'RECEIVED'
            then now() + make_interval(secs => ${WAITING_RETRY_SECONDS}) end
        from rows from (
          unnest(${pgArray(cols.id)}::bigint[], ${pgArray(cols.dedupeKey)}::text[],
            ${pgArray(cols.system)}::text[], ${pgArray(cols.object)}::text[],
            ${pgArray(cols.externalId)}::text[], ${pgArray(cols.sourceModifiedAt)}::timestamptz[],
            ${pgArray(cols.status)}::text[], ${pgArray(cols.reason)}::text[],
            ${pgArray(cols.applied)}::boolean[], ${pgArray(cols.waitingFor)}::text[],
            ${pgArray(cols.entityType)}::text[], ${pgArray(cols.entityId)}::uuid[],
            ${pgArray(cols.ignored)}::text[], ${pgArray(cols.error)}::text[]),
          json_array_elements(${JSON.stringify(records.map((r) => r.payload))}::json))
          as r(id, dedupe_key, system, object, external_id, source_modified_at, status, reason,
            applied, waiting_for, entity_type, entity_id, ignored, error, payload)
        on conflict (source, dedupe_key) do nothing
        returning id, object, dedupe_key, status, attempts > 0 as applied,
          coalesce(cardinality(ignored_fields), 0) as ignored
      ), counted as (
        insert into sync_cursor (connector, object, records_in, records_out, error_count,
          ignored_fields)
        select ${source}, object, count(*),
          count(*) filter (where applied and status = 'APPLIED'),
          count(*) filter (where applied and status = 'FAILED'),
          coalesce(sum(ignored) filter (where applied), 0)
        from inserted group by object
        on conflict (connector, object) do update
          set records_in = sync_cursor.records_in + excluded.records_in,
            records_out = sync_cursor.records_out + excluded.records_out,
            error_count = sync_cursor.error_count + excluded.error_count,
            ignored_fields = sync_cursor.ignored_fields + excluded.ignored_fields,
            updated_at = now()
      )
      select id, dedupe_key, ${notify} as notified
      from inserted`);
    ids = inserted.map((r) => Number(r.id));
    for (const r of inserted) idsByKey.set(r.dedupe_key, Number(r.id));
  }
  if (cursor) await saveCursor(tx as Tx, cursor);
  return { received: ids.length, duplicates: records.length - ids.length, ids, idsByKey };
}

export interface WrittenInbox {
  received: number;
  duplicates: number;
  ids: number[];
  /** Inbox id by dedupe key, of the rows this call recorded (duplicates are absent). */
  idsByKey: Map<string, number>;
}

/**
 * Takes inbox ids for the dedupe keys of one source that are not recorded yet, in the caller's
 * transaction: null for a key already in the inbox (or earlier in the same list). An applier that
 * applies a batch before writing it (rows written once, in their final state) needs the ids for
 * its outcomes; writeInbox's `on conflict do nothing` still guards a concurrent writer.
 */
export async function reserveInboxIds(
  tx: Tx,
  source: string,
  dedupeKeys: string[],
): Promise<(number | null)[]> {
  if (dedupeKeys.length === 0) return [];
  // One index probe per key (lateral): as `exists` the planner hashed a scan of the source's
  // whole inbox instead, per batch. The sequence is looked up once (an init plan), not per row.
  const rows = await tx.execute<{ id: string | null }>(sql`
    select case when e.seen then null else nextval(${INBOX_ID_SEQUENCE}) end as id
    from unnest(${pgArray(dedupeKeys)}::text[]) with ordinality as k(key, ord)
    left join lateral (select true as seen from inbox_event e
      where e.source = ${source} and e.dedupe_key = k.key) e on true
    order by k.ord`);
  const seen = new Set<string>();
  return dedupeKeys.map((key, i) => {
    const id = rows[i]?.id;
    if (id == null || seen.has(key)) return null;
    seen.add(key);
    return Number(id);
  });
}

/** How long lag samples are kept (Kpis.syncHealth reads the last 24 h; an hour's margin). */
const SYNC_LAG_RETENTION = "25 hours";

/**
 * Stores a cursor (and marks a successful poll). Use in the transaction of the data it covers.
 * A cursor that carries a lag also records it as a sample (sync_lag_sample, the 24 h history of
 * Kpis.syncHealth) and prunes that object's samples older than SYNC_LAG_RETENTION.
 */
export async function saveCursor(tx: Tx, cursor: CursorInput): Promise<void> {
  const lagMs = cursor.lagMs == null ? null : Math.min(Math.round(cursor.lagMs), 2_147_483_647);
  await tx.execute(sql`
    insert into sync_cursor (connector, object, cursor, lag_ms, last_success_at, last_poll_at)
    values (${cursor.connector}, ${cursor.object}, ${JSON.stringify(cursor.cursor)}::jsonb,
      ${lagMs}, now(), now())
    on conflict (connector, object) do update set cursor = excluded.cursor,
      lag_ms = coalesce(excluded.lag_ms, sync_cursor.lag_ms), last_success_at = now(),
      last_poll_at = now(), updated_at = now()`);
  if (lagMs == null) return;
  await tx.execute(sql`
    with pruned as (
      delete from sync_lag_sample where connector = ${cursor.connector} and object = ${cursor.object}
        and sampled_at < now() - ${SYNC_LAG_RETENTION}::interval)
    insert into sync_lag_sample (connector, object, lag_ms) values (${cursor.connector}, ${cursor.object}, ${lagMs})`);
}

/** The stored cursor of (connector, object), {} when none. */
export async function readCursor(
  tx: Tx,
  connector: string,
  object: string,
): Promise<Record<string, unknown>> {
  const [row] = await tx.execute<{ cursor: Record<string, unknown> }>(sql`
    select cursor from sync_cursor where connector = ${connector} and object = ${object}`);
  return row?.cursor ?? {};
}

/** The cursor and the back-off of (connector, object), for a poll loop. */
export async function readSyncCursor(
  tx: Tx,
  connector: string,
  object: string,
): Promise<{ cursor: Record<string, unknown>; pausedUntil: Date | null }> {
  const [row] = await tx.execute<{
    cursor: Record<string, unknown>;
    paused_until: string | null;
  }>(sql`
    select cursor, paused_until::text from sync_cursor
    where connector = ${connector} and object = ${object}`);
  return {
    cursor: row?.cursor ?? {},
    pausedUntil: row?.paused_until ? new Date(row.paused_until) : null,
  };
}

export interface PollStatusInput {
  connector: string;
  object: string;
  /** A poll that read nothing still counts as a success (the source answered). */
  ok: boolean;
  error?: string | null;
  pausedUntil?: Date | null;
  apiBudget?: { used: number; limit: number } | null;
  leader?: string | null;
}

/** Records the outcome of one poll for syncStatus (not the cursor: that moves with data only). */
export async function recordPoll(tx: Tx, input: PollStatusInput): Promise<void> {
  await tx.execute(sql`
    insert into sync_cursor (connector, object, last_poll_at, last_success_at, last_error_at,
      last_error, paused_until, api_budget_used, api_budget_limit, leader)
    values (${input.connector}, ${input.object}, now(),
      case when ${input.ok} then now() end, case when ${input.ok} then null else now() end,
      ${input.error ?? null}, ${input.pausedUntil ?? null}, ${input.apiBudget?.used ?? null},
      ${input.apiBudget?.limit ?? null}, ${input.leader ?? null})
    on conflict (connector, object) do update set last_poll_at = now(),
      last_success_at = case when ${input.ok} then now() else sync_cursor.last_success_at end,
      last_error_at = case when ${input.ok} then sync_cursor.last_error_at else now() end,
      last_error = case when ${input.ok} then sync_cursor.last_error else excluded.last_error end,
      error_count = sync_cursor.error_count + case when ${input.ok} then 0 else 1 end,
      paused_until = excluded.paused_until,
      api_budget_used = coalesce(excluded.api_budget_used, sync_cursor.api_budget_used),
      api_budget_limit = coalesce(excluded.api_budget_limit, sync_cursor.api_budget_limit),
      leader = coalesce(excluded.leader, sync_cursor.leader), updated_at = now()`);
}

/**
 * Claims up to `limit` RECEIVED inbox rows that are due (not waiting, or waiting and due for a
 * periodic retry), oldest first, locked FOR UPDATE SKIP LOCKED: several appliers never take the
 * same row. Call inside the batch's transaction.
 */
export async function claimInbox(tx: Tx, limit: number): Promise<InboxRow[]> {
  const rows = await tx.execute<{
    id: string;
    source: string;
    dedupe_key: string;
    object: string;
    external_id: string | null;
    system: SyncSystem | null;
    payload: unknown;
    attempts: number;
    waiting_for: string | null;
    source_modified_at: string | null;
  }>(sql`
    select id, source, dedupe_key, object, external_id, system, payload, attempts, waiting_for,
      source_modified_at::text
    from inbox_event
    where status = 'RECEIVED' and (next_attempt_at is null or next_attempt_at <= now())
    order by id
    limit ${limit}
    for update skip locked`);
  return rows.map((r) => ({
    id: Number(r.id),
    source: r.source,
    dedupeKey: r.dedupe_key,
    object: r.object,
    externalId: r.external_id,
    system: r.system,
    payload: r.payload,
    attempts: r.attempts,
    waitingFor: r.waiting_for,
    sourceModifiedAt: r.source_modified_at,
  }));
}

export type InboxOutcomeStatus = "APPLIED" | "SKIPPED" | "FAILED" | "WAITING";

export interface InboxOutcome {
  id: number;
  status: InboxOutcomeStatus;
  reason: string;
  /** WAITING: `SYSTEM:object:externalId` of the missing parent. */
  waitingFor?: string | null;
  entityType?: string | null;
  entityId?: string | null;
  ignoredFields?: string[];
}

/** How long a waiting record sleeps before a periodic retry (it is also woken by its parent). */
export const WAITING_RETRY_SECONDS = 300;

/**
 * Writes every outcome of a batch in one statement, and the per-object counters (records out,
 * errors, ignored fields) on the sync cursors. WAITING rows stay RECEIVED with `waiting_for`.
 */
export async function recordInboxOutcomes(tx: Tx, outcomes: InboxOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const rows = outcomes.map((o) => ({
    id: o.id,
    status: o.status === "WAITING" ? "RECEIVED" : o.status,
    reason: o.reason,
    waiting_for: o.status === "WAITING" ? (o.waitingFor ?? null) : null,
    entity_type: o.entityType ?? null,
    entity_id: o.entityId ?? null,
    ignored: o.ignoredFields?.length ? o.ignoredFields : null,
    error: o.status === "FAILED" ? o.reason : null,
  }));
  await tx.execute(sql`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as v(id bigint,
        status text, reason text, waiting_for text, entity_type text, entity_id uuid,
        ignored text[], error text)
    ), updated as (
      update inbox_event e set status = v.status::inbox_status, reason = v.reason,
        waiting_for = v.waiting_for, entity_type = coalesce(v.entity_type, e.entity_type),
        entity_id = coalesce(v.entity_id, e.entity_id), ignored_fields = v.ignored,
        error = v.error, attempts = e.attempts + 1,
        processed_at = case when v.status = 'RECEIVED' then null else now() end,
        next_attempt_at = case when v.status = 'RECEIVED'
          then now() + make_interval(secs => ${WAITING_RETRY_SECONDS}) end
      from v where e.id = v.id
      returning e.source, e.object, v.status, coalesce(cardinality(v.ignored), 0) as ignored
    ), counts as (
      select source, object, count(*) filter (where status = 'APPLIED') as applied,
        count(*) filter (where status = 'FAILED') as failed, sum(ignored) as ignored
      from updated group by source, object
    )
    insert into sync_cursor (connector, object, records_out, error_count, ignored_fields)
    select source, object, applied, failed, ignored from counts
    on conflict (connector, object) do update set
      records_out = sync_cursor.records_out + excluded.records_out,
      error_count = sync_cursor.error_count + excluded.error_count,
      ignored_fields = sync_cursor.ignored_fields + excluded.ignored_fields,
      updated_at = now()`);
}

/**
 * Wakes records waiting for a parent: they become due now. Runs AFTER the batch's transaction has
 * committed, so appliers in two processes cannot miss each other: a child one process leaves
 * waiting while another commits its parent is woken either by the parent's side (the child's
 * WAITING row is committed before the parent's wake-up runs: `parents`, the keys the batch applied)
 * or by the child's side (the parent's link is committed before the child's check runs:
 * `waitingIds`, the rows the batch left waiting, whose parent now has a source link). Inside the
 * transaction neither side could see the other's uncommitted rows. Returns how many were woken.
 */
export async function wakeWaiting(
  db: Db | Tx,
  parents: string[],
  waitingIds: number[] = [],
): Promise<number> {
  if (parents.length === 0 && waitingIds.length === 0) return 0;
  const woken = await db.execute(sql`
    update inbox_event e set next_attempt_at = null
    where e.status = 'RECEIVED' and e.waiting_for is not null and e.next_attempt_at is not null
      and (e.waiting_for = any(${pgArray(parents)}::text[])
        or (e.id = any(${pgArray(waitingIds)}::bigint[]) and exists (
          select 1 from source_link l
          where l.system = split_part(e.waiting_for, ':', 1)::external_system
            and l.object = split_part(e.waiting_for, ':', 2)
            and l.external_id = regexp_replace(e.waiting_for, '^[^:]*:[^:]*:', ''))))
    returning e.id`);
  return woken.length;
}

/** The key a waiting record names its missing parent by. */
export function parentKey(system: string, object: string, externalId: string): string {
  return `${system}:${object}:${externalId}`;
}

/** Puts FAILED inbox rows back to RECEIVED (replay after a fix at the source or the mapper). */
export async function replayInbox(tx: Tx, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await tx.execute(sql`
    update inbox_event set status = 'RECEIVED', next_attempt_at = null, waiting_for = null,
      reason = 'replay requested', processed_at = null
    where id = any(${pgArray(ids)}::bigint[]) and status in ('FAILED', 'SKIPPED')
      and payload -> 'system' is not null
    returning id`);
  await tx.execute(sql`select pg_notify(${INBOX_CHANNEL}, 'replay')`);
  return rows.length;
}
