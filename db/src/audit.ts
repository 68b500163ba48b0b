/**
 * The audit trail: who (principal and roles) ran which operation with which input (and its hash),
 * under which request correlation id, and how it ended — refusals included. Written in the
 * operation's own transaction, so a rolled-back operation leaves none; a refusal is written in a
 * small transaction of its own. Rows are append-only: migration 0013 makes UPDATE, DELETE and
 * TRUNCATE on audit_log raise for every database role.
 * Every string is made storable first (NUL, lone surrogates: see ./text.ts): a refusal caused by
 * such input is audited like any other.
 */
import type { Db, Tx } from "./client.ts";
import { requestHash } from "./idempotency.ts";
import { auditLog } from "./schema.ts";
import { storableText } from "./text.ts";

export interface AuditInput {
  actor: string;
  /** The actor's roles (a principal's; empty for a connector). */
  roles?: readonly string[];
  operation: string;
  entityType?: string | null;
  entityId?: string | null;
  /** What is recorded as the input (JSON). */
  input: unknown;
  /**
   * What the input hash is computed over (default: `input`): the operation's own input, so the
   * hash equals the idempotency request hash of the same call.
   */
  hashed?: unknown;
  /** "ok", "replayed" (served from an idempotency key), or an error code. */
  outcome: string;
  /** The entity's lineage id. */
  correlationId?: string | null;
  /** The request's correlation id (x-correlation-id); dropped when it is not a uuid. */
  requestId?: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** sha256 (hex) of an operation's name and canonical input: the `input_hash` of its audit rows. */
export function auditInputHash(operation: string, input: unknown): string {
  return requestHash(operation, storableText(input ?? null));
}

export async function writeAudit(tx: Tx | Db, entry: AuditInput): Promise<void> {
  const requestId = entry.requestId && UUID.test(entry.requestId) ? entry.requestId : null;
  await tx.insert(auditLog).values({
    actor: storableText(entry.actor),
    roles: (entry.roles ?? []).map((role) => storableText(role)),
    operation: storableText(entry.operation),
    entityType: entry.entityType ?? null,
    entityId: entry.entityId ?? null,
    input: storableText(entry.input ?? null),
    inputHash: auditInputHash(entry.operation, "hashed" in entry ? entry.hashed : entry.input),
    outcome: entry.outcome,
    correlationId: entry.correlationId ?? null,
    requestId,
  });
}
