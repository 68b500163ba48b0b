/**
 * Every outbound command lands in the audit log (issue 9 item 6): one row per attempt's outcome,
 * written in the transaction that records it — "ok", "RETRY_SCHEDULED" for a transient failure
 * that will be retried, the exception code for a final failure — on the command's entity, with
 * its lineage id and a hash of its payload.
 */
import { randomUUID } from "node:crypto";
import { schema } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { OutboundWorker, PermanentCommandError } from "./worker.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

it("ok, retried then ok, and a permanent failure: each attempt audited with its outcome", async () => {
  const correlationId = randomUUID();
  const commands = ["audit.ok", "audit.flaky", "audit.bad"].map((kind) => ({
    target: "ERP" as const,
    kind,
    idempotencyKey: `${kind}:${randomUUID()}`,
    entityType: "invoice",
    entityId: randomUUID(),
    payload: { kind, amount: "10.00" },
    correlationId,
  }));
  await t.db.insert(schema.outboundCommand).values(commands);
  let flaky = 0;
  const worker = new OutboundWorker({
    client: t,
    backoffBaseMs: 10,
    backoffMaxMs: 20,
    pollMs: 10,
    actor: "outbound-test",
    handlers: {
      "audit.ok": async () => ({ result: { erpId: "1" } }),
      "audit.flaky": async () => {
        flaky++;
        if (flaky === 1) throw Object.assign(new Error("ERP timed out"), { transient: true });
        return { result: { erpId: "2" } };
      },
      "audit.bad": async () => {
        throw new PermanentCommandError("ERP refused the tax code", {
          owner: "FINANCE",
          code: "ERP_REFUSED",
          remediation: "Fix the tax code, then retry.",
        });
      },
    },
  });
  await worker.drain(30_000);
  const rows = (await t.sql`
    select actor, operation, entity_type, entity_id, outcome, correlation_id, input, input_hash
    from audit_log where correlation_id = ${correlationId} order by id`) as unknown as {
    actor: string;
    operation: string;
    entity_type: string;
    entity_id: string;
    outcome: string;
    correlation_id: string;
    input: { commandId: string; attempt: number; error?: string };
    input_hash: string;
  }[];
  const byKind = (kind: string) => rows.filter((r) => r.operation === `outbound:${kind}`);
  expect(byKind("audit.ok").map((r) => r.outcome)).toEqual(["ok"]);
  expect(byKind("audit.flaky").map((r) => r.outcome)).toEqual(["RETRY_SCHEDULED", "ok"]);
  expect(byKind("audit.flaky")[0]!.input.error).toBe("ERP timed out");
  expect(byKind("audit.bad").map((r) => r.outcome)).toEqual(["ERP_REFUSED"]);
  for (const row of rows) {
    const command = commands.find((c) => `outbound:${c.kind}` === row.operation)!;
    expect(row).toMatchObject({
      actor: "outbound-test",
      entity_type: "invoice",
      entity_id: command.entityId,
    });
    expect(row.input_hash).toMatch(/^[0-9a-f]{64}$/);
  }
  // The payloads differ, so do their hashes; the two attempts of one command hash alike.
  expect(new Set(rows.map((r) => r.input_hash)).size).toBe(3);
});
