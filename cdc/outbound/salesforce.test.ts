/**
 * Write-back to Salesforce and the PSA through real jsforce against the Salesforce sandbox (and
 * the NetSuite sandbox for postings), run by the real OutboundWorker over real Postgres:
 * conversion queues the ERP customer and the PSA project structure (upsert by external id, in
 * the conversion's transaction); every invoice status change propagates status and billed / paid
 * totals to the Opportunity and Account (sObject Collections), and posting marks the PSA's billed
 * timecards invoiced; the writes are the integration user's own (loop prevention). A failed
 * propagation is replayed without re-posting the invoice.
 */
import { execute, operations, schema } from "@pshub/db";
import {
  addTime,
  createTestDatabase,
  newResource,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NetSuiteClient } from "../netsuite/client.ts";
import { SalesforceClient } from "../salesforce/client.ts";
import { NetSuiteSandbox } from "../sandbox/netsuite/server.ts";
import { type SalesforceSandbox, startSalesforceSandbox } from "../sandbox/salesforce/index.ts";
import { netsuiteHandlers } from "./netsuite.ts";
import { salesforceHandlers } from "./salesforce.ts";
import { OutboundWorker } from "./worker.ts";

let t: TestDatabase;
let erp: NetSuiteSandbox;
let org: SalesforceSandbox;
let sf: SalesforceClient;
let ns: NetSuiteClient;
const ctx = { actor: "test" };

