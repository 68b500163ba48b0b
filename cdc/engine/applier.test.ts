/**
 * The applier on real Postgres: ingest → apply, with small mappers defined here (the real ones
 * live in cdc/<system>): parents that arrive later, field ownership, unmappable records, stale
 * and duplicate changes, PSA approvals as lifecycle transitions, one transaction per batch.
 */
import { execute, operations, schema } from "@pshub/db";
import {
  createTestDatabase,
  newResource,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Applier } from "./applier.ts";
import { createIngest } from "./engine.ts";
import type { InboundRecord, Mapper } from "./types.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const accountMapper: Mapper = {
  system: "SALESFORCE",
  object: "Account",
  entityType: "customer",
  requiredFields: ["Name", "CurrencyIsoCode", "ParentId"],
  parse(r) {
    const name = r.fields.Name;
    if (!r.partial && (typeof name !== "string" || name.trim() === "")) {
      return {
        kind: "failure",
        failure: {
          field: "Name",
          owner: "SALES_OPS",
          message: `Account ${r.externalId} has no Name`,
          remediation: `Give Account ${r.externalId} a Name in Salesforce.`,
        },
      };
    }
    const fields: Record<string, unknown> = {};
    if ("Name" in r.fields) fields.name = name;
    if ("CurrencyIsoCode" in r.fields) fields.currency = r.fields.CurrencyIsoCode;
    return {
      kind: "changes",
      changes: [
        {
          entityType: "customer",
          system: "SALESFORCE",
          object: "Account",
          externalId: r.externalId,
          fields,
          parents: r.fields.ParentId
            ? [
                {
                  field: "parentId",
                  system: "SALESFORCE",
                  object: "Account",
                  externalId: String(r.fields.ParentId),
                  entityType: "customer",
                },
              ]
            : [],
          deleted: r.op === "DELETE",
        },
      ],
    };
  },
};

/** An ERP customer: linked by the hub id it carries, owns none of the customer's fields. */
const erpCustomerMapper: Mapper = {
  system: "ERP",
  object: "customer",
  entityType: "customer",
  requiredFields: [],
  parse: (r) => ({
    kind: "changes",
    changes: [
      {
        entityType: "customer",
        system: "ERP",
        object: "customer",
        externalId: r.externalId,
        fields: { name: r.fields.companyname, currency: r.fields.currency },
        matchId: r.fields.externalid as string | undefined,
        create: false,
      },
    ],
  }),
};

const timeMapper: Mapper = {
  system: "PSA",
  object: "Timecard",
  entityType: "time_entry",
  requiredFields: [],
  parse: (r) => ({
    kind: "changes",
    changes: [
      {
        entityType: "time_entry",
        system: "PSA",
        object: "Timecard",
        externalId: r.externalId,
        fields: {
          workDate: r.fields.date,
          hours: r.fields.hours,
          billRate: "150.00",
          currency: "USD",
          billable: true,
          resourceId: r.fields.resourceId,
        },
        matchOn: undefined,
        parents: [
          {
            field: "projectId",
            system: "PSA",
            object: "Project",
            externalId: String(r.fields.project),
            entityType: "project",
          },
        ],
        state: r.fields.status as string,
      },
    ],
  }),
};

const projectLinkMapper: Mapper = {
  system: "PSA",
  object: "Project",
  entityType: "project",
  requiredFields: [],
  parse: (r) => ({
    kind: "changes",
    changes: [
      {
        entityType: "project",
        system: "PSA",
        object: "Project",
        externalId: r.externalId,
        fields: { name: r.fields.name, code: r.fields.code },
        matchOn: { field: "code", value: String(r.fields.code) },
        create: false,
        state: r.fields.status as string | undefined,
      },
    ],
  }),
};

