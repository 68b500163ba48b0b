/**
 * Salesforce + Certinia into the hub through the real engine (inbox writer, applier, hooks) on
 * real Postgres, the sandbox over real HTTP and real jsforce: full load then incremental sync of
 * every object into canonical rows, deletes, CDC into canonical rows, PSA approvals as state
 * transitions, closed-won → converted, and closed-won with missing data → SALES_OPS exception →
 * fixed in Salesforce → converted.
 */
import { createLogger, schema, sync } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Applier } from "../engine/applier.ts";
import { createIngest } from "../engine/engine.ts";
import type { Connector } from "../engine/types.ts";
import {
  type SalesforceSandbox,
  type SandboxOrg,
  startSalesforceSandbox,
} from "../sandbox/salesforce/index.ts";
import { closedWonHook } from "./closed-won.ts";
import { createSalesforceOrg, SALESFORCE_DEFAULTS, type SalesforceOrg } from "./connector.ts";

let t: TestDatabase;
let sandbox: SalesforceSandbox;
let org: SandboxOrg;
let sf: SalesforceOrg;
let applier: Applier;

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startSalesforceSandbox({ queryBatchSize: 40 });
  org = sandbox.org;
  await t.db.insert(schema.legalEntity).values({
    code: "US",
    name: "Firm US",
    country: "US",
    currency: "USD",
    taxJurisdiction: "US-NY",
    invoicePrefix: "US-",
  });
  await t.db
    .insert(schema.taxRate)
    .values({ jurisdiction: "US-NY", rate: "0.0800", validFrom: "2020-01-01" });
  sf = createSalesforceOrg(
    {
      ...SALESFORCE_DEFAULTS,
      streaming: true,
      auth: {
        kind: "password",
        loginUrl: sandbox.url,
        clientId: sandbox.options.clientId,
        clientSecret: sandbox.options.clientSecret,
        username: sandbox.options.username,
        password: sandbox.options.password,
      },
      sweepEveryMs: 0,
      bulkThreshold: 50,
      pageSize: 25,
    },
    t.db,
  );
  applier = new Applier(t, {
    mappers: sf.connectors.flatMap((c) => c.mappers),
    hooks: [closedWonHook({ autoConvert: true })],
    logger: createLogger("test", "warn"),
  });
});
afterAll(async () => {
  for (const c of sf?.connectors ?? []) await c.stop();
  await sandbox?.stop();
  await t?.drop();
});

async function pollAll(connector: Connector) {
  for (const object of connector.objects) {
    for (let i = 0; i < 200; i++) {
      const { cursor } = await t.db.transaction((tx) =>
        sync.readSyncCursor(tx, connector.name, object),
      );
      const res = await connector.pollOnce(object, {
        cursor,
        ingest: createIngest(t, connector.name),
        signal: new AbortController().signal,
      });
      if (!res.more) break;
    }
  }
}

async function syncAll() {
  for (const c of sf.connectors) await pollAll(c);
  await applier.drain();
}

async function linked(entityType: string, object: string, externalId: string) {
  const [link] = await t.db
    .select()
    .from(schema.sourceLink)
    .where(
      and(
        eq(schema.sourceLink.entityType, entityType),
        eq(schema.sourceLink.object, object),
        eq(schema.sourceLink.externalId, externalId),
      ),
    );
  return link?.entityId;
}

