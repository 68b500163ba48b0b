/**
 * The exception queue: what the hub could not do, routed to an owner (FINANCE, PROJECT_OPS,
 * SALES_OPS, INTEGRATION) with remediation text that names the field and the record, and a due
 * date from the severity's SLA. Raising the same open problem twice (same code, entity) updates
 * the open exception instead of queueing a duplicate.
 */
import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import { writeAudit } from "./audit.ts";
import type { Tx } from "./client.ts";
import { emitDomainEvent, emitDomainEvents } from "./domain-events.ts";
import { syncException } from "./schema.ts";
import { pgArray } from "./sql-array.ts";

type ExceptionOwner = (typeof syncException.$inferSelect)["owner"];
type ExceptionSeverity = (typeof syncException.$inferSelect)["severity"];
export type SyncExceptionRow = typeof syncException.$inferSelect;

/** SLA per severity: how long the owner has to act. */
export const EXCEPTION_SLA_HOURS: Record<ExceptionSeverity, number> = {
  CRITICAL: 4,
  HIGH: 24,
  MEDIUM: 72,
  LOW: 168,
};

export interface RaiseExceptionInput {
  owner: ExceptionOwner;
  severity?: ExceptionSeverity;
  /** Machine-readable problem code, e.g. "CONVERSION_MISSING_LEGAL_ENTITY". */
  code: string;
  entityType?: string | null;
  entityId?: string | null;
  sourceSystem?: SyncExceptionRow["sourceSystem"];
  sourceRef?: string | null;
  inboxEventId?: number | null;
  commandId?: string | null;
  message: string;
  remediation: string;
  correlationId?: string | null;
  /** Who raised it (for the domain event). */
  actor: string;
}

/** Raises (or refreshes) an exception in the caller's transaction and emits sync_exception.raised. */
export async function raiseSyncException(
  tx: Tx,
  input: RaiseExceptionInput,
): Promise<SyncExceptionRow> {
  const severity = input.severity ?? "MEDIUM";
  const dueAt = sql`now() + make_interval(hours => ${EXCEPTION_SLA_HOURS[severity]})`;
  const open =
    input.entityType && input.entityId
      ? await tx
          .select()
          .from(syncException)
          .where(
            and(
              eq(syncException.code, input.code),
              eq(syncException.entityType, input.entityType),
              eq(syncException.entityId, input.entityId),
              inArray(syncException.status, ["OPEN", "RETRYING"]),
            ),
          )
          .for("update")
      : [];
  let row: SyncExceptionRow | undefined;
  if (open[0]) {
    [row] = await tx
      .update(syncException)
      .set({
        message: input.message,
        remediation: input.remediation,
        severity,
        status: "OPEN",
        attempts: sql`${syncException.attempts} + 1`,
        updatedAt: sql`now()`,
      })
      .where(eq(syncException.id, open[0].id))
      .returning();
  } else {
    [row] = await tx
      .insert(syncException)
      .values({
        owner: input.owner,
        severity,
        code: input.code,
        entityType: input.entityType ?? null,
        entityId: input.entityId ?? null,
        sourceSystem: input.sourceSystem ?? null,
        sourceRef: input.sourceRef ?? null,
        inboxEventId: input.inboxEventId ?? null,
        commandId: input.commandId ?? null,
        message: input.message,
        remediation: input.remediation,
        dueAt,
        correlationId: input.correlationId ?? null,
      })
      .returning();
  }
  await emitDomainEvent(tx, {
    type: "sync_exception.raised",
    entityType: "sync_exception",
    entityId: row!.id,
    payload: {
      owner: row!.owner,
      severity: row!.severity,
      code: row!.code,
      entityType: row!.entityType,
      entityId: row!.entityId,
      message: row!.message,
    },
    correlationId: input.correlationId ?? null,
    actor: input.actor,
  });
  return row!;
}