const mappers = [accountMapper, erpCustomerMapper, timeMapper, projectLinkMapper];
let seq = 0;
function rec(
  system: InboundRecord["system"],
  object: string,
  externalId: string,
  fields: Record<string, unknown>,
  extra: Partial<InboundRecord> = {},
): InboundRecord {
  const at = extra.sourceModifiedAt ?? new Date(Date.UTC(2026, 0, 1, 0, 0, seq++)).toISOString();
  return {
    system,
    object,
    externalId,
    op: "UPSERT",
    fields,
    sourceModifiedAt: at,
    dedupeKey: `${object}:${externalId}:${at}`,
    ...extra,
  };
}

async function inbox(source: string, dedupeKey: string) {
  const [row] = await t.db
    .select()
    .from(schema.inboxEvent)
    .where(and(eq(schema.inboxEvent.source, source), eq(schema.inboxEvent.dedupeKey, dedupeKey)));
  return row!;
}

async function customerByLink(externalId: string) {
  const [row] = await t.db.execute<{
    id: string;
    name: string;
    parent_id: string | null;
    status: string;
  }>(sql`
    select c.id, c.name, c.parent_id, c.status from customer c join source_link l on l.entity_id = c.id
    where l.system = 'SALESFORCE' and l.object = 'Account' and l.external_id = ${externalId}`);
  return row;
}

