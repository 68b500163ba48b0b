/**
 * Done-when of issue 11, through the graph: an invoice issued with the `issueInvoice` mutation
 * through the gateway appears once in the sandbox ERP, comes back POSTED with its ERP number, and
 * its status shows on the Salesforce opportunity — the real outbound worker with the NetSuite and
 * Salesforce handlers, against the sandboxes over HTTP (the worker as the cdc process runs it).
 * The exception queue's retry goes through the gateway too.
 */
import { execute, operations, schema } from "@pshub/db";
import { addTime, newResource, seedBasics, wonOpportunity } from "@pshub/db/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NetSuiteClient } from "../cdc/netsuite/client.ts";
import { netsuiteHandlers } from "../cdc/outbound/netsuite.ts";
import { salesforceHandlers } from "../cdc/outbound/salesforce.ts";
import { OutboundWorker } from "../cdc/outbound/worker.ts";
import { SalesforceClient } from "../cdc/salesforce/client.ts";
import { NetSuiteSandbox } from "../cdc/sandbox/netsuite/server.ts";
import { type SalesforceSandbox, startSalesforceSandbox } from "../cdc/sandbox/salesforce/index.ts";
import { type Stack, startStack } from "./support/stack.ts";

let stack: Stack;
let erp: NetSuiteSandbox;
let org: SalesforceSandbox;
let worker: OutboundWorker;
const ctx = { actor: "setup" };

beforeAll(async () => {
  stack = await startStack();
  erp = new NetSuiteSandbox({ accessToken: "e2e-ns" });
  const ns = new NetSuiteClient({
    baseUrl: await erp.listen(0),
    auth: { accessToken: "e2e-ns" },
    timeoutMs: 3000,
  });
  org = await startSalesforceSandbox();
  const sf = new SalesforceClient({
    auth: {
      kind: "password",
      loginUrl: org.url,
      clientId: org.options.clientId,
      clientSecret: org.options.clientSecret,
      username: org.options.username,
      password: org.options.password,
    },
    apiVersion: "62.0",
    slowDownShare: 0.9,
    slowDownDelayMs: 0,
    limitPauseMs: 60_000,
    httpTimeoutMs: 5_000,
    clientName: "pshub",
  });
  worker = new OutboundWorker({
    client: stack.database,
    handlers: { ...netsuiteHandlers(ns), ...salesforceHandlers(sf) },
    pollMs: 50,
    backoffBaseMs: 20,
    backoffMaxMs: 100,
  });
  worker.start();
}, 120_000);
afterAll(async () => {
  await worker?.stop(2_000);
  await org?.stop();
  await erp?.close();
  await stack?.stop();
});

