/**
 * The audit trail: who ran which operation with which input, under which correlation id, and how
 * it ended. Written in the operation's own transaction, so a rolled-back operation leaves none.
 * Every string is made storable first (NUL, lone surrogates: see ./text.ts): a refusal caused by
 * such input is audited like any other.
 */
import type { Tx } from "./client.ts";
import { auditLog } from "./schema.ts";
import { storableText } from "./text.ts";

export interface AuditInput {
  actor: string;
  operation: string;
  entityType?: string | null;
  entityId?: string | null;
  input: unknown;
  /** "ok", "replayed" (served from an idempotency key), or an error code. */
  outcome: string;
  correlationId?: string | null;
}

export async function writeAudit(tx: Tx, entry: AuditInput): Promise<void> {
  await tx.insert(auditLog).values({
    actor: storableText(entry.actor),
    operation: entry.operation,
    entityType: entry.entityType ?? null,
    entityId: entry.entityId ?? null,
    input: storableText(entry.input ?? null),
    outcome: entry.outcome,
    correlationId: entry.correlationId ?? null,
  });
}
