/**
 * The org connectors end to end up to the mappers: describe check of every mapped field, field
 * map overrides, records read by jsforce from the sandbox mapped to canonical changes (legal
 * entity codes, picklists, money as decimal strings, partial CDC changes), loop prevention, and
 * the Certinia objects (timecard weeks → daily time entries, approvals as states, resources).
 */
import { schema } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CanonicalChange, InboundRecord, MapResult } from "../engine/types.ts";
import { type SalesforceSandbox, startSalesforceSandbox } from "../sandbox/salesforce/index.ts";
import { createSalesforceOrg, SALESFORCE_DEFAULTS, type SalesforceConfig } from "./connector.ts";
import { pollUntilCaughtUp, testIngest } from "./testing/inbox.ts";

let t: TestDatabase;
let sandbox: SalesforceSandbox;
let legalEntityId = "";

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startSalesforceSandbox();
  const [le] = await t.db
    .insert(schema.legalEntity)
    .values({
      code: "US",
      name: "Firm US",
      country: "US",
      currency: "USD",
      taxJurisdiction: "US-NY",
      invoicePrefix: "US-",
    })
    .returning();
  legalEntityId = le!.id;
});
afterAll(async () => {
  await sandbox?.stop();
  await t?.drop();
});

function config(override?: Record<string, unknown>): SalesforceConfig {
  return {
    ...SALESFORCE_DEFAULTS,
    streaming: false,
    auth: {
      kind: "password",
      loginUrl: sandbox.url,
      clientId: sandbox.options.clientId,
      clientSecret: sandbox.options.clientSecret,
      username: sandbox.options.username,
      password: sandbox.options.password,
    },
    sweepEveryMs: 0,
    fieldMapOverride: override,
  };
}

function mapperFor(org: ReturnType<typeof createSalesforceOrg>, object: string) {
  return org.connectors.flatMap((c) => c.mappers).find((m) => m.object === object)!;
}

async function read(
  org: ReturnType<typeof createSalesforceOrg>,
  object: string,
  id: string,
): Promise<InboundRecord> {
  const connector = org.connectors.find((c) => c.objects.includes(object))!;
  const record = await connector.fetchOne(object, id);
  if (!record) throw new Error(`${object} ${id} not found`);
  return record;
}

const changes = (r: MapResult): CanonicalChange[] => {
  if (r.kind !== "changes") throw new Error(`expected changes, got ${JSON.stringify(r)}`);
  return r.changes;
};

