/**
 * Idempotency keys: the same key + the same request returns the stored response; the same key with
 * a different request (or another operation) fails with IDEMPOTENCY_MISMATCH. Keys are scoped to
 * the principal and kept for at least 24 hours (an expired key is treated as new).
 *
 * Concurrency: the key row is inserted first, in the caller's transaction. A concurrent call with
 * the same key blocks on the unique index until the first transaction ends; if it committed, the
 * waiter reads the stored response; if it rolled back, the waiter's insert succeeds and it runs.
 * So two calls with one key can never both take effect.
 */
import { createHash } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import type { Tx } from "./client.ts";
import { ConflictError, IdempotencyMismatchError, InvalidInputError } from "./errors.ts";
import { idempotencyKey } from "./schema.ts";

/** How long a key is kept. */
const IDEMPOTENCY_TTL_HOURS = 24;

export interface IdempotencyScope {
  /** The client's key; undefined/null means "not idempotent", fn just runs. */
  key?: string | null;
  principal: string;
  operation: string;
  /** The parsed input; hashed (canonical JSON, sorted keys) with the operation name. */
  request: unknown;
}

export interface IdempotentResult<T> {
  value: T;
  /** True when the value was served from a stored response. */
  replayed: boolean;
}

/** JSON with sorted object keys, so that { a, b } and { b, a } hash alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([, inner]) => inner !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }
    return v;
  });
}

export function requestHash(operation: string, request: unknown): string {
  return createHash("sha256")
    .update(`${operation}\n${canonicalJson(request)}`)
    .digest("hex");
}

const isoTimestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Stored responses are JSON: timestamps (drizzle `Date`s) come back as `Date`s. */
function revive<T>(stored: unknown): T {
  return JSON.parse(JSON.stringify(stored), (_key, v: unknown) =>
    typeof v === "string" && isoTimestamp.test(v) ? new Date(v) : v,
  ) as T;
}

export async function withIdempotency<T>(
  tx: Tx,
  scope: IdempotencyScope,
  fn: () => Promise<T>,
): Promise<IdempotentResult<T>> {
  if (scope.key == null) return { value: await fn(), replayed: false };
  if (scope.key.length === 0 || scope.key.length > 255) {
    throw new InvalidInputError("idempotencyKey must be 1 to 255 characters", {
      field: "idempotencyKey",
    });
  }
  const hash = requestHash(scope.operation, scope.request);
  const where = and(
    eq(idempotencyKey.principal, scope.principal),
    eq(idempotencyKey.key, scope.key),
  );
  // An expired key is forgotten (and the statement takes the row lock, so racing callers agree).
  await tx.delete(idempotencyKey).where(and(where, sql`${idempotencyKey.expiresAt} <= now()`));
  const inserted = await tx
    .insert(idempotencyKey)
    .values({
      key: scope.key,
      principal: scope.principal,
      operation: scope.operation,
      requestHash: hash,
      expiresAt: sql`now() + make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`,
    })
    .onConflictDoNothing()
    .returning({ key: idempotencyKey.key });
  if (inserted.length === 0) {
    const [existing] = await tx.select().from(idempotencyKey).where(where);
    if (!existing) {
      // Reclaimed between our insert and select (it had expired): the caller may simply retry.
      throw new ConflictError(`idempotency key ${scope.key} is being reused; retry`, {
        key: scope.key,
      });
    }
    if (existing.requestHash !== hash || existing.operation !== scope.operation) {
      throw new IdempotencyMismatchError(scope.key);
    }
    return { value: revive<T>(existing.response), replayed: true };
  }
  const value = await fn();
  await tx
    .update(idempotencyKey)
    .set({ response: JSON.parse(JSON.stringify(value ?? null)) })
    .where(where);
  return { value, replayed: false };
}