beforeAll(async () => {
  t = await createTestDatabase();
  erp = new NetSuiteSandbox({ accessToken: "ns-token" });
  ns = new NetSuiteClient({
    baseUrl: await erp.listen(0),
    auth: { accessToken: "ns-token" },
    timeoutMs: 3000,
  });
  org = await startSalesforceSandbox();
  sf = new SalesforceClient({
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
});
afterAll(async () => {
  await org?.stop();
  await erp?.close();
  await t?.drop();
});

function worker() {
  return new OutboundWorker({
    client: t,
    handlers: { ...netsuiteHandlers(ns), ...salesforceHandlers(sf) },
    backoffBaseMs: 20,
    backoffMaxMs: 100,
    pollMs: 20,
  });
}

const link = (
  entityType: string,
  entityId: string,
  system: "SALESFORCE" | "PSA",
  object: string,
  externalId: string,
) => t.db.insert(schema.sourceLink).values({ entityType, entityId, system, object, externalId });

/** A won opportunity whose Account and Opportunity exist in the org (linked as inbound sync would). */
async function linkedDeal(values: Parameters<typeof wonOpportunity>[2] = {}) {
  const basics = await seedBasics(t.db, { taxRate: "0.1000" });
  const opportunityId = await wonOpportunity(t.db, basics, values);
  const account = org.org.create("Account", { Name: `Account ${opportunityId.slice(0, 6)}` });
  const opp = org.org.create("Opportunity", {
    Name: `Deal ${opportunityId.slice(0, 6)}`,
    AccountId: account.Id,
    StageName: "Closed Won",
    CloseDate: "2025-12-15",
  });
  await link("customer", basics.customerId, "SALESFORCE", "Account", String(account.Id));
  await link("opportunity", opportunityId, "SALESFORCE", "Opportunity", String(opp.Id));
  const conv = await execute(t.db, operations.convertOpportunity, ctx, { opportunityId });
  return { basics, opportunityId, conv, accountId: String(account.Id), oppId: String(opp.Id) };
}

const sfRows = (object: string) => [...org.org.table(object).values()].filter((r) => !r.IsDeleted);

async function commandsOf(entityId: string) {
  return t.db
    .select()
    .from(schema.outboundCommand)
    .where(eq(schema.outboundCommand.entityId, entityId))
    .orderBy(asc(schema.outboundCommand.seq));
}

/** One approved day of time, billed, invoiced and issued; the time entry linked to a PSA timecard. */
async function issuedInvoice(deal: Awaited<ReturnType<typeof linkedDeal>>) {
  await execute(t.db, operations.activateProject, ctx, { projectId: deal.conv.project.id });
  const [timeId] = await addTime(t.db, deal.conv.project.id, await newResource(t.db), [
    { workDate: "2026-01-05", hours: "8.00", billRate: "125.00" },
  ]);
  const header = org.org.create("pse__Timecard_Header__c", { pse__Monday_Hours__c: 8 });
  await link("time_entry", timeId!, "PSA", "pse__Timecard_Header__c", `${header.Id}:Monday`);
  await execute(t.db, operations.approveTimeEntries, ctx, { ids: [timeId!] });
  await execute(t.db, operations.runBilling, ctx, {
    contractId: deal.conv.contract.id,
    periodEnd: "2026-01-31",
  });
  const draft = await execute(t.db, operations.generateInvoice, ctx, {
    contractId: deal.conv.contract.id,
    periodEnd: "2026-01-31",
  });
  const issued = await execute(t.db, operations.issueInvoice, ctx, { invoiceId: draft.id });
  return { invoice: issued, headerId: String(header.Id) };
}

describe("outbound → Salesforce and the PSA", () => {
  it("conversion queues the ERP customer and the PSA project with its milestones in its transaction; upserts by external id, a replay creates nothing", async () => {
    const deal = await linkedDeal({ billingModel: "MILESTONE", installments: 3 });
    const project = deal.conv.project;
    // Queued by convertOpportunity itself (no worker has run yet), in order.
    expect((await commandsOf(deal.basics.customerId)).map((c) => c.kind)).toEqual([
      "customer.upsert",
    ]);
    expect((await commandsOf(project.id)).map((c) => [c.target, c.kind, c.state])).toEqual([
      ["PSA", "project.upsert", "PENDING"],
    ]);
    const w = worker();
    await w.drain();
    expect(
      erp.rows("customer")!.filter((c) => c.externalid === deal.basics.customerId),
    ).toHaveLength(1);
    const projects = sfRows("pse__Proj__c").filter((p) => p.Pshub_Id__c === project.id);
    expect(projects).toHaveLength(1);
    expect(projects[0]).toMatchObject({
      Name: project.name,
      pse__Account__c: deal.accountId,
      pse__Opportunity__c: deal.oppId,
      // pshub's own write: the integration user, which CDC skips (loop prevention).
      LastModifiedById: sf.userId,
    });
    const hubMilestones = await t.db
      .select()
      .from(schema.milestone)
      .where(eq(schema.milestone.projectId, project.id));
    expect(hubMilestones).toHaveLength(3);
    const psaMilestones = sfRows("pse__Milestone__c").filter(
      (m) => m.pse__Project__c === projects[0]!.Id,
    );
    expect(psaMilestones.map((m) => m.Pshub_Id__c).sort()).toEqual(
      hubMilestones.map((m) => m.id).sort(),
    );
    expect(psaMilestones.map((m) => String(m.pse__Milestone_Amount__c)).sort()).toEqual(
      hubMilestones.map((m) => m.amount).sort(),
    );
    const links = await t.db
      .select()
      .from(schema.sourceLink)
      .where(and(eq(schema.sourceLink.system, "PSA"), eq(schema.sourceLink.entityId, project.id)));
    expect(links.map((l) => l.externalId)).toEqual([projects[0]!.Id]);
    // Replay: the PSA project is linked now, so it is updated by id; nothing is created twice.
    const [cmd] = await commandsOf(project.id);
    await execute(t.db, operations.replayCommand, ctx, { commandId: cmd!.id });
    await w.drain();
    expect(sfRows("pse__Proj__c").filter((p) => p.Pshub_Id__c === project.id)).toHaveLength(1);
    expect(
      sfRows("pse__Milestone__c").filter((m) => m.pse__Project__c === projects[0]!.Id),
    ).toHaveLength(3);
  });

  it("posting propagates the status and billed / paid totals to the Opportunity and Account and marks the PSA timecard invoiced; payment → PAID follows", async () => {
    const deal = await linkedDeal();
    const { invoice, headerId } = await issuedInvoice(deal);
    const w = worker();
    await w.drain();
    const [posted] = await t.db
      .select()
      .from(schema.invoice)
      .where(eq(schema.invoice.id, invoice.id));
    expect(posted).toMatchObject({ status: "POSTED", erpNumber: expect.stringMatching(/^INV/) });
    const kinds = (await commandsOf(invoice.id)).map((c) => [c.kind, c.state]);
    expect(kinds).toEqual([
      ["invoice.post", "SUCCEEDED"],
      ["invoice.status.salesforce", "SUCCEEDED"],
      ["invoice.status.psa", "SUCCEEDED"],
    ]);
    const opp = org.org.table("Opportunity").get(deal.oppId)!;
    expect(opp).toMatchObject({
      Invoice_Status__c: "POSTED",
      Last_Invoice_Number__c: posted!.erpNumber,
      Billed_Amount__c: posted!.total,
      Paid_Amount__c: "0.00",
      LastModifiedById: sf.userId,
    });
    expect(org.org.table("Account").get(deal.accountId)).toMatchObject({
      Billed_Amount__c: posted!.total,
      Paid_Amount__c: "0.00",
    });
    expect(org.org.table("pse__Timecard_Header__c").get(headerId)).toMatchObject({
      pse__Invoiced__c: true,
      pse__Invoice_Number__c: posted!.erpNumber,
    });
    await execute(t.db, operations.recordPayment, ctx, {
      invoiceId: invoice.id,
      amount: posted!.total,
      receivedOn: posted!.issuedOn,
    });
    await w.drain();
    expect(org.org.table("Opportunity").get(deal.oppId)).toMatchObject({
      Invoice_Status__c: "PAID",
      Paid_Amount__c: posted!.total,
    });
  });

  it("posting succeeds but propagation to Salesforce fails: an exception; replayCommand propagates without re-posting", async () => {
    const deal = await linkedDeal();
    const { invoice } = await issuedInvoice(deal);
    // Every Opportunity write is refused (a validation rule in the org) until the admin fixes it.
    org.failNext(400, {
      times: 1000,
      errorCode: "FIELD_CUSTOM_VALIDATION_EXCEPTION",
      message: "Billed amount cannot be changed while the opportunity is locked",
      match: /composite\/sobjects/,
    });
    const w = worker();
    await w.drain();
    const [post, toSalesforce] = await commandsOf(invoice.id);
    expect(post).toMatchObject({ kind: "invoice.post", state: "SUCCEEDED", attempts: 1 });
    expect(toSalesforce).toMatchObject({ kind: "invoice.status.salesforce", state: "FAILED" });
    const [ex] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.commandId, toSalesforce!.id));
    expect(ex).toMatchObject({
      owner: "SALES_OPS",
      code: "SALESFORCE_FIELD_CUSTOM_VALIDATION_EXCEPTION",
      status: "OPEN",
    });
    expect(org.org.table("Opportunity").get(deal.oppId)!.Invoice_Status__c).toBeNull();
    const postedInErp = erp.created.invoice;
    org.clearFaults();
    await execute(t.db, operations.replayCommand, ctx, { commandId: toSalesforce!.id });
    await w.drain();
    expect(org.org.table("Opportunity").get(deal.oppId)).toMatchObject({
      Invoice_Status__c: "POSTED",
    });
    // Not re-posted: the ERP created nothing more, the posting ran once.
    expect(erp.created.invoice).toBe(postedInErp);
    const [postAfter] = await commandsOf(invoice.id);
    expect(postAfter).toMatchObject({ state: "SUCCEEDED", attempts: 1 });
    const [exAfter] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.id, ex!.id));
    expect(exAfter!.status).toBe("RESOLVED");
  });
});
