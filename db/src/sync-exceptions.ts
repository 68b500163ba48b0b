/**
 * The exception queue: what the hub could not do, routed to an owner (FINANCE, PROJECT_OPS,
 * SALES_OPS, INTEGRATION) with remediation text that names the field and the record, and a due
 * date from the severity's SLA. Raising the same open problem twice (same code, entity) updates
 * the open exception instead of queueing a duplicate.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Tx } from "./client.ts";
import { emitDomainEvent } from "./domain-events.ts";
import { syncException } from "./schema.ts";

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