describe("describe check", () => {
  it("refuses to start when a mapped field does not exist, naming object and field", async () => {
    const org = createSalesforceOrg(
      config({ Opportunity: { billingModel: "Billing_Type__c" } }),
      t.db,
    );
    const connector = org.connectors[0]!;
    await expect(
      connector.pollOnce("Account", {
        cursor: {},
        ingest: testIngest(t.db, "x"),
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow(/Opportunity\.Billing_Type__c does not exist/);
  });

  it("an override to null turns a field off; an unknown canonical key is an error", async () => {
    expect(() => createSalesforceOrg(config({ Account: { nope: "X__c" } }), t.db)).toThrow(
      /Account\.nope: unknown canonical field/,
    );
    const org = createSalesforceOrg(config({ Account: { status: null } }), t.db);
    expect(mapperFor(org, "Account").requiredFields).not.toContain("Status__c");
  });
});

describe("Salesforce CRM mappers", () => {
  it("maps accounts, opportunities and contacts read through jsforce", async () => {
    const o = sandbox.org;
    const parent = o.create("Account", {
      Name: "Group",
      CurrencyIsoCode: "USD",
      Legal_Entity__c: "US",
      Tax_Jurisdiction__c: "US-NY",
      Status__c: "Active",
    });
    const child = o.create("Account", {
      Name: "Sub",
      CurrencyIsoCode: "USD",
      ParentId: parent.Id,
      Status__c: "On Hold",
    });
    const opp = o.create("Opportunity", {
      AccountId: child.Id,
      Name: "Big deal",
      StageName: "Closed Won",
      Amount: 125000.5,
      CurrencyIsoCode: "USD",
      CloseDate: "2026-11-30",
      Billing_Model__c: "Fixed Fee",
      Legal_Entity__c: "US",
      Tax_Jurisdiction__c: "US-NY",
      Contract_Type__c: "Services",
      Start_Date__c: "2027-01-01",
      Installments__c: 4,
    });
    const org = createSalesforceOrg(config(), t.db);
    await pollUntilCaughtUp(t.db, "salesforce", "Account", (ctx) =>
      org.connectors[0]!.pollOnce("Account", ctx),
    );

    const [acct] = changes(mapperFor(org, "Account").parse(await read(org, "Account", child.Id)));
    expect(acct).toMatchObject({
      entityType: "customer",
      fields: { name: "Sub", status: "ON_HOLD", currency: "USD" },
    });
    expect(acct!.parents).toEqual([
      {
        field: "parentId",
        system: "SALESFORCE",
        object: "Account",
        externalId: parent.Id,
        entityType: "customer",
        required: true,
      },
    ]);
    const [top] = changes(mapperFor(org, "Account").parse(await read(org, "Account", parent.Id)));
    expect(top!.fields).toMatchObject({ legalEntityId, taxJurisdiction: "US-NY", parentId: null });

    const [deal] = changes(
      mapperFor(org, "Opportunity").parse(await read(org, "Opportunity", opp.Id)),
    );
    expect(deal!.fields).toMatchObject({
      stage: "CLOSED_WON",
      isWon: true,
      amount: "125000.5",
      billingModel: "FIXED_FEE",
      legalEntityId,
      taxJurisdiction: "US-NY",
      startDate: "2027-01-01",
      installments: 4,
    });
    expect(typeof deal!.fields.amount).toBe("string");
  });

  it("a partial (CDC UPDATE) record maps only what it carries", () => {
    const org = createSalesforceOrg(config(), t.db);
    const [c] = changes(
      mapperFor(org, "Opportunity").parse({
        system: "SALESFORCE",
        object: "Opportunity",
        externalId: "0065g0000000001AAA",
        op: "UPSERT",
        partial: true,
        fields: { StageName: "Negotiation/Review", LastModifiedDate: "2026-11-30T10:00:00.000Z" },
        dedupeKey: "k",
      }),
    );
    expect(c!.fields).toEqual({ stage: "NEGOTIATION", isWon: false });
    expect(c!.parents).toEqual([]);
  });

  it("an unknown legal entity code or stage is a failure naming the field, for SALES_OPS", async () => {
    const o = sandbox.org;
    const a = o.create("Account", {
      Name: "Bad LE",
      CurrencyIsoCode: "USD",
      Legal_Entity__c: "ZZ",
    });
    const org = createSalesforceOrg(config(), t.db);
    await org.connectors[0]!.pollOnce("Account", {
      cursor: { phase: "incremental", ts: new Date().toISOString() },
      ingest: testIngest(t.db, "prep"),
      signal: new AbortController().signal,
    });
    const r = mapperFor(org, "Account").parse(await read(org, "Account", a.Id));
    expect(r).toMatchObject({
      kind: "failure",
      failure: { field: "Legal_Entity__c", owner: "SALES_OPS" },
    });
    if (r.kind === "failure")
      expect(r.failure.remediation).toMatch(new RegExp(`Legal_Entity__c on Account ${a.Id}.*US`));
  });

  it("skips changes made by pshub's own integration user (loop prevention), not full loads", async () => {
    const org = createSalesforceOrg(config(), t.db);
    await org.connectors[0]!.pollOnce("Account", {
      cursor: { phase: "incremental", ts: new Date().toISOString() },
      ingest: testIngest(t.db, "prep2"),
      signal: new AbortController().signal,
    });
    const mapper = mapperFor(org, "Account");
    const base: InboundRecord = {
      system: "SALESFORCE",
      object: "Account",
      externalId: "0015g0000000099AAA",
      op: "UPSERT",
      fields: { Name: "Echo", CurrencyIsoCode: "USD" },
      dedupeKey: "e",
    };
    expect(mapper.parse({ ...base, modifiedBy: sandbox.org.integrationUserId })).toMatchObject({
      kind: "skip",
      reason: expect.stringMatching(/loop prevention/),
    });
    expect(mapper.parse({ ...base, modifiedBy: sandbox.org.adminUserId }).kind).toBe("changes");
    expect(mapper.parse(base).kind).toBe("changes");
  });
});

describe("Certinia PSA mappers", () => {
  it("turns a timecard week into daily time entries with its approval state", async () => {
    const o = sandbox.org;
    const resource = o.create("Contact", {
      LastName: "Consultant",
      FirstName: "Ana",
      Email: "ana@firm.example",
      pse__Is_Resource__c: true,
      pse__Resource_Role__c: "Senior Consultant",
      pse__Default_Cost_Rate__c: 80,
      Default_Bill_Rate__c: 150,
      CurrencyIsoCode: "USD",
    });
    const project = o.create("pse__Proj__c", {
      Name: "Rollout",
      pse__Project_ID__c: "PRJ-1",
      pse__Stage__c: "In Progress",
      CurrencyIsoCode: "USD",
    });
    const tc = o.create("pse__Timecard_Header__c", {
      pse__Project__c: project.Id,
      pse__Resource__c: resource.Id,
      pse__Start_Date__c: "2026-11-23", // a Monday
      pse__Status__c: "Approved",
      pse__Billable__c: true,
      pse__Monday_Hours__c: 8,
      pse__Tuesday_Hours__c: 7.5,
      pse__Bill_Rate__c: 150,
      CurrencyIsoCode: "USD",
    });
    const org = createSalesforceOrg(config(), t.db);
    const mapper = mapperFor(org, "pse__Timecard_Header__c");
    const cs = changes(mapper.parse(await read(org, "pse__Timecard_Header__c", tc.Id)));
    const live = cs.filter((c) => !c.deleted);
    expect(live.map((c) => [c.externalId, c.fields.workDate, c.fields.hours, c.state])).toEqual([
      [`${tc.Id}:monday`, "2026-11-23", "8", "APPROVED"],
      [`${tc.Id}:tuesday`, "2026-11-24", "7.5", "APPROVED"],
    ]);
    expect(cs.filter((c) => c.deleted)).toHaveLength(5);
    expect(live[0]!.parents?.map((p) => [p.field, p.object, p.entityType])).toEqual([
      ["projectId", "pse__Proj__c", "project"],
      ["resourceId", "Contact", "resource"],
    ]);

    o.update("pse__Timecard_Header__c", tc.Id, { pse__Status__c: "Saved" });
    expect(mapper.parse(await read(org, "pse__Timecard_Header__c", tc.Id))).toMatchObject({
      kind: "skip",
    });

    const [proj] = changes(
      mapperFor(org, "pse__Proj__c").parse(await read(org, "pse__Proj__c", project.Id)),
    );
    expect(proj).toMatchObject({
      state: "ACTIVE",
      matchOn: { field: "code", value: "PRJ-1" },
      create: false,
    });

    const contact = changes(
      mapperFor(org, "Contact").parse(await read(org, "Contact", resource.Id)),
    );
    expect(contact.map((c) => c.entityType)).toEqual(["resource"]); // no account: a resource only
    expect(contact[0]).toMatchObject({
      system: "PSA",
      fields: {
        email: "ana@firm.example",
        role: "Senior Consultant",
        billRate: "150",
        costRate: "80",
      },
      matchOn: { field: "email", value: "ana@firm.example" },
    });

    const split = mapperFor(org, "pse__Timecard__c").parse({
      system: "PSA",
      object: "pse__Timecard__c",
      externalId: "a0S1",
      op: "UPSERT",
      fields: {},
      dedupeKey: "s",
    });
    expect(split).toMatchObject({ kind: "skip" });
  });

  it("maps expense and milestone approvals to the states the mutations use", async () => {
    const o = sandbox.org;
    const resource = o.create("Contact", {
      LastName: "Two",
      Email: "two@firm.example",
      pse__Is_Resource__c: true,
    });
    const project = o.create("pse__Proj__c", { Name: "P2", pse__Project_ID__c: "PRJ-2" });
    const ex = o.create("pse__Expense__c", {
      pse__Project__c: project.Id,
      pse__Resource__c: resource.Id,
      pse__Amount__c: 99.9,
      pse__Expense_Date__c: "2026-11-20",
      pse__Type__c: "Travel",
      pse__Billable__c: true,
      pse__Status__c: "Approved",
      CurrencyIsoCode: "USD",
    });
    const ms = o.create("pse__Milestone__c", {
      pse__Project__c: project.Id,
      Name: "Phase 1",
      pse__Milestone_Amount__c: 5000,
      pse__Target_Date__c: "2026-12-31",
      pse__Status__c: "Complete",
      CurrencyIsoCode: "USD",
    });
    const org = createSalesforceOrg(config(), t.db);
    const [e] = changes(
      mapperFor(org, "pse__Expense__c").parse(await read(org, "pse__Expense__c", ex.Id)),
    );
    expect(e).toMatchObject({
      entityType: "expense",
      state: "APPROVED",
      fields: { amount: "99.9", category: "Travel", incurredOn: "2026-11-20" },
    });
    const [m] = changes(
      mapperFor(org, "pse__Milestone__c").parse(await read(org, "pse__Milestone__c", ms.Id)),
    );
    expect(m).toMatchObject({
      entityType: "milestone",
      state: "COMPLETED",
      fields: { amount: "5000", dueDate: "2026-12-31" },
    });
    o.update("pse__Milestone__c", ms.Id, { pse__Approved__c: true, pse__Status__c: "Approved" });
    const [m2] = changes(
      mapperFor(org, "pse__Milestone__c").parse(await read(org, "pse__Milestone__c", ms.Id)),
    );
    expect(m2!.state).toBe("APPROVED");
  });
});
