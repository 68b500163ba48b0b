/**
 * The exception queue's actions through the ops subgraph: ignoreException, retryException and
 * replayCommand (db/src/lifecycle/exceptions.ts), each audited and each a
 * sync_exception.status_changed domain event; SyncException links its OutboundCommand and
 * InboxEvent as objects; outboundCommand(id) answers attempts and the last error.
 */
import { schema } from "@pshub/db";
import { type Builders, builders, createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpsSubgraph } from "./index.ts";

let t: TestDatabase;
let b: Builders;
let server: ReturnType<typeof createOpsSubgraph>;

beforeAll(async () => {
  t = await createTestDatabase();
  b = builders(t.db);
  server = createOpsSubgraph(t.db);
});
afterAll(async () => {
  await t?.drop();
});

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables, { "x-pshub-principal": "finance@firm.test" });

const EXCEPTION = "id status attempts resolvedBy resolutionNote";

async function failedCommandWithException() {
  const cmd = await b.outboundCommand({
    state: "FAILED",
    attempts: 3,
    lastError: "NetSuite refused invoice INV-1: INVALID_FLD_VALUE",
  });
  const ex = await b.syncException({
    code: "NETSUITE_INVALID_FLD_VALUE",
    commandId: cmd.id,
    entityType: "invoice",
    entityId: cmd.entityId,
  });
  return { cmd, ex };
}

async function exceptionRow(id: string) {
  const [row] = await t.db
    .select()
    .from(schema.syncException)
    .where(eq(schema.syncException.id, id));
  return row!;
}

async function commandRow(id: string) {
  const [row] = await t.db
    .select()
    .from(schema.outboundCommand)
    .where(eq(schema.outboundCommand.id, id));
  return row!;
}

async function auditOf(operation: string, entityId: string) {
  return t.db
    .select()
    .from(schema.auditLog)
    .where(and(eq(schema.auditLog.operation, operation), eq(schema.auditLog.entityId, entityId)));
}

async function statusEvents(exceptionId: string) {
  const rows = await t.db
    .select()
    .from(schema.domainEvent)
    .where(
      and(
        eq(schema.domainEvent.entityId, exceptionId),
        eq(schema.domainEvent.type, "sync_exception.status_changed"),
      ),
    )
    .orderBy(schema.domainEvent.id);
  return rows.map((r) => ({ actor: r.actor, ...r.payload }));
}

