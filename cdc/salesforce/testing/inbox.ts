/**
 * Test support for the connector tests: an Ingest that writes the real inbox_event and
 * sync_cursor tables of a test database in one transaction (the engine's own writer replaces it
 * where the engine runs), and the "hub view" the inbox implies (last change per record, partial
 * changes merged, deletes removed) to compare with the source.
 */
import { type Db, schema } from "@pshub/db";
import { and, asc, eq, sql } from "drizzle-orm";
import type { CursorUpdate, InboundRecord, Ingest, PollContext } from "../../engine/types.ts";

export function testIngest(db: Db, source: string): Ingest {
  return async (records: InboundRecord[], cursor?: CursorUpdate) =>
    db.transaction(async (tx) => {
      let received = 0;
      if (records.length > 0) {
        const rows = await tx
          .insert(schema.inboxEvent)
          .values(
            records.map((r) => ({
              source,
              dedupeKey: r.dedupeKey,
              object: r.object,
              externalId: r.externalId,
              payload: r as unknown as Record<string, unknown>,
            })),
          )
          .onConflictDoNothing()
          .returning({ id: schema.inboxEvent.id });
        received = rows.length;
      }
      if (cursor) {
        await tx
          .insert(schema.syncCursor)
          .values({
            connector: cursor.connector,
            object: cursor.object,
            cursor: cursor.cursor,
            lagMs: cursor.lagMs ?? null,
            lastSuccessAt: sql`now()`,
          })
          .onConflictDoUpdate({
            target: [schema.syncCursor.connector, schema.syncCursor.object],
            set: {
              cursor: cursor.cursor,
              lagMs: cursor.lagMs ?? null,
              lastSuccessAt: sql`now()`,
              updatedAt: sql`now()`,
            },
          });
      }
      return { received, duplicates: records.length - received };
    });
}

export async function storedCursor(
  db: Db,
  connector: string,
  object: string,
): Promise<Record<string, unknown>> {
  const [row] = await db
    .select({ cursor: schema.syncCursor.cursor })
    .from(schema.syncCursor)
    .where(and(eq(schema.syncCursor.connector, connector), eq(schema.syncCursor.object, object)));
  return row?.cursor ?? {};
}

export async function setCursor(
  db: Db,
  connector: string,
  object: string,
  cursor: Record<string, unknown>,
): Promise<void> {
  await db
    .update(schema.syncCursor)
    .set({ cursor })
    .where(and(eq(schema.syncCursor.connector, connector), eq(schema.syncCursor.object, object)));
}

/** Polls one object until it is caught up (more = false), like the engine's loop. */
export async function pollUntilCaughtUp(
  db: Db,
  source: string,
  object: string,
  pollOnce: (ctx: PollContext) => Promise<{ more: boolean; pausedUntil?: Date }>,
  maxPolls = 500,
): Promise<number> {
  const ingest = testIngest(db, source);
  for (let i = 1; i <= maxPolls; i++) {
    const cursor = await storedCursor(db, source, object);
    const res = await pollOnce({ cursor, ingest, signal: new AbortController().signal });
    if (!res.more) return i;
  }
  throw new Error(`${object} not caught up after ${maxPolls} polls`);
}

/** The hub's view of one object as the inbox implies it: id → merged fields. */
export async function hubView(
  db: Db,
  source: string,
  object: string,
): Promise<Map<string, Record<string, unknown>>> {
  const rows = await db
    .select({ payload: schema.inboxEvent.payload })
    .from(schema.inboxEvent)
    .where(and(eq(schema.inboxEvent.source, source), eq(schema.inboxEvent.object, object)))
    .orderBy(asc(schema.inboxEvent.id));
  const view = new Map<string, Record<string, unknown>>();
  const stamps = new Map<string, string>();
  for (const { payload } of rows) {
    const r = payload as InboundRecord;
    const at = r.sourceModifiedAt ?? "";
    if (r.op === "UPSERT" && at < (stamps.get(r.externalId) ?? "")) continue; // stale
    if (r.op === "DELETE") {
      view.delete(r.externalId);
      stamps.set(r.externalId, "\uffff");
      continue;
    }
    if (stamps.get(r.externalId) === "\uffff") continue;
    stamps.set(r.externalId, at);
    view.set(
      r.externalId,
      r.partial ? { ...(view.get(r.externalId) ?? {}), ...r.fields } : { ...r.fields },
    );
  }
  return view;
}