describe("Salesforce + Certinia → hub", () => {
  const ids: Record<string, string> = {};

  it("full load of every object into canonical rows (Bulk 2.0 above the threshold)", async () => {
    // Children created before their parents arrive in the same load: they wait, then apply.
    const group = org.create("Account", {
      Name: "Globex Group",
      CurrencyIsoCode: "USD",
      Legal_Entity__c: "US",
      Tax_Jurisdiction__c: "US-NY",
      Status__c: "Active",
    });
    for (let i = 0; i < 60; i++)
      org.create("Account", {
        Name: `Globex Sub ${i}`,
        CurrencyIsoCode: "USD",
        ParentId: group.Id,
        Legal_Entity__c: "US",
        Tax_Jurisdiction__c: "US-NY",
      });
    ids.group = group.Id;
    ids.contact = org.create("Contact", {
      AccountId: group.Id,
      FirstName: "Gina",
      LastName: "Buyer",
      Email: "gina@globex.example",
      Billing_Contact__c: true,
    }).Id;
    ids.resource = org.create("Contact", {
      FirstName: "Ana",
      LastName: "Consultant",
      Email: "ana@firm.example",
      pse__Is_Resource__c: true,
      pse__Resource_Role__c: "Consultant",
      Default_Bill_Rate__c: 150,
      pse__Default_Cost_Rate__c: 80,
      CurrencyIsoCode: "USD",
    }).Id;
    ids.opp = org.create("Opportunity", {
      AccountId: group.Id,
      Name: "Globex rollout",
      StageName: "Negotiation/Review",
      Amount: 48000,
      CurrencyIsoCode: "USD",
      CloseDate: "2026-12-15",
      Billing_Model__c: "Time and Materials",
      Legal_Entity__c: "US",
      Contract_Type__c: "Services",
      Start_Date__c: "2027-01-01",
      End_Date__c: "2027-06-30",
      Payment_Terms__c: 30,
    }).Id;
    await syncAll();
    const customers = await t.db.select().from(schema.customer);
    expect(customers.filter((c) => c.name.startsWith("Globex"))).toHaveLength(61);
    const groupId = await linked("customer", "Account", group.Id);
    expect(customers.filter((c) => c.parentId === groupId)).toHaveLength(60);
    expect(sandbox.requests.some((r) => r.path.endsWith("/jobs/query"))).toBe(true); // 61 > 50
    const contactId = await linked("contact", "Contact", ids.contact);
    const [contact] = await t.db
      .select()
      .from(schema.contact)
      .where(eq(schema.contact.id, contactId!));
    expect(contact).toMatchObject({
      name: "Gina Buyer",
      email: "gina@globex.example",
      isBillingContact: true,
      customerId: groupId,
    });
    const resourceId = await linked("resource", "Contact", ids.resource);
    const [res] = await t.db
      .select()
      .from(schema.resource)
      .where(eq(schema.resource.id, resourceId!));
    expect(res).toMatchObject({ email: "ana@firm.example", billRate: "150.00", costRate: "80.00" });
    const oppId = await linked("opportunity", "Opportunity", ids.opp);
    const [opp] = await t.db
      .select()
      .from(schema.opportunity)
      .where(eq(schema.opportunity.id, oppId!));
    expect(opp).toMatchObject({
      stage: "NEGOTIATION",
      amount: "48000.00",
      billingModel: "TIME_AND_MATERIALS",
      customerId: groupId,
      convertedAt: null,
    });
  });

  it("closed-won arriving from Salesforce converts the opportunity (customer + contract + project)", async () => {
    org.advanceClock(2000);
    org.update("Opportunity", ids.opp!, { StageName: "Closed Won" });
    await syncAll();
    const oppId = await linked("opportunity", "Opportunity", ids.opp!);
    const [opp] = await t.db
      .select()
      .from(schema.opportunity)
      .where(eq(schema.opportunity.id, oppId!));
    expect(opp!.stage).toBe("CLOSED_WON");
    expect(opp!.convertedAt).not.toBeNull();
    const contracts = await t.db
      .select()
      .from(schema.contract)
      .where(eq(schema.contract.opportunityId, oppId!));
    expect(contracts).toHaveLength(1);
    const projects = await t.db
      .select()
      .from(schema.project)
      .where(eq(schema.project.contractId, contracts[0]!.id));
    expect(projects).toHaveLength(1);
    ids.projectCode = projects[0]!.code;
  });

  it("closed-won with missing data → SALES_OPS exception → fixed in Salesforce → converted", async () => {
    org.advanceClock(2000);
    const bad = org.create("Opportunity", {
      AccountId: ids.group,
      Name: "Globex no terms",
      StageName: "Closed Won",
      Amount: 9000,
      CurrencyIsoCode: "USD",
      CloseDate: "2026-12-20",
      Start_Date__c: "2027-02-01",
    });
    await syncAll();
    const oppId = await linked("opportunity", "Opportunity", bad.Id);
    expect(oppId).toBeDefined();
    const open = await t.db
      .select()
      .from(schema.syncException)
      .where(
        and(
          eq(schema.syncException.entityId, oppId!),
          eq(schema.syncException.code, "CONVERSION_BLOCKED"),
        ),
      );
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ owner: "SALES_OPS", status: "OPEN" });
    expect(open[0]!.remediation).toMatch(/Billing_Model__c/);
    expect(
      await t.db.select().from(schema.contract).where(eq(schema.contract.opportunityId, oppId!)),
    ).toHaveLength(0);

    org.advanceClock(2000);
    org.update("Opportunity", bad.Id, { Billing_Model__c: "Fixed Fee", Installments__c: 3 });
    await syncAll();
    expect(
      await t.db.select().from(schema.contract).where(eq(schema.contract.opportunityId, oppId!)),
    ).toHaveLength(1);
    const [after] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.id, open[0]!.id));
    expect(after!.status).toBe("RESOLVED");
  });

  it("PSA: the project links by code, time and expenses arrive and their approvals are transitions", async () => {
    org.advanceClock(2000);
    const proj = org.create("pse__Proj__c", {
      Name: "Globex rollout",
      pse__Project_ID__c: ids.projectCode,
      pse__Stage__c: "In Progress",
      CurrencyIsoCode: "USD",
    });
    const tc = org.create("pse__Timecard_Header__c", {
      pse__Project__c: proj.Id,
      pse__Resource__c: ids.resource,
      pse__Start_Date__c: "2027-01-04",
      pse__Status__c: "Submitted",
      pse__Billable__c: true,
      pse__Monday_Hours__c: 8,
      pse__Tuesday_Hours__c: 6,
      pse__Bill_Rate__c: 150,
      CurrencyIsoCode: "USD",
    });
    const ex = org.create("pse__Expense__c", {
      pse__Project__c: proj.Id,
      pse__Resource__c: ids.resource,
      pse__Amount__c: 120.5,
      pse__Expense_Date__c: "2027-01-05",
      pse__Type__c: "Travel",
      pse__Billable__c: true,
      pse__Status__c: "Submitted",
      CurrencyIsoCode: "USD",
    });
    await syncAll();
    const projectId = await linked("project", "pse__Proj__c", proj.Id);
    if (!projectId) {
      const rows =
        await t.sql`select object, status, reason, external_id from inbox_event where object like 'pse__%' order by id`;
      throw new Error(JSON.stringify(rows));
    }
    const [project] = await t.db
      .select()
      .from(schema.project)
      .where(eq(schema.project.id, projectId!));
    expect(project).toMatchObject({ code: ids.projectCode, status: "ACTIVE" });
    const entries = await t.db
      .select()
      .from(schema.timeEntry)
      .where(eq(schema.timeEntry.projectId, projectId!));
    expect(entries.map((e) => [e.workDate, e.hours, e.status]).sort()).toEqual([
      ["2027-01-04", "8.00", "SUBMITTED"],
      ["2027-01-05", "6.00", "SUBMITTED"],
    ]);

    org.advanceClock(2000);
    org.update("pse__Timecard_Header__c", tc.Id, {
      pse__Status__c: "Approved",
      pse__Approved__c: true,
    });
    org.update("pse__Expense__c", ex.Id, { pse__Status__c: "Approved", pse__Approved__c: true });
    await syncAll();
    const approved = await t.db
      .select()
      .from(schema.timeEntry)
      .where(eq(schema.timeEntry.projectId, projectId!));
    expect(approved.every((e) => e.status === "APPROVED")).toBe(true);
    const [expense] = await t.db
      .select()
      .from(schema.expense)
      .where(eq(schema.expense.projectId, projectId!));
    expect(expense).toMatchObject({ status: "APPROVED", amount: "120.50" });
  });

  it("deletes in Salesforce reach the hub", async () => {
    org.advanceClock(2000);
    const c = org.create("Contact", {
      AccountId: ids.group,
      LastName: "Temp",
      Email: "temp@globex.example",
    });
    await syncAll();
    const contactId = await linked("contact", "Contact", c.Id);
    expect(contactId).toBeDefined();
    org.delete("Contact", c.Id);
    await syncAll();
    const rows = await t.db.select().from(schema.contact).where(eq(schema.contact.id, contactId!));
    expect(rows).toHaveLength(0);
  });
  it("a Salesforce Contract links by Id: unlinked, to the hub contract of its Opportunity (not a second contract); its changes reach that contract by Id", async () => {
    org.advanceClock(2000);
    const oppId = await linked("opportunity", "Opportunity", ids.opp!);
    const before = await t.db
      .select()
      .from(schema.contract)
      .where(eq(schema.contract.opportunityId, oppId!));
    expect(before).toHaveLength(1);
    // Salesforce numbers its contracts itself: the number is not the hub's.
    const sfContract = org.create("Contract", {
      AccountId: ids.group,
      Opportunity__c: ids.opp,
      Status: "Draft",
      StartDate: "2027-01-01",
      EndDate: "2027-06-30",
      Billing_Model__c: "Time and Materials",
      Legal_Entity__c: "US",
      CurrencyIsoCode: "USD",
    });
    expect(sfContract.ContractNumber).not.toBe(before[0]!.number);
    await syncAll();
    const contractId = await linked("contract", "Contract", sfContract.Id);
    expect(contractId).toBe(before[0]!.id);
    expect(
      await t.db.select().from(schema.contract).where(eq(schema.contract.opportunityId, oppId!)),
    ).toHaveLength(1);
    // Changed in Salesforce: the same hub contract, found by its Id (source link).
    org.advanceClock(2000);
    org.update("Contract", sfContract.Id, { EndDate: "2027-09-30" });
    await syncAll();
    expect(await linked("contract", "Contract", sfContract.Id)).toBe(before[0]!.id);
    const [after] = await t.db
      .select()
      .from(schema.contract)
      .where(eq(schema.contract.id, before[0]!.id));
    expect(after!.endDate).toBe("2027-09-30");
  });
});