describe("exception actions", () => {
  it("ignoreException closes an OPEN exception as IGNORED with the reason, audited, as a domain event", async () => {
    const ex = await b.syncException();
    const MUT = `mutation($id: ID!, $reason: String!) { ignoreException(exceptionId: $id, reason: $reason) { ${EXCEPTION} } }`;
    const result = await run(MUT, { id: ex.id, reason: "duplicate of a fixed problem" });
    expect(result.errors).toBeUndefined();
    expect(result.data!.ignoreException).toMatchObject({
      status: "IGNORED",
      resolvedBy: "finance@firm.test",
      resolutionNote: "duplicate of a fixed problem",
    });
    expect(await auditOf("ignoreException", ex.id)).toMatchObject([
      { actor: "finance@firm.test", outcome: "ok" },
    ]);
    expect(await statusEvents(ex.id)).toMatchObject([
      { from: "OPEN", to: "IGNORED", actor: "finance@firm.test" },
    ]);
    // Twice: INVALID_TRANSITION, nothing changes.
    const again = await run(MUT, { id: ex.id, reason: "again" });
    expect(again.errors![0]!.extensions).toMatchObject({ code: "INVALID_TRANSITION" });
    expect((await exceptionRow(ex.id)).resolutionNote).toBe("duplicate of a fixed problem");
  });

  it("ignoreException refuses a blank reason and a malformed id as BAD_USER_INPUT, changing nothing", async () => {
    const ex = await b.syncException();
    const MUT = `mutation($id: ID!, $reason: String!) { ignoreException(exceptionId: $id, reason: $reason) { id } }`;
    const blank = await run(MUT, { id: ex.id, reason: "   " });
    expect(blank.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    const malformed = await run(MUT, { id: "not-a-uuid", reason: "x" });
    expect(malformed.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    const unknown = await run(MUT, { id: "00000000-0000-4000-8000-000000000000", reason: "x" });
    expect(unknown.errors![0]!.extensions).toMatchObject({ code: "NOT_FOUND" });
    expect((await exceptionRow(ex.id)).status).toBe("OPEN");
  });

  it("retryException queues the failed command again with fresh attempts; the exception is RETRYING", async () => {
    const { cmd, ex } = await failedCommandWithException();
    const MUT = `mutation($id: ID!) { retryException(exceptionId: $id) { ${EXCEPTION} command { id state attempts lastError } } }`;
    const result = await run(MUT, { id: ex.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.retryException).toMatchObject({
      status: "RETRYING",
      attempts: 1,
      command: { id: cmd.id, state: "PENDING", attempts: 0 },
    });
    expect(await auditOf("retryException", ex.id)).toHaveLength(1);
    expect(await statusEvents(ex.id)).toMatchObject([{ from: "OPEN", to: "RETRYING" }]);
    // Retrying a RETRYING exception is refused; the command stays as it is.
    const again = await run(MUT, { id: ex.id });
    expect(again.errors![0]!.extensions).toMatchObject({ code: "INVALID_TRANSITION" });
    expect((await commandRow(cmd.id)).state).toBe("PENDING");
  });

  it("retryException with nothing to run again is VALIDATION_FAILED (NOTHING_TO_RETRY), nothing changed", async () => {
    const plain = await b.syncException({ code: "CONVERSION_MISSING_LEGAL_ENTITY" });
    const MUT = `mutation($id: ID!) { retryException(exceptionId: $id) { id } }`;
    const none = await run(MUT, { id: plain.id });
    expect(none.errors![0]!.extensions).toMatchObject({
      code: "VALIDATION_FAILED",
      reason: "NOTHING_TO_RETRY",
    });
    const done = await b.outboundCommand({ state: "SUCCEEDED", attempts: 1 });
    const taxEx = await b.syncException({ code: "ERP_TAX_DIFFERS", commandId: done.id });
    const succeeded = await run(MUT, { id: taxEx.id });
    expect(succeeded.errors![0]!.extensions).toMatchObject({
      code: "VALIDATION_FAILED",
      reason: "NOTHING_TO_RETRY",
      commandState: "SUCCEEDED",
    });
    expect((await exceptionRow(plain.id)).status).toBe("OPEN");
    expect((await exceptionRow(taxEx.id)).status).toBe("OPEN");
    expect((await commandRow(done.id)).state).toBe("SUCCEEDED");
    expect(await auditOf("retryException", plain.id)).toMatchObject([
      { outcome: "VALIDATION_FAILED" },
    ]);
  });

  it("retryException replays a FAILED inbox event; the exception links it", async () => {
    const event = await b.inboxEvent({
      status: "FAILED",
      payload: { system: "salesforce", Id: "006000000000001" },
    });
    const ex = await b.syncException({ code: "MAPPING_FAILED", inboxEventId: event.id });
    const result = await run(
      `mutation($id: ID!) { retryException(exceptionId: $id) { status inboxEvent { id status } } }`,
      { id: ex.id },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.retryException).toMatchObject({
      status: "RETRYING",
      inboxEvent: { id: String(event.id), status: "RECEIVED" },
    });
  });

  it("replayCommand re-runs a SUCCEEDED command and moves its open exceptions to RETRYING; a queued one is CONFLICT", async () => {
    const { cmd, ex } = await failedCommandWithException();
    await t.db
      .update(schema.outboundCommand)
      .set({ state: "SUCCEEDED", result: { internalId: "77" } })
      .where(eq(schema.outboundCommand.id, cmd.id));
    const MUT = `mutation($id: ID!) { replayCommand(commandId: $id) { id state attempts exceptions { id status } } }`;
    const result = await run(MUT, { id: cmd.id });
    expect(result.errors).toBeUndefined();
    expect(result.data!.replayCommand).toMatchObject({
      state: "PENDING",
      attempts: 0,
      exceptions: [{ id: ex.id, status: "RETRYING" }],
    });
    expect(await auditOf("replayCommand", cmd.id)).toHaveLength(1);
    const again = await run(MUT, { id: cmd.id });
    expect(again.errors![0]!.extensions).toMatchObject({ code: "CONFLICT" });
  });

  it("outboundCommand(id) answers attempts and the last error; SyncException.command links it", async () => {
    const { cmd, ex } = await failedCommandWithException();
    const result = await run(
      `query($c: ID!, $e: ID!) {
        outboundCommand(id: $c) { id state attempts lastError seq exceptions { id } }
        syncException(id: $e) { command { id attempts lastError } inboxEvent { id } }
      }`,
      { c: cmd.id, e: ex.id },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.outboundCommand).toMatchObject({
      id: cmd.id,
      state: "FAILED",
      attempts: 3,
      lastError: cmd.lastError,
      seq: String(cmd.seq),
      exceptions: [{ id: ex.id }],
    });
    expect(result.data!.syncException).toEqual({
      command: { id: cmd.id, attempts: 3, lastError: cmd.lastError },
      inboxEvent: null,
    });
    const unknown = await run(
      `{ outboundCommand(id: "00000000-0000-4000-8000-000000000000") { id } }`,
    );
    expect(unknown.errors![0]!.extensions).toMatchObject({ code: "NOT_FOUND" });
  });
});
