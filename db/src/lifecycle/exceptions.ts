/**
 * The exception queue's owner actions (each an operation: one transaction, audited, a
 * sync_exception.status_changed domain event per move):
 *
 * - resolveException: fixed at the source (RESOLVED), or with ignore: true, IGNORED, with a note;
 * - ignoreException: won't fix (IGNORED), with a reason;
 * - retryException: the hub does it again — the failed outbound command is queued again with
 *   fresh attempts, or the failed inbox event is replayed — and the exception is RETRYING until the
 *   worker's success resolves it (or a new failure reopens it);
 * - replayCommand: re-runs any finished outbound command (FAILED, CANCELLED or SUCCEEDED). Its
 *   handler is idempotent by external id, so a replay never creates a second record; the
 *   command's open exceptions move to RETRYING.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "../client.ts";
import { emitDomainEvents } from "../domain-events.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors.ts";
import { type OutboundCommandRow, requeueCommand } from "../outbound.ts";
import { inboxEvent, outboundCommand, syncException } from "../schema.ts";
import { replayInbox } from "../sync/inbox.ts";
import { assertTransition, type ExceptionStatus, syncExceptionMachine } from "./machines.ts";
import { defineOperation, id, type OperationContext } from "./operation.ts";

export type SyncExceptionRow = typeof syncException.$inferSelect;

async function lockException(tx: Tx, exceptionId: string): Promise<SyncExceptionRow> {
  const [row] = await tx
    .select()
    .from(syncException)
    .where(eq(syncException.id, exceptionId))
    .for("update");
  if (!row) throw new NotFoundError("sync_exception", exceptionId);
  return row;
}

/** Moves one exception (checked against the machine) and emits its status_changed event. */
async function moveException(
  tx: Tx,
  ctx: OperationContext,
  row: SyncExceptionRow,
  to: ExceptionStatus,
  note: string,
): Promise<SyncExceptionRow> {
  assertTransition(syncExceptionMachine, row.id, row.status, to);
  const closing = to === "RESOLVED" || to === "IGNORED";
  const [updated] = await tx
    .update(syncException)
    .set({
      status: to,
      ...(closing
        ? { resolvedBy: ctx.actor, resolvedAt: sql`now()`, resolutionNote: note }
        : { attempts: sql`${syncException.attempts} + 1` }),
      updatedAt: sql`now()`,
    })
    .where(eq(syncException.id, row.id))
    .returning();
  await emitDomainEvents(tx, [
    {
      type: "sync_exception.status_changed",
      entityType: "sync_exception",
      entityId: row.id,
      payload: { from: row.status, to, owner: row.owner, code: row.code, note },
      correlationId: row.correlationId,
      causationId: ctx.requestId,
      actor: ctx.actor,
    },
  ]);
  return updated!;
}

const exceptionRef = (input: { exceptionId: string }, result: SyncExceptionRow | undefined) => ({
  entityType: "sync_exception",
  entityId: input.exceptionId,
  correlationId: result?.correlationId,
});

const note = (field: string) =>
  z
    .string()
    .trim()
    .min(1, { error: `a ${field} is required` })
    .max(2000);

export const resolveException = defineOperation({
  name: "resolveException",
  input: z.object({
    exceptionId: id(),
    note: note("note"),
    ignore: z.boolean().default(false),
  }),
  async run(tx, ctx, input): Promise<SyncExceptionRow> {
    const row = await lockException(tx, input.exceptionId);
    return moveException(tx, ctx, row, input.ignore ? "IGNORED" : "RESOLVED", input.note);
  },
  auditRef: exceptionRef,
});

export const ignoreException = defineOperation({
  name: "ignoreException",
  input: z.object({ exceptionId: id(), reason: note("reason") }),
  async run(tx, ctx, input): Promise<SyncExceptionRow> {
    const row = await lockException(tx, input.exceptionId);
    return moveException(tx, ctx, row, "IGNORED", input.reason);
  },
  auditRef: exceptionRef,
});

export const retryException = defineOperation({
  name: "retryException",
  input: z.object({ exceptionId: id() }),
  async run(tx, ctx, input): Promise<SyncExceptionRow> {
    const row = await lockException(tx, input.exceptionId);
    assertTransition(syncExceptionMachine, row.id, row.status, "RETRYING");
    if (row.commandId) {
      const requeued = await requeueCommand(tx, row.commandId);
      if (!requeued) {
        const [cmd] = await tx
          .select({ state: outboundCommand.state })
          .from(outboundCommand)
          .where(eq(outboundCommand.id, row.commandId));
        if (!cmd) throw new NotFoundError("outbound_command", row.commandId);
        throw new ValidationError(
          cmd.state === "SUCCEEDED"
            ? `command ${row.commandId} already succeeded: there is nothing to retry; resolve the exception once its cause is fixed, or replayCommand to send it again`
            : `command ${row.commandId} is ${cmd.state}: it is queued already`,
          { reason: "NOTHING_TO_RETRY", commandId: row.commandId, commandState: cmd.state },
        );
      }
    } else if (row.inboxEventId != null) {
      const replayed = await replayInbox(tx, [row.inboxEventId]);
      if (replayed === 0) {
        const [event] = await tx
          .select({ status: inboxEvent.status })
          .from(inboxEvent)
          .where(eq(inboxEvent.id, row.inboxEventId));
        if (!event) throw new NotFoundError("inbox_event", String(row.inboxEventId));
        throw new ValidationError(
          `inbox event ${row.inboxEventId} is ${event.status}: only a FAILED or SKIPPED event can be replayed`,
          { reason: "NOTHING_TO_RETRY", inboxEventId: row.inboxEventId },
        );
      }
    } else {
      throw new ValidationError(
        `exception ${row.id} (${row.code}) has no outbound command or inbox event the hub could retry: fix it at the source, then resolve it`,
        { reason: "NOTHING_TO_RETRY" },
      );
    }
    return moveException(tx, ctx, row, "RETRYING", `retry requested by ${ctx.actor}`);
  },
  auditRef: exceptionRef,
});

export const replayCommand = defineOperation({
  name: "replayCommand",
  input: z.object({ commandId: id() }),
  async run(tx, ctx, input): Promise<OutboundCommandRow> {
    const [cmd] = await tx
      .select()
      .from(outboundCommand)
      .where(eq(outboundCommand.id, input.commandId))
      .for("update");
    if (!cmd) throw new NotFoundError("outbound_command", input.commandId);
    const requeued = await requeueCommand(tx, cmd.id, { replay: true });
    if (!requeued)
      throw new ConflictError(`command ${cmd.id} is ${cmd.state}: it is queued already`, {
        reason: "ALREADY_QUEUED",
        commandState: cmd.state,
      });
    const open = await tx
      .select()
      .from(syncException)
      .where(and(eq(syncException.commandId, cmd.id), inArray(syncException.status, ["OPEN"])))
      .for("update");
    for (const row of open)
      await moveException(tx, ctx, row, "RETRYING", `command replayed by ${ctx.actor}`);
    return requeued;
  },
  auditRef: (input, result) => ({
    entityType: "outbound_command",
    entityId: input.commandId,
    correlationId: result?.correlationId,
  }),
});