async function until<T>(probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const commands = await stack.db
        .select({
          kind: schema.outboundCommand.kind,
          state: schema.outboundCommand.state,
          lastError: schema.outboundCommand.lastError,
        })
        .from(schema.outboundCommand);
      throw new Error(
        `timed out; commands: ${JSON.stringify(commands)}; worker ${JSON.stringify(worker.stats)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A converted deal linked to its Salesforce Account/Opportunity, with one draft invoice. */
async function draftInvoice(billingEmail?: string) {
  const db = stack.db;
  const basics = await seedBasics(db, { taxRate: "0.1000" });
  if (billingEmail)
    await db
      .update(schema.customer)
      .set({ billingEmail })
      .where(eq(schema.customer.id, basics.customerId));
  const opportunityId = await wonOpportunity(db, basics);
  const account = org.org.create("Account", { Name: "E2E Account" });
  const opp = org.org.create("Opportunity", {
    Name: "E2E Deal",
    AccountId: account.Id,
    StageName: "Closed Won",
    CloseDate: "2025-12-15",
  });
  await db.insert(schema.sourceLink).values([
    {
      entityType: "customer",
      entityId: basics.customerId,
      system: "SALESFORCE",
      object: "Account",
      externalId: String(account.Id),
    },
    {
      entityType: "opportunity",
      entityId: opportunityId,
      system: "SALESFORCE",
      object: "Opportunity",
      externalId: String(opp.Id),
    },
  ]);
  const conv = await execute(db, operations.convertOpportunity, ctx, { opportunityId });
  await execute(db, operations.activateProject, ctx, { projectId: conv.project.id });
  const ids = await addTime(db, conv.project.id, await newResource(db), [
    { workDate: "2026-01-05", hours: "8.00", billRate: "110.00" },
  ]);
  await execute(db, operations.approveTimeEntries, ctx, { ids });
  await execute(db, operations.runBilling, ctx, {
    contractId: conv.contract.id,
    periodEnd: "2026-01-31",
  });
  const draft = await execute(db, operations.generateInvoice, ctx, {
    contractId: conv.contract.id,
    periodEnd: "2026-01-31",
  });
  return { draft, oppId: String(opp.Id), customerId: basics.customerId };
}

describe("outbound through the graph", () => {
  it("an invoice issued through the gateway is posted once in the ERP, comes back POSTED with its ERP number, and its status shows on the opportunity", async () => {
    const { draft, oppId } = await draftInvoice();
    const issued = await stack.query(
      `mutation($id: ID!) { issueInvoice(invoiceId: $id) { id status number } }`,
      { id: draft.id },
    );
    expect(issued.json.errors).toBeUndefined();
    expect(issued.json.data.issueInvoice.status).toBe("ISSUED");
    const posted = await until(async () => {
      const r = await stack.query(
        `query($id: ID!) { invoice(id: $id) { status erpNumber total { amount } } }`,
        {
          id: draft.id,
        },
      );
      if (r.json.errors) throw new Error(JSON.stringify(r.json.errors));
      return r.json.data?.invoice?.status === "POSTED" ? r.json.data.invoice : undefined;
    });
    const inErp = erp.rows("transaction")!.filter((r) => r.externalid === draft.id);
    expect(inErp).toHaveLength(1);
    expect(posted.erpNumber).toBe(inErp[0]!.tranid);
    expect(posted.total.amount).toBe(inErp[0]!.foreigntotal);
    await until(async () =>
      org.org.table("Opportunity").get(oppId)?.Invoice_Status__c === "POSTED" ? true : undefined,
    );
    expect(org.org.table("Opportunity").get(oppId)).toMatchObject({
      Last_Invoice_Number__c: posted.erpNumber,
      Billed_Amount__c: posted.total.amount,
    });
    // The command and its attempts, through ops.
    const commands = await stack.query(
      `query($id: ID!) { outboundCommands(filter: { entityId: $id }) { nodes { kind state attempts lastError } } }`,
      { id: draft.id },
    );
    expect(commands.json.data.outboundCommands.nodes).toEqual(
      expect.arrayContaining([
        { kind: "invoice.post", state: "SUCCEEDED", attempts: 1, lastError: null },
      ]),
    );
  }, 60_000);

  it("a validation error in the ERP, fixed, completes with retryException through the gateway", async () => {
    // An email NetSuite refuses, set before the conversion queues the customer's upsert.
    const { draft, customerId } = await draftInvoice("billing at example");
    // The conversion's customer upsert is refused: a FINANCE exception linking its command.
    const raised = await until(async () => {
      const r = await stack.query(
        `query($id: ID!) { syncExceptions(filter: { entityId: $id, status: [OPEN] }) { nodes { id code owner command { kind state lastError } } } }`,
        { id: customerId },
      );
      return r.json.data?.syncExceptions?.nodes?.[0];
    });
    expect(raised).toMatchObject({
      code: "NETSUITE_INVALID_FLD_VALUE",
      owner: "FINANCE",
      command: { kind: "customer.upsert", state: "FAILED" },
    });
    await stack.db
      .update(schema.customer)
      .set({ billingEmail: "billing@example.com" })
      .where(eq(schema.customer.id, customerId));
    const retried = await stack.query(
      `mutation($id: ID!) { retryException(exceptionId: $id) { status } }`,
      { id: raised.id },
    );
    expect(retried.json.errors).toBeUndefined();
    expect(retried.json.data.retryException.status).toBe("RETRYING");
    const resolved = await until(async () => {
      const r = await stack.query(
        `query($id: ID!) { syncException(id: $id) { status resolvedBy command { state } } }`,
        { id: raised.id },
      );
      return r.json.data?.syncException?.status === "RESOLVED"
        ? r.json.data.syncException
        : undefined;
    });
    expect(resolved.command.state).toBe("SUCCEEDED");
    expect(erp.rows("customer")!.filter((c) => c.externalid === customerId)).toHaveLength(1);
    // The invoice, issued now, posts once.
    await stack.query(`mutation($id: ID!) { issueInvoice(invoiceId: $id) { id } }`, {
      id: draft.id,
    });
    await until(async () => {
      const [inv] = await stack.db
        .select({ status: schema.invoice.status })
        .from(schema.invoice)
        .where(eq(schema.invoice.id, draft.id));
      return inv?.status === "POSTED" ? true : undefined;
    });
    expect(erp.rows("transaction")!.filter((r) => r.externalid === draft.id)).toHaveLength(1);
  }, 60_000);
});