describe("applier", () => {
  it("creates, waits for a parent that arrives later, then applies the child; one cursor per ingest", async () => {
    const ingest = createIngest(t, "salesforce");
    const applier = new Applier(t, { mappers });
    const child = rec("SALESFORCE", "Account", "001CHILD", {
      Name: "Child Co",
      CurrencyIsoCode: "USD",
      ParentId: "001PARENT",
    });
    await ingest([child], {
      connector: "salesforce",
      object: "Account",
      cursor: { at: child.sourceModifiedAt },
    });
    await applier.drain();
    const waiting = await inbox("salesforce", child.dedupeKey);
    expect(waiting.status).toBe("RECEIVED");
    expect(waiting.waitingFor).toBe("SALESFORCE:Account:001PARENT");
    expect(waiting.reason).toMatch(/waiting for customer/);
    expect(await customerByLink("001CHILD")).toBeUndefined();

    const parent = rec("SALESFORCE", "Account", "001PARENT", {
      Name: "Parent Co",
      CurrencyIsoCode: "USD",
    });
    await ingest([parent]);
    const stats = await applier.drain();
    expect(stats.applied).toBe(2);
    const p = await customerByLink("001PARENT");
    const c = await customerByLink("001CHILD");
    expect(c?.parent_id).toBe(p?.id);
    expect((await inbox("salesforce", child.dedupeKey)).status).toBe("APPLIED");
    expect((await inbox("salesforce", child.dedupeKey)).reason).toMatch(/created customer/);
    const [cursor] = await t.db
      .select()
      .from(schema.syncCursor)
      .where(
        and(eq(schema.syncCursor.connector, "salesforce"), eq(schema.syncCursor.object, "Account")),
      );
    expect(cursor?.cursor).toEqual({ at: child.sourceModifiedAt });
    expect(cursor?.recordsIn).toBe(2);
    expect(cursor?.recordsOut).toBe(2);
    const events = await t.db
      .select()
      .from(schema.domainEvent)
      .where(eq(schema.domainEvent.entityId, c!.id));
    expect(events.map((e) => e.type)).toContain("customer.synced");
  });

  it("a child that waits for a parent applied later in the same batch (another source's) is woken, not left for the periodic retry", async () => {
    // Two sources in one batch: the child's source is applied first (ids in order), so its parent
    // only arrives in the second source's changes of the same transaction. The child's WAITING
    // outcome must still be woken by that parent (main left it RECEIVED with next_attempt_at
    // WAITING_RETRY_SECONDS ahead: the bench's "time_entry has 2343 rows, expected 3000").
    const applier = new Applier(t, { mappers });
    const child = rec("SALESFORCE", "Account", "001XCHILD", {
      Name: "Cross Child",
      CurrencyIsoCode: "USD",
      ParentId: "001XPARENT",
    });
    const parent = rec("SALESFORCE", "Account", "001XPARENT", {
      Name: "Cross Parent",
      CurrencyIsoCode: "USD",
    });
    await createIngest(t, "source-a")([child]);
    await createIngest(t, "source-b")([parent]);
    await applier.drain();
    const row = await inbox("source-a", child.dedupeKey);
    expect(row.status).toBe("APPLIED");
    expect(row.nextAttemptAt).toBeNull();
    const p = await customerByLink("001XPARENT");
    expect((await customerByLink("001XCHILD"))?.parent_id).toBe(p?.id);
    const due = await t.db.execute<{ n: string }>(sql`
      select count(*) as n from inbox_event where status = 'RECEIVED'`);
    expect(Number(due[0]?.n)).toBe(0);
  });

  it("two appliers in two transactions: a child left waiting while the other commits its parent is woken", async () => {
    // Applier A claims the child, finds no parent and leaves it WAITING, but has not committed
    // (held here on its sync_cursor row); meanwhile applier B applies the parent and commits.
    // Neither transaction sees the other's rows, so only a wake-up after the commits finds the
    // pair (main left the child sleeping WAITING_RETRY_SECONDS).
    const a = new Applier(t, { mappers });
    const b = new Applier(t, { mappers });
    const child = rec("SALESFORCE", "Account", "001RACECHILD", {
      Name: "Race Child",
      CurrencyIsoCode: "USD",
      ParentId: "001RACEPARENT",
    });
    const parent = rec("SALESFORCE", "Account", "001RACEPARENT", {
      Name: "Race Parent",
      CurrencyIsoCode: "USD",
    });
    await createIngest(t, "race-a")([child]);
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holder = t.db.transaction(async (tx) => {
      await tx.execute(sql`
        select 1 from sync_cursor where connector = 'race-a' and object = 'Account' for update`);
      locked();
      await new Promise<void>((r) => {
        release = r;
      });
    });
    try {
      await isLocked;
      const applyA = a.applyBatch();
      // Wait until A has written the child's WAITING outcome and waits for the cursor row.
      for (let i = 0; ; i++) {
        const [w] = await t.db.execute<{ n: string }>(sql`
          select count(*) as n from pg_stat_activity
          where wait_event_type = 'Lock' and query like '%update inbox_event e set status = v.status%'`);
        if (Number(w?.n) > 0) break;
        if (i > 200) throw new Error("applier A never reached its cursor update");
        await new Promise((r) => setTimeout(r, 25));
      }
      await createIngest(t, "race-b")([parent]);
      await b.drain();
      expect((await inbox("race-b", parent.dedupeKey)).status).toBe("APPLIED");
      release();
      const statsA = await applyA;
      expect(statsA.waiting).toBe(1);
      expect(statsA.woken).toBe(1);
    } finally {
      release?.();
      await holder;
    }
    const row = await inbox("race-a", child.dedupeKey);
    expect(row.status).toBe("RECEIVED");
    expect(row.nextAttemptAt).toBeNull();
    await a.drain();
    expect((await inbox("race-a", child.dedupeKey)).status).toBe("APPLIED");
    const p = await customerByLink("001RACEPARENT");
    expect((await customerByLink("001RACECHILD"))?.parent_id).toBe(p?.id);
  });

  it("a duplicate is not recorded twice; a stale change is skipped; partial changes merge", async () => {
    const ingest = createIngest(t, "salesforce");
    const applier = new Applier(t, { mappers });
    const v2 = rec(
      "SALESFORCE",
      "Account",
      "001STALE",
      { Name: "Second", CurrencyIsoCode: "EUR" },
      { sourceModifiedAt: "2026-02-02T00:00:00.000Z" },
    );
    expect(await ingest([v2, v2])).toEqual({ received: 1, duplicates: 1 });
    await applier.drain();
    const v1 = rec(
      "SALESFORCE",
      "Account",
      "001STALE",
      { Name: "First", CurrencyIsoCode: "USD" },
      { sourceModifiedAt: "2026-02-01T00:00:00.000Z" },
    );
    await ingest([v1]);
    await applier.drain();
    expect((await inbox("salesforce", v1.dedupeKey)).status).toBe("SKIPPED");
    expect((await inbox("salesforce", v1.dedupeKey)).reason).toMatch(/stale/);
    expect((await customerByLink("001STALE"))?.name).toBe("Second");
    const partial = rec(
      "SALESFORCE",
      "Account",
      "001STALE",
      { Name: "Third" },
      { partial: true, sourceModifiedAt: "2026-02-03T00:00:00.000Z" },
    );
    await ingest([partial]);
    await applier.drain();
    const [row] = await t.db
      .select()
      .from(schema.customer)
      .where(eq(schema.customer.id, (await customerByLink("001STALE"))!.id));
    expect(row?.name).toBe("Third");
    expect(row?.currency).toBe("EUR");
  });

  it("a whole-second stamp is stale only when its second ends before the applied version", async () => {
    const ingest = createIngest(t, "salesforce");
    const applier = new Applier(t, { mappers });
    // A CDC event (commitTimestamp, milliseconds) is applied first ...
    await ingest([
      rec(
        "SALESFORCE",
        "Account",
        "001SECOND",
        { Name: "From CDC", CurrencyIsoCode: "USD" },
        { sourceModifiedAt: "2026-02-04T10:00:00.700Z" },
      ),
    ]);
    await applier.drain();
    // ... then the poller reads a later version of the same second (SystemModstamp: whole
    // seconds); the event for it was lost, so the poller's copy must apply.
    const sameSecond = rec(
      "SALESFORCE",
      "Account",
      "001SECOND",
      { Name: "From the poller", CurrencyIsoCode: "USD" },
      { sourceModifiedAt: "2026-02-04T10:00:00.000Z" },
    );
    await ingest([sameSecond]);
    await applier.drain();
    expect((await inbox("salesforce", sameSecond.dedupeKey)).status).toBe("APPLIED");
    expect((await customerByLink("001SECOND"))?.name).toBe("From the poller");
    // A copy stamped in an earlier second is stale.
    const earlier = rec(
      "SALESFORCE",
      "Account",
      "001SECOND",
      { Name: "Older", CurrencyIsoCode: "USD" },
      { sourceModifiedAt: "2026-02-04T09:59:59.000Z" },
    );
    await ingest([earlier]);
    await applier.drain();
    expect((await inbox("salesforce", earlier.dedupeKey)).status).toBe("SKIPPED");
    expect((await customerByLink("001SECOND"))?.name).toBe("From the poller");
  });

  it("field ownership: the ERP's change to a Salesforce-owned field is ignored and counted", async () => {
    const basics = await seedBasics(t.db);
    const ingest = createIngest(t, "netsuite");
    const applier = new Applier(t, { mappers });
    const r = rec("ERP", "customer", "77", {
      companyname: "Renamed In ERP",
      currency: "USD",
      externalid: basics.customerId,
    });
    await ingest([r]);
    await applier.drain();
    const row = await inbox("netsuite", r.dedupeKey);
    expect(row.status).toBe("SKIPPED");
    expect(row.ignoredFields).toEqual(["name"]);
    expect(row.reason).toMatch(/ignored \(not owned by ERP\): name/);
    const [c] = await t.db
      .select()
      .from(schema.customer)
      .where(eq(schema.customer.id, basics.customerId));
    expect(c?.name).not.toBe("Renamed In ERP");
    const [link] = await t.db
      .select()
      .from(schema.sourceLink)
      .where(and(eq(schema.sourceLink.system, "ERP"), eq(schema.sourceLink.externalId, "77")));
    expect(link?.entityId).toBe(basics.customerId);
    const [cursor] = await t.db
      .select()
      .from(schema.syncCursor)
      .where(
        and(eq(schema.syncCursor.connector, "netsuite"), eq(schema.syncCursor.object, "customer")),
      );
    expect(cursor?.ignoredFields).toBe(1);
  });

  it("an unmappable record fails with an owned exception naming record and field; the raw payload stays", async () => {
    const ingest = createIngest(t, "salesforce");
    const applier = new Applier(t, { mappers });
    const r = rec("SALESFORCE", "Account", "001NONAME", { Name: "", CurrencyIsoCode: "USD" });
    await ingest([r]);
    const stats = await applier.drain();
    expect(stats.failed).toBe(1);
    const row = await inbox("salesforce", r.dedupeKey);
    expect(row.status).toBe("FAILED");
    expect(row.reason).toMatch(/mapping failed on Name/);
    expect((row.payload as InboundRecord).fields).toEqual(r.fields);
    const [ex] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.inboxEventId, row.id));
    expect(ex?.owner).toBe("SALES_OPS");
    expect(ex?.remediation).toMatch(/Account 001NONAME/);
    expect(ex?.sourceRef).toBe("Account:001NONAME");
    // An ERP record that matches nothing: FINANCE-owned? No: the ERP customer's owner is FINANCE.
    const orphan = rec("ERP", "customer", "404", { companyname: "Nobody", currency: "USD" });
    await createIngest(t, "netsuite")([orphan]);
    await applier.drain();
    const o = await inbox("netsuite", orphan.dedupeKey);
    expect(o.status).toBe("FAILED");
    const [ex2] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.inboxEventId, o.id));
    expect(ex2?.owner).toBe("FINANCE");
    expect(ex2?.remediation).toMatch(/External ID/);
  });

  it("PSA approvals arrive as the lifecycle's transitions (time_entry.status_changed), set-based", async () => {
    const basics = await seedBasics(t.db);
    const opp = await wonOpportunity(t.db, basics);
    const ctx = { actor: "test" };
    const converted = await execute(t.db, operations.convertOpportunity, ctx, {
      opportunityId: opp,
    });
    await execute(t.db, operations.activateProject, ctx, { projectId: converted.project.id });
    const resourceId = await newResource(t.db);
    const ingest = createIngest(t, "certinia");
    const applier = new Applier(t, { mappers });
    // The time arrives before its project is linked: it waits.
    const cards = [1, 2, 3].map((i) =>
      rec("PSA", "Timecard", `TC${i}`, {
        date: `2026-03-0${i}`,
        hours: "8.00",
        project: "PRJ1",
        resourceId,
        status: "SUBMITTED",
      }),
    );
    await ingest(cards);
    await applier.drain();
    expect((await inbox("certinia", cards[0]!.dedupeKey)).waitingFor).toBe("PSA:Project:PRJ1");
    await ingest([
      rec("PSA", "Project", "PRJ1", { name: converted.project.name, code: converted.project.code }),
    ]);
    await applier.drain();
    const linked = await t.db.execute<{ id: string; status: string }>(sql`
      select t.id, t.status from time_entry t join source_link l on l.entity_id = t.id
      where l.system = 'PSA' and l.object = 'Timecard' order by l.external_id`);
    expect(linked.map((r) => r.status)).toEqual(["SUBMITTED", "SUBMITTED", "SUBMITTED"]);
    // Approved in the PSA.
    const approvals = [1, 2, 3].map((i) =>
      rec("PSA", "Timecard", `TC${i}`, {
        date: `2026-03-0${i}`,
        hours: "8.00",
        project: "PRJ1",
        resourceId,
        status: i === 3 ? "REJECTED" : "APPROVED",
      }),
    );
    await ingest(approvals);
    await applier.drain();
    const after = await t.db.execute<{ status: string; approved_by: string | null }>(sql`
      select t.status, t.approved_by from time_entry t join source_link l on l.entity_id = t.id
      where l.system = 'PSA' and l.object = 'Timecard' order by l.external_id`);
    expect(after.map((r) => r.status)).toEqual(["APPROVED", "APPROVED", "REJECTED"]);
    expect(after[0]?.approved_by).toBe("cdc:certinia");
    const events = await t.db.execute<{ n: number }>(sql`
      select count(*)::int as n from domain_event where type = 'time_entry.status_changed'
        and entity_id in (select entity_id from source_link where object = 'Timecard')`);
    expect(events[0]?.n).toBe(3);
    expect((await inbox("certinia", approvals[0]!.dedupeKey)).reason).toMatch(
      /SUBMITTED → APPROVED/,
    );
    // A PSA that says APPROVED again after BILLED-like progress: not a second transition.
    await ingest([
      rec("PSA", "Timecard", "TC1", {
        date: "2026-03-01",
        hours: "8.00",
        project: "PRJ1",
        resourceId,
        status: "APPROVED",
      }),
    ]);
    await applier.drain();
    const again = await t.db.execute<{ n: number }>(sql`
      select count(*)::int as n from domain_event where type = 'time_entry.status_changed'
        and entity_id in (select entity_id from source_link where object = 'Timecard')`);
    expect(again[0]?.n).toBe(3);
  });

  it("a transition the machine refuses fails that record alone, with a PROJECT_OPS exception", async () => {
    const basics = await seedBasics(t.db);
    const opp = await wonOpportunity(t.db, basics);
    const converted = await execute(
      t.db,
      operations.convertOpportunity,
      { actor: "test" },
      { opportunityId: opp },
    );
    const resourceId = await newResource(t.db);
    const ingest = createIngest(t, "certinia2");
    const applier = new Applier(t, { mappers });
    await ingest([rec("PSA", "Project", "PRJ2", { name: "x", code: converted.project.code })]);
    const ok = rec("PSA", "Timecard", "TC-OK", {
      date: "2026-04-01",
      hours: "4.00",
      project: "PRJ2",
      resourceId,
      status: "APPROVED",
    });
    const bad = rec("PSA", "Timecard", "TC-BAD", {
      date: "2026-04-01",
      hours: "30.00",
      project: "PRJ2",
      resourceId,
      status: "SUBMITTED",
    });
    await ingest([ok, bad]);
    await applier.drain();
    expect((await inbox("certinia2", ok.dedupeKey)).status).toBe("APPLIED");
    const failed = await inbox("certinia2", bad.dedupeKey);
    expect(failed.status).toBe("FAILED");
    expect(failed.reason).toMatch(/time_entry_hours_range|refused/);
    const [ex] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.inboxEventId, failed.id));
    expect(ex?.owner).toBe("PROJECT_OPS");
  });
});

