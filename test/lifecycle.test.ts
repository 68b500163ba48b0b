/**
 * Quote to cash through the gateway: every lifecycle mutation in its owning subgraph, one
 * federated graph (composed at startup from the running subgraphs, so it tracks their SDL).
 */
import {
  addExpenses,
  addTime,
  createTestDatabase,
  newResource,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { createGateway, type PshubGateway } from "@pshub/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSubgraphs, startSubgraphs } from "./support/subgraphs.ts";

let t: TestDatabase;
let gateway: PshubGateway;
let subgraphs: RunningSubgraphs | undefined;
let url: string;

beforeAll(async () => {
  t = await createTestDatabase();
  subgraphs = await startSubgraphs(t.db);
  gateway = await createGateway({
    subgraphUrls: subgraphs.urls,
    supergraph: "introspect",
    ide: false,
  });
  ({ url } = await gateway.listen({ port: 0 }));
});
afterAll(async () => {
  await gateway?.close();
  await subgraphs?.close();
  await t?.drop();
});

// biome-ignore lint/suspicious/noExplicitAny: assertions walk the response ad hoc
async function gql(query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-pshub-principal": "e2e@firm.test",
      // Development mode without roles is a read-only analyst; the lifecycle runs every role's step.
      "x-pshub-roles": "admin",
    },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

async function ok(query: string, variables: Record<string, unknown> = {}) {
  const body = await gql(query, variables);
  expect(body.errors).toBeUndefined();
  return body.data;
}

describe("lifecycle through the gateway", () => {
  it("closed-won opportunity → PAID invoice, then the federated chain and its lineage", async () => {
    const basics = await seedBasics(t.db, { taxRate: "0.0800" });
    const opportunityId = await wonOpportunity(t.db, basics, { amount: "50000.00" });
    const converted = await ok(
      `mutation($id: ID!) { convertOpportunity(opportunityId: $id, idempotencyKey: "e2e-convert") {
          contract { id number } project { id name status } } }`,
      { id: opportunityId },
    );
    const { contract, project } = converted.convertOpportunity;
    expect(project.status).toBe("PLANNED"); // resolved by the project subgraph
    await ok(`mutation($id: ID!) { activateProject(projectId: $id) { status } }`, {
      id: project.id,
    });

    const resource = await newResource(t.db);
    const hours = await addTime(t.db, project.id, resource, [
      { workDate: "2026-01-12", hours: "6.00", billRate: "175.00" }, // 1050.00
      { workDate: "2026-01-13", hours: "2.50", billRate: "175.00" }, // 437.50
    ]);
    const [taxi] = await addExpenses(t.db, project.id, resource, [
      { incurredOn: "2026-01-12", amount: "62.40" },
    ]);
    await ok(`mutation($ids: [ID!]!) { approveTimeEntries(ids: $ids) { status } }`, { ids: hours });
    await ok(`mutation($id: ID!) { approveExpense(id: $id) { status } }`, { id: taxi });

    const billed = await ok(
      `mutation($c: ID!) { runBilling(contractId: $c, periodEnd: "2026-01-31") { eventsCreated totals { amount currency } } }`,
      { c: contract.id },
    );
    expect(billed.runBilling).toEqual({
      eventsCreated: 3,
      totals: [{ amount: "1549.90", currency: "USD" }],
    });

    const generated = await ok(
      `mutation($c: ID!) { generateInvoice(contractId: $c, periodEnd: "2026-01-31") { id status total { amount } } }`,
      { c: contract.id },
    );
    const invoice = generated.generateInvoice;
    // 8 % per line: 84.00 + 35.00 + 4.992→4.99 = 123.99; total 1549.90 + 123.99
    expect(invoice).toMatchObject({ status: "DRAFT", total: { amount: "1673.89" } });
    await ok(`mutation($i: ID!) { issueInvoice(invoiceId: $i) { status } }`, { i: invoice.id });
    const over = await gql(
      `mutation($i: ID!) { recordPayment(input: { invoiceId: $i, amount: "2000.00" }) { invoice { status } } }`,
      { i: invoice.id },
    );
    expect(over.errors[0].extensions).toMatchObject({
      code: "VALIDATION_FAILED",
      reason: "OVERPAYMENT",
    });
    const paid = await ok(
      `mutation($i: ID!) { recordPayment(input: { invoiceId: $i, amount: "1673.89" }, idempotencyKey: "e2e-pay") {
          invoice { status balanceDue { amount } } } }`,
      { i: invoice.id },
    );
    expect(paid.recordPayment.invoice).toEqual({ status: "PAID", balanceDue: { amount: "0.00" } });

    // One query across the four subgraphs.
    const chain = await ok(
      `query($i: ID!) { invoice(id: $i) {
          status customer { name } contract { billingModel projects { nodes { name } } }
          lines { nodes { amount { amount } billingEvent { sourceType project { name } } } }
          payments { nodes { amount { amount } } } } }`,
      { i: invoice.id },
    );
    expect(chain.invoice.contract.billingModel).toBe("TIME_AND_MATERIALS");
    expect(chain.invoice.lines.nodes).toHaveLength(3);
    expect(chain.invoice.lines.nodes[0].billingEvent.project.name).toBe(project.name);
    expect(chain.invoice.payments.nodes).toEqual([{ amount: { amount: "1673.89" } }]);

    const lineage = await ok(
      `query($i: ID!) { lineage(entityType: INVOICE, id: $i) { events { type } entities { entityType } } }`,
      { i: invoice.id },
    );
    const types = lineage.lineage.events.map((e: { type: string }) => e.type);
    expect(types[0]).toBe("opportunity.converted");
    expect(types).toContain("payment.recorded");
    expect(lineage.lineage.entities.map((e: { entityType: string }) => e.entityType)).toEqual(
      expect.arrayContaining([
        "opportunity",
        "contract",
        "project",
        "time_entry",
        "expense",
        "billing_event",
        "invoice",
        "payment",
      ]),
    );
  });

  it("a refused transition comes back typed through the gateway", async () => {
    const body = await gql(
      `mutation { approveMilestone(milestoneId: "00000000-0000-4000-8000-000000000000") { id } }`,
    );
    expect(body.errors[0].extensions).toMatchObject({ code: "NOT_FOUND" });
  });
});