/**
 * Closes the still OPEN or RETRYING exceptions selected by `where` as RESOLVED by `actor` with
 * `note` (each a sync_exception.status_changed event). Exceptions raised or refreshed in the
 * current transaction (updated_at = now(), the transaction's start) are left open: they are the
 * outcome being recorded, not the one being cleared.
 */
async function resolveWhere(
  tx: Tx,
  where: SQL,
  actor: string,
  note: (row: { inboxEventId: number | null }) => string,
): Promise<{ id: string; from: string; inboxEventId: number | null; note: string }[]> {
  const open = await tx.execute<{
    id: string;
    status: string;
    owner: string;
    code: string;
    correlation_id: string | null;
    inbox_event_id: string | null;
  }>(sql`
    select id, status::text as status, owner::text as owner, code, correlation_id,
      inbox_event_id::text as inbox_event_id
    from sync_exception
    where ${where} and status in ('OPEN', 'RETRYING') and updated_at < now()
    for update`);
  if (open.length === 0) return [];
  const rows = open.map((r) => {
    const inboxEventId = r.inbox_event_id === null ? null : Number(r.inbox_event_id);
    return { ...r, inboxEventId, note: note({ inboxEventId }) };
  });
  await tx.execute(sql`
    update sync_exception s
    set status = 'RESOLVED', resolved_by = ${actor}, resolved_at = now(),
        resolution_note = v.note, updated_at = now()
    from jsonb_to_recordset(${JSON.stringify(rows.map((r) => ({ id: r.id, note: r.note })))}::jsonb)
      as v(id uuid, note text)
    where s.id = v.id`);
  await emitDomainEvents(
    tx,
    rows.map((r) => ({
      type: "sync_exception.status_changed" as const,
      entityType: "sync_exception",
      entityId: r.id,
      payload: { from: r.status, to: "RESOLVED", owner: r.owner, code: r.code, note: r.note },
      correlationId: r.correlation_id,
      actor,
    })),
  );
  return rows.map((r) => ({
    id: r.id,
    from: r.status,
    inboxEventId: r.inboxEventId,
    note: r.note,
  }));
}

/**
 * The command succeeded: the exceptions it had raised that are still OPEN or RETRYING are
 * RESOLVED by `actor`. Call it in the transaction that marks the command SUCCEEDED (the worker
 * audits the attempt itself).
 */
export async function resolveCommandExceptions(
  tx: Tx,
  command: { id: string; attempts: number },
  actor: string,
): Promise<number> {
  const note = `command ${command.id} succeeded (attempt ${command.attempts})`;
  const rows = await resolveWhere(tx, sql`command_id = ${command.id}`, actor, () => note);
  return rows.length;
}

/**
 * Inbox events that were applied (or skipped: nothing left to do) after a replay: their OPEN or
 * RETRYING exceptions are RESOLVED by `actor` (the connector), each with a status_changed event
 * and an audit row (`resolveException`, outcome "ok"), in the transaction that records the
 * events' outcome.
 */
export async function resolveInboxExceptions(
  tx: Tx,
  outcomes: { inboxEventId: number; status: string }[],
  actor: string,
): Promise<number> {
  if (outcomes.length === 0) return 0;
  const statusOf = new Map(outcomes.map((o) => [o.inboxEventId, o.status]));
  const rows = await resolveWhere(
    tx,
    sql`inbox_event_id = any(${pgArray([...statusOf.keys()])}::bigint[])`,
    actor,
    ({ inboxEventId }) =>
      `inbox event ${inboxEventId} ${statusOf.get(inboxEventId!) === "SKIPPED" ? "skipped (nothing left to apply)" : "applied"} on replay`,
  );
  for (const r of rows) {
    await writeAudit(tx, {
      actor,
      operation: "resolveException",
      entityType: "sync_exception",
      entityId: r.id,
      input: { exceptionId: r.id, inboxEventId: r.inboxEventId, from: r.from, note: r.note },
      outcome: "ok",
    });
  }
  return rows.length;
}