describe("applied in the transaction that records it (Applier.ingest)", () => {
  const cursorOf = async (connector: string, object: string) => {
    const [row] = await t.db
      .select()
      .from(schema.syncCursor)
      .where(and(eq(schema.syncCursor.connector, connector), eq(schema.syncCursor.object, object)));
    return row;
  };

  it("writes each row once in its final state, counts it, skips duplicates, and keeps the cursor with its rows", async () => {
    const applier = new Applier(t, { mappers });
    const a = rec("SALESFORCE", "Account", "001INL1", {
      Name: "Inline One",
      CurrencyIsoCode: "USD",
    });
    const bad = rec("SALESFORCE", "Account", "001INLBAD", { Name: "", CurrencyIsoCode: "USD" });
    const cursor = { connector: "inline", object: "Account", cursor: { at: a.sourceModifiedAt } };
    const first = await applier.ingest("inline", [a, a, bad], cursor);
    expect(first).toMatchObject({ received: 2, duplicates: 1, applied: 1, failed: 1, woken: 0 });
    const row = await inbox("inline", a.dedupeKey);
    expect(row).toMatchObject({ status: "APPLIED", attempts: 1, entityType: "customer" });
    expect(row.processedAt).not.toBeNull();
    expect(row.reason).toMatch(/created customer/);
    expect((row.payload as InboundRecord).fields).toEqual(a.fields);
    expect(row.entityId).toBe((await customerByLink("001INL1"))?.id);
    // Validation failure → FAILED row and an owned exception pointing at it.
    const failed = await inbox("inline", bad.dedupeKey);
    expect(failed).toMatchObject({ status: "FAILED", attempts: 1 });
    const [ex] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.inboxEventId, failed.id));
    expect(ex?.owner).toBe("SALES_OPS");
    expect(await cursorOf("inline", "Account")).toMatchObject({
      cursor: { at: a.sourceModifiedAt },
      recordsIn: 2,
      recordsOut: 1,
      errorCount: 1,
    });
    // Read again (a lookback): nothing recorded or applied twice, nothing left for the claim loop.
    const again = await applier.ingest("inline", [a]);
    expect(again).toMatchObject({ received: 0, duplicates: 1, applied: 0 });
    expect((await applier.drain()).batches).toBe(0);
    const events = await t.db
      .select()
      .from(schema.domainEvent)
      .where(eq(schema.domainEvent.entityId, row.entityId!));
    expect(events.filter((e) => e.type === "customer.synced")).toHaveLength(1);
  });

  it("a child whose parent has not arrived waits; the parent's ingest wakes it for the claim loop", async () => {
    const applier = new Applier(t, { mappers });
    const child = rec("SALESFORCE", "Account", "001INLCHILD", {
      Name: "Inline Child",
      CurrencyIsoCode: "USD",
      ParentId: "001INLPARENT",
    });
    expect(await applier.ingest("inline", [child])).toMatchObject({ received: 1, waiting: 1 });
    const waiting = await inbox("inline", child.dedupeKey);
    expect(waiting).toMatchObject({
      status: "RECEIVED",
      waitingFor: "SALESFORCE:Account:001INLPARENT",
    });
    expect(waiting.nextAttemptAt).not.toBeNull();
    expect((await applier.drain()).batches).toBe(0); // not due yet
    const parent = rec("SALESFORCE", "Account", "001INLPARENT", {
      Name: "Inline Parent",
      CurrencyIsoCode: "USD",
    });
    expect(await applier.ingest("inline", [parent])).toMatchObject({ applied: 1, woken: 1 });
    expect((await applier.drain()).applied).toBe(1);
    expect((await inbox("inline", child.dedupeKey)).status).toBe("APPLIED");
    const p = await customerByLink("001INLPARENT");
    expect((await customerByLink("001INLCHILD"))?.parent_id).toBe(p?.id);
  });

  it("a batch whose apply throws is recorded RECEIVED with its cursor and applied later by the claim loop", async () => {
    let broken = true;
    const applier = new Applier(t, {
      mappers,
      hooks: [
        {
          name: "flaky",
          entityTypes: ["customer"],
          select: async (_tx, applied) => {
            if (broken) throw new Error("database hiccup");
            return applied.filter(() => false);
          },
          run: async () => {},
        },
      ],
    });
    const r = rec("SALESFORCE", "Account", "001INLRETRY", {
      Name: "Retry Co",
      CurrencyIsoCode: "USD",
    });
    const cursor = {
      connector: "inline-retry",
      object: "Account",
      cursor: { at: r.sourceModifiedAt },
    };
    expect(await applier.ingest("inline-retry", [r], cursor)).toMatchObject({
      received: 1,
      batches: 0,
      applied: 0,
    });
    expect(await inbox("inline-retry", r.dedupeKey)).toMatchObject({
      status: "RECEIVED",
      attempts: 0,
    });
    expect(await customerByLink("001INLRETRY")).toBeUndefined(); // the savepoint rolled it back
    expect((await cursorOf("inline-retry", "Account"))?.cursor).toEqual({ at: r.sourceModifiedAt });
    broken = false;
    expect((await applier.drain()).applied).toBe(1);
    expect((await inbox("inline-retry", r.dedupeKey)).status).toBe("APPLIED");
    expect(await customerByLink("001INLRETRY")).toBeDefined();
  });

  it("a key another writer records meanwhile fails the whole batch: nothing of it commits, the retry skips the duplicate", async () => {
    const r = rec("SALESFORCE", "Account", "001INLRACE", {
      Name: "Race Co",
      CurrencyIsoCode: "USD",
    });
    let raced = false;
    const applier = new Applier(t, {
      mappers,
      hooks: [
        {
          name: "concurrent-writer",
          entityTypes: ["customer"],
          // Another connection records the same key after this batch reserved its ids.
          select: async () => {
            if (!raced) await createIngest(t, "inline-race")([r]);
            raced = true;
            return [];
          },
          run: async () => {},
        },
      ],
    });
    const cursor = { connector: "inline-race", object: "Account", cursor: { at: "moved" } };
    await expect(applier.ingest("inline-race", [r], cursor)).rejects.toThrow(
      /recorded concurrently/,
    );
    expect(await customerByLink("001INLRACE")).toBeUndefined();
    expect((await cursorOf("inline-race", "Account"))?.cursor ?? {}).toEqual({});
    expect(await applier.ingest("inline-race", [r], cursor)).toMatchObject({ duplicates: 1 });
    expect((await applier.drain()).applied).toBe(1); // the other writer's row, applied once
    expect(await customerByLink("001INLRACE")).toBeDefined();
  });
});

