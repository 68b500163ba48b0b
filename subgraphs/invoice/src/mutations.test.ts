/** Invoice lifecycle mutations through the invoice subgraph (db/src/lifecycle underneath). */

import { execute, operations as op } from "@pshub/db";
import {
  addTime,
  createTestDatabase,
  newResource,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInvoiceSubgraph } from "./index.ts";

let t: TestDatabase;
let server: ReturnType<typeof createInvoiceSubgraph>;
let contractId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  server = createInvoiceSubgraph(t.db);
  // A T&M contract with 3 approved, billed entries: 2.5 h × 120.00 each = 300.00; tax 20 %.
  const ctx = { actor: "setup" };
  const basics = await seedBasics(t.db, { taxRate: "0.2000" });
  const conv = await execute(t.db, op.convertOpportunity, ctx, {
    opportunityId: await wonOpportunity(t.db, basics),
  });
  await execute(t.db, op.activateProject, ctx, { projectId: conv.project.id });
  const ids = await addTime(
    t.db,
    conv.project.id,
    await newResource(t.db),
    ["2026-01-05", "2026-01-06", "2026-01-07"].map((workDate) => ({
      workDate,
      hours: "2.50",
      billRate: "120.00",
    })),
  );
  await execute(t.db, op.approveTimeEntries, ctx, { ids });
  await execute(t.db, op.runBilling, ctx, {
    contractId: conv.contract.id,
    periodEnd: "2026-01-31",
  });
  contractId = conv.contract.id;
});
afterAll(async () => {
  await t?.drop();
});

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables, { "x-pshub-principal": "ar@firm.test" });

const INVOICE =
  "id number status subtotal { amount } tax { amount } total { amount } amountPaid { amount } balanceDue { amount } dueOn";

describe("invoice mutations", () => {
  it("generate → issue → partial payment → over-payment refused → paid", async () => {
    const generated = await run(
      `mutation($c: ID!) { generateInvoice(contractId: $c, periodEnd: "2026-01-31") { ${INVOICE} lines { totalCount } } }`,
      { c: contractId },
    );
    expect(generated.errors).toBeUndefined();
    const inv = generated.data!.generateInvoice;
    expect(inv).toMatchObject({
      status: "DRAFT",
      subtotal: { amount: "900.00" },
      tax: { amount: "180.00" },
      total: { amount: "1080.00" },
      lines: { totalCount: 3 },
    });
    const issued = await run(
      `mutation($i: ID!) { issueInvoice(invoiceId: $i, issuedOn: "2026-02-01") { ${INVOICE} } }`,
      { i: inv.id },
    );
    expect(issued.data!.issueInvoice).toMatchObject({ status: "ISSUED", dueOn: "2026-03-03" });

    const PAY = `mutation($input: RecordPaymentInput!, $key: String) {
      recordPayment(input: $input, idempotencyKey: $key) { payment { id amount { amount } } invoice { ${INVOICE} } } }`;
    const partial = await run(PAY, { input: { invoiceId: inv.id, amount: "80.00" }, key: "p1" });
    expect(partial.data!.recordPayment.invoice).toMatchObject({
      status: "PARTIALLY_PAID",
      balanceDue: { amount: "1000.00" },
    });
    const replay = await run(PAY, { input: { invoiceId: inv.id, amount: "80.00" }, key: "p1" });
    expect(replay.data!.recordPayment.payment.id).toBe(partial.data!.recordPayment.payment.id);
    const mismatch = await run(PAY, { input: { invoiceId: inv.id, amount: "81.00" }, key: "p1" });
    expect(mismatch.errors![0]!.extensions).toMatchObject({ code: "IDEMPOTENCY_MISMATCH" });
    const over = await run(PAY, { input: { invoiceId: inv.id, amount: "1000.01" } });
    expect(over.errors![0]!.extensions).toMatchObject({
      code: "VALIDATION_FAILED",
      reason: "OVERPAYMENT",
      outstanding: "1000.00",
    });
    const paid = await run(PAY, { input: { invoiceId: inv.id, amount: "1000.00" } });
    expect(paid.data!.recordPayment.invoice).toMatchObject({
      status: "PAID",
      amountPaid: { amount: "1080.00" },
    });

    const voided = await run(
      `mutation($i: ID!) { voidInvoice(invoiceId: $i, reason: "x") { id } }`,
      { i: inv.id },
    );
    expect(voided.errors![0]!.extensions).toMatchObject({
      code: "INVALID_TRANSITION",
      from: "PAID",
      to: "VOID",
    });
  });

  it("typed errors for missing rows and bad input", async () => {
    const missing = await run(
      `mutation { issueInvoice(invoiceId: "00000000-0000-4000-8000-000000000000") { id } }`,
    );
    expect(missing.errors![0]!.extensions).toMatchObject({ code: "NOT_FOUND" });
    const bad = await run(
      `mutation { disputeInvoice(invoiceId: "nope", reason: "x") { invoice { id } } }`,
    );
    expect(bad.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
  });
});
