/**
 * The outbound queue's hub side: commands are queued here, in the transaction of the change that
 * causes them (issueInvoice, convertOpportunity, every invoice status change), and put back in the
 * queue here (retryException, replayCommand). The worker that runs them lives in cdc/outbound.
 *
 * Glossary:
 * - command: one write-back to one target (ERP, SALESFORCE, PSA) about one canonical entity,
 *   unique by its idempotency key, so queuing it twice is one command.
 * - seq: the queue order. One entity's commands run one at a time in seq order (not created_at:
 *   commands queued in one transaction share a timestamp).
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Tx } from "./client.ts";
import { outboundCommand } from "./schema.ts";

export type OutboundCommandRow = typeof outboundCommand.$inferSelect;
export type OutboundTarget = OutboundCommandRow["target"];

/** NOTIFY channel that wakes the outbound worker (delivered at commit). */
export const OUTBOUND_CHANNEL = "pshub_outbound";

export interface EnqueueCommandInput {
  target: OutboundTarget;
  /** What to do, e.g. "invoice.post"; the worker has one handler per kind. */
  kind: string;
  /** Unique per effect: the same key queued again is the same command. */
  idempotencyKey: string;
  entityType: string;
  entityId: string;
  payload?: Record<string, unknown>;
  correlationId?: string | null;
}

/**
 * Queues commands in the caller's transaction (in the given order); a key already queued is left
 * as it is. Returns the commands this call inserted.
 */
export async function enqueueCommands(
  tx: Tx,
  commands: EnqueueCommandInput[],
): Promise<OutboundCommandRow[]> {
  if (commands.length === 0) return [];
  // One insert per command keeps their seq in the given order.
  const inserted: OutboundCommandRow[] = [];
  for (const c of commands) {
    const rows = await tx
      .insert(outboundCommand)
      .values({
        target: c.target,
        kind: c.kind,
        idempotencyKey: c.idempotencyKey,
        entityType: c.entityType,
        entityId: c.entityId,
        payload: c.payload ?? {},
        correlationId: c.correlationId ?? null,
      })
      .onConflictDoNothing()
      .returning();
    inserted.push(...rows);
  }
  if (inserted.length > 0) await tx.execute(sql`select pg_notify(${OUTBOUND_CHANNEL}, 'queued')`);
  return inserted;
}

/**
 * Puts a command back in the queue now with fresh attempts. Without `replay` only a FAILED or
 * CANCELLED command moves; with it a SUCCEEDED one too (its handler is idempotent by external id,
 * so a replay re-sends without creating anything twice). Returns undefined when the command is in
 * none of those states (PENDING or RUNNING: it is queued already).
 */
export async function requeueCommand(
  tx: Tx,
  commandId: string,
  options: { replay?: boolean } = {},
): Promise<OutboundCommandRow | undefined> {
  const states: OutboundCommandRow["state"][] = options.replay
    ? ["FAILED", "CANCELLED", "SUCCEEDED"]
    : ["FAILED", "CANCELLED"];
  const [row] = await tx
    .update(outboundCommand)
    .set({
      state: "PENDING",
      attempts: 0,
      nextAttemptAt: sql`now()`,
      lockedAt: null,
      lockedBy: null,
      updatedAt: sql`now()`,
    })
    .where(and(eq(outboundCommand.id, commandId), inArray(outboundCommand.state, states)))
    .returning();
  if (row) await tx.execute(sql`select pg_notify(${OUTBOUND_CHANNEL}, 'requeued')`);
  return row;
}

/** Invoice statuses whose change is propagated to Salesforce (and, for some, the PSA). */
const PROPAGATED: ReadonlySet<string> = new Set([
  "POSTED",
  "PARTIALLY_PAID",
  "PAID",
  "DISPUTED",
  "VOID",
]);
/** The PSA hears of posting (time, expenses, milestones invoiced) and of a void (no longer). */
const PSA_PROPAGATED: ReadonlySet<string> = new Set(["POSTED", "VOID"]);

/**
 * Commands an invoice status change queues (in its transaction): Salesforce gets the invoice
 * status and the billed / paid totals of its opportunity and account; the PSA, on POSTED and VOID,
 * which time, expenses and milestones are invoiced. Keyed by the invoice's version, so each change
 * is one command; the handlers send the invoice's state as it is when they run.
 */
export function invoiceStatusCommands(inv: {
  id: string;
  status: string;
  version: number;
  correlationId: string | null;
}): EnqueueCommandInput[] {
  if (!PROPAGATED.has(inv.status)) return [];
  const common = {
    entityType: "invoice",
    entityId: inv.id,
    payload: { invoiceId: inv.id, status: inv.status },
    correlationId: inv.correlationId,
  };
  const commands: EnqueueCommandInput[] = [
    {
      ...common,
      target: "SALESFORCE",
      kind: "invoice.status.salesforce",
      idempotencyKey: `salesforce:invoice.status:${inv.id}:v${inv.version}`,
    },
  ];
  if (PSA_PROPAGATED.has(inv.status))
    commands.push({
      ...common,
      target: "PSA",
      kind: "invoice.status.psa",
      idempotencyKey: `psa:invoice.status:${inv.id}:v${inv.version}`,
    });
  return commands;
}

/**
 * Commands a conversion queues: the customer in the ERP (upsert by external id = hub id) and the
 * project structure in the PSA (pse__Proj__c and its milestones, upsert by external id).
 */
export function conversionCommands(result: {
  opportunityId: string;
  customerId: string;
  projectId: string;
  correlationId: string | null;
}): EnqueueCommandInput[] {
  return [
    {
      target: "ERP",
      kind: "customer.upsert",
      idempotencyKey: `erp:customer.upsert:${result.customerId}:${result.opportunityId}`,
      entityType: "customer",
      entityId: result.customerId,
      payload: { customerId: result.customerId, opportunityId: result.opportunityId },
      correlationId: result.correlationId,
    },
    {
      target: "PSA",
      kind: "project.upsert",
      idempotencyKey: `psa:project.upsert:${result.projectId}`,
      entityType: "project",
      entityId: result.projectId,
      payload: { projectId: result.projectId, opportunityId: result.opportunityId },
      correlationId: result.correlationId,
    },
  ];
}
