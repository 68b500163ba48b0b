/**
 * The exception queue's owner actions: resolve (fixed at the source) or ignore (won't fix), with a
 * note. Retrying an inbound or outbound failure belongs to the sync engine (it replays the inbox
 * event or the outbound command); it moves the exception through RETRYING with the same machine.
 */
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { emitDomainEvents } from "../domain-events.ts";
import { NotFoundError } from "../errors.ts";
import { syncException } from "../schema.ts";
import { assertTransition, syncExceptionMachine } from "./machines.ts";
import { defineOperation, id } from "./operation.ts";

export type SyncExceptionRow = typeof syncException.$inferSelect;

export const resolveException = defineOperation({
  name: "resolveException",
  input: z.object({
    exceptionId: id(),
    note: z.string().trim().min(1, { error: "a note is required" }).max(2000),
    ignore: z.boolean().default(false),
  }),
  async run(tx, ctx, input): Promise<SyncExceptionRow> {
    const [row] = await tx
      .select()
      .from(syncException)
      .where(eq(syncException.id, input.exceptionId))
      .for("update");
    if (!row) throw new NotFoundError("sync_exception", input.exceptionId);
    const to = input.ignore ? "IGNORED" : "RESOLVED";
    assertTransition(syncExceptionMachine, row.id, row.status, to);
    const [updated] = await tx
      .update(syncException)
      .set({
        status: to,
        resolvedBy: ctx.actor,
        resolvedAt: sql`now()`,
        resolutionNote: input.note,
        updatedAt: sql`now()`,
      })
      .where(eq(syncException.id, row.id))
      .returning();
    await emitDomainEvents(tx, [
      {
        type: "sync_exception.status_changed",
        entityType: "sync_exception",
        entityId: row.id,
        payload: { from: row.status, to, owner: row.owner, code: row.code, note: input.note },
        correlationId: row.correlationId,
        causationId: ctx.requestId,
        actor: ctx.actor,
      },
    ]);
    return updated!;
  },
  auditRef: (input, result) => ({
    entityType: "sync_exception",
    entityId: input.exceptionId,
    correlationId: result?.correlationId,
  }),
});