describe("replay of a failed inbox event", () => {
  it("retryException → RETRYING; the replayed event applies → the exception is RESOLVED by the connector, audited", async () => {
    // A mapper with a defect (it refuses every Account) that is then fixed.
    let fixed = false;
    const flaky: Mapper = {
      ...accountMapper,
      parse(r) {
        if (fixed) return accountMapper.parse(r);
        return {
          kind: "failure",
          failure: {
            field: "(record)",
            code: "MAPPER_CRASHED",
            message: `defect on ${r.externalId}`,
            remediation: "Replay after the fix.",
          },
        };
      },
    };
    const applier = new Applier(t, { mappers: [flaky] });
    const r = rec("SALESFORCE", "Account", "001REPLAY", {
      Name: "Replay Ltd",
      CurrencyIsoCode: "EUR",
    });
    await createIngest(t, "salesforce")([r]);
    expect((await applier.drain()).failed).toBe(1);
    const failed = await inbox("salesforce", r.dedupeKey);
    const [ex] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.inboxEventId, failed.id));
    expect(ex?.status).toBe("OPEN");

    const ctx = { actor: "ops@example.com", requestId: null };
    const retried = await execute(t.db, operations.retryException, ctx, { exceptionId: ex!.id });
    expect(retried.status).toBe("RETRYING");
    fixed = true;
    expect((await applier.drain()).applied).toBe(1);

    expect((await inbox("salesforce", r.dedupeKey)).status).toBe("APPLIED");
    expect((await customerByLink("001REPLAY"))?.name).toBe("Replay Ltd");
    const [after] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.id, ex!.id));
    expect(after).toMatchObject({ status: "RESOLVED", resolvedBy: "cdc:salesforce" });
    expect(after?.resolutionNote).toMatch(new RegExp(`inbox event ${failed.id} applied on replay`));
    const moves = await t.db.execute<{ payload: { from: string; to: string } }>(sql`
      select payload from domain_event
      where type = 'sync_exception.status_changed' and entity_id = ${ex!.id} order by id`);
    expect(moves.map((m) => `${m.payload.from}→${m.payload.to}`)).toEqual([
      "OPEN→RETRYING",
      "RETRYING→RESOLVED",
    ]);
    const audit = await t.db.execute<{ actor: string; operation: string; outcome: string }>(sql`
      select actor, operation, outcome from audit_log
      where entity_type = 'sync_exception' and entity_id = ${ex!.id} order by id`);
    expect(audit.map((a) => `${a.actor} ${a.operation} ${a.outcome}`)).toEqual([
      "ops@example.com retryException ok",
      "cdc:salesforce resolveException ok",
    ]);

    // A second event of the same record failing now raises a new exception; it is not resolved
    // by the batch that raised it.
    fixed = false;
    const again = rec("SALESFORCE", "Account", "001REPLAY", { Name: "Replay 2" });
    await createIngest(t, "salesforce")([again]);
    await applier.drain();
    const row2 = await inbox("salesforce", again.dedupeKey);
    const [ex2] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.inboxEventId, row2.id));
    expect(ex2?.status).toBe("OPEN");
  });
});
