/**
 * Row helpers shared by the operations: lock rows for a transition (SELECT … FOR UPDATE, in id
 * order so that concurrent bulk calls cannot deadlock), check the transition for every row, and
 * update them with version + 1.
 */
import { eq, inArray, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Tx } from "../client.ts";
import { InvalidTransitionError, NotFoundError } from "../errors.ts";
import { assertTransition, type StateMachine } from "./machines.ts";

type VersionedTable = PgTable & { id: PgColumn; version: PgColumn; updatedAt: PgColumn };

// drizzle's builders do not type-check over a union of tables; the helpers below are typed at
// their signatures and use a loose handle inside.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Loose = any;

/** Locks one row by id (FOR UPDATE) or throws NOT_FOUND. */
export async function lockOne<T extends VersionedTable>(
  tx: Tx,
  table: T,
  entityType: string,
  id: string,
): Promise<T["$inferSelect"]> {
  const t = table as Loose;
  const [row] = await (tx as Loose).select().from(t).where(eq(t.id, id)).for("update");
  if (!row) throw new NotFoundError(entityType, id);
  return row;
}

/** Locks rows by id in id order; throws NOT_FOUND naming the first missing id. */
export async function lockMany<T extends VersionedTable>(
  tx: Tx,
  table: T,
  entityType: string,
  ids: readonly string[],
): Promise<T["$inferSelect"][]> {
  const t = table as Loose;
  const unique = [...new Set(ids)];
  const rows: T["$inferSelect"][] = await (tx as Loose)
    .select()
    .from(t)
    .where(inArray(t.id, unique))
    .orderBy(t.id)
    .for("update");
  if (rows.length !== unique.length) {
    const found = new Set((rows as { id: string }[]).map((r) => r.id));
    const missing = unique.filter((id) => !found.has(id));
    const error = new NotFoundError(entityType, missing[0]!);
    error.details.missing = missing;
    throw error;
  }
  return rows;
}

/**
 * Checks `from → to` for every locked row (INVALID_TRANSITION for the first refused one, listing
 * all refused ids) and updates them: status, version + 1, updated_at and `set`.
 */
export async function transitionRows<
  T extends VersionedTable & { status: PgColumn },
  S extends string,
>(
  tx: Tx,
  table: T,
  machine: StateMachine<S>,
  rows: readonly (T["$inferSelect"] & { id: string; status: S })[],
  to: S,
  set: Record<string, unknown> = {},
): Promise<T["$inferSelect"][]> {
  const refused = rows.filter((r) => !machine.transitions[r.status]?.includes(to));
  if (refused[0]) {
    const error = new InvalidTransitionError(
      machine.entityType,
      refused[0].id,
      refused[0].status,
      to,
    );
    if (refused.length > 1)
      error.details.refused = refused.map((r) => ({ id: r.id, from: r.status }));
    throw error;
  }
  for (const r of rows) assertTransition(machine, r.id, r.status, to);
  if (rows.length === 0) return [];
  const t = table as Loose;
  return (tx as Loose)
    .update(t)
    .set({ ...set, status: to, version: sql`${t.version} + 1`, updatedAt: sql`now()` })
    .where(
      inArray(
        t.id,
        rows.map((r) => r.id),
      ),
    )
    .returning();
}
