import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sql } from "../client.ts";
import { runBilling } from "../lifecycle/billing.ts";
import { lineage } from "../lifecycle/lineage.ts";
import { type InvoiceStatus, invoiceMachine } from "../lifecycle/machines.ts";
import { execute } from "../lifecycle/operation.ts";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import {
  DatabaseNotEmptyError,
  resetDatabase,
  type SeedResult,
  seedDemo,
  seedIfEmpty,
} from "./index.ts";
import { salesforceChecksum } from "./random.ts";
import { enterBulkLoad, verifyForeignKeys } from "./writer.ts";

let a: TestDatabase;
let b: TestDatabase;
let seeded: SeedResult | undefined;

beforeAll(async () => {
  [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  seeded = await seedIfEmpty(a.sql);
  await seedDemo(b.sql);
});
afterAll(async () => {
  await Promise.all([a?.drop(), b?.drop()]);
});

/** One md5 per table over every row's full text, in a stable order. */
async function contentHashes(sql: Sql): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }[]>`
    select tablename as name from pg_tables where schemaname = 'public' order by 1`;
  const hashes: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await sql.unsafe<{ h: string | null; n: number }[]>(
      // A row's transaction id (domain_event.tx_id) is the database's bookkeeping, not content.
      `select md5(string_agg((to_jsonb(t) - 'tx_id')::text, E'\\n' order by (to_jsonb(t) - 'tx_id')::text)) as h, count(*)::int as n from "${name}" t`,
    );
    hashes[name] = `${row?.n}:${row?.h}`;
  }
  return hashes;
}

async function one<T>(sql: Sql, query: string): Promise<T> {
  const rows = await sql.unsafe(query);
  return rows[0] as T;
}

describe("demo seed", () => {
  it("is deterministic: two databases seeded alike hold the same rows, ids and timestamps", async () => {
    const [ha, hb] = await Promise.all([contentHashes(a.sql), contentHashes(b.sql)]);
    expect(Object.keys(ha).length).toBeGreaterThanOrEqual(20);
    expect(ha).toEqual(hb);
    expect(ha.time_entry?.startsWith("0:")).toBe(false);
  });

  it("has the size of a small firm", async () => {
    expect(seeded?.rows.legal_entity).toBe(3);
    expect(seeded?.rows.customer).toBe(25);
    expect(seeded?.rows.contract).toBeGreaterThanOrEqual(20);
    expect(seeded?.rows.time_entry).toBeGreaterThan(2_000);
    expect(seeded?.rows.invoice).toBeGreaterThan(20);
    const hierarchy = await one<{ n: number }>(
      a.sql,
      "select count(*)::int as n from customer where parent_id is not null",
    );
    expect(hierarchy.n).toBeGreaterThanOrEqual(5);
  });

  it("covers every stage, billing model and status", async () => {
    const values = async (query: string) =>
      (await a.sql.unsafe<{ v: string }[]>(query)).map((r) => r.v).sort();
    expect(await values("select distinct stage::text as v from opportunity")).toEqual([
      "CLOSED_LOST",
      "CLOSED_WON",
      "NEGOTIATION",
      "PROPOSAL",
      "PROSPECTING",
      "QUALIFICATION",
    ]);
    expect(await values("select distinct billing_model::text as v from contract")).toEqual([
      "FIXED_FEE",
      "MILESTONE",
      "RETAINER",
      "TIME_AND_MATERIALS",
    ]);
    const work = ["APPROVED", "BILLED", "REJECTED", "SUBMITTED"];
    expect(await values("select distinct status::text as v from time_entry")).toEqual(work);
    expect(await values("select distinct status::text as v from expense")).toEqual(work);
    expect(await values("select distinct status::text as v from invoice")).toEqual([
      "DISPUTED",
      "DRAFT",
      "ISSUED",
      "PAID",
      "PARTIALLY_PAID",
      "POSTED",
      "VOID",
    ]);
    expect(await values("select distinct currency::text as v from customer")).toEqual([
      "EUR",
      "GBP",
      "USD",
    ]);
    expect(await values("select distinct status::text as v from billing_event")).toEqual([
      "INVOICED",
      "READY",
    ]);
  });

  it("keeps invoices consistent: lines sum to the subtotal, payments to the amount paid", async () => {
    const bad = await a.sql`
      select i.number, i.subtotal, i.amount_paid,
             (select coalesce(sum(l.amount), 0) from invoice_line l
               where l.invoice_id = i.id and (l.voided_at is null) = (i.status <> 'VOID')) as lines,
             (select coalesce(sum(p.amount), 0) from payment p where p.invoice_id = i.id) as paid
      from invoice i
      where i.subtotal <> (select coalesce(sum(l.amount), 0) from invoice_line l
                            where l.invoice_id = i.id and (l.voided_at is null) = (i.status <> 'VOID'))
         or i.amount_paid <> (select coalesce(sum(p.amount), 0) from payment p where p.invoice_id = i.id)
         or i.total <> i.subtotal + i.tax
         or (i.status = 'PAID' and i.amount_paid <> i.total)
         or (i.status = 'PARTIALLY_PAID' and not (i.amount_paid > 0 and i.amount_paid < i.total))
         or (i.status in ('DRAFT', 'ISSUED', 'POSTED', 'DISPUTED', 'VOID') and i.amount_paid <> 0)
         or (i.status = 'DRAFT') <> (i.issued_on is null)
         or (i.posted_at is not null) <> (i.erp_number is not null)`;
    expect(bad).toEqual([]);
    const disputed = await one<{ n: number }>(
      a.sql,
      `select count(*)::int as n from invoice i where i.status = 'DISPUTED'
         and not exists (select 1 from dispute d where d.invoice_id = i.id and d.status = 'OPEN')`,
    );
    expect(disputed.n).toBe(0);
  });

  it("bills every item once: an item with a billing event is BILLED; INVOICED events have one live line", async () => {
    const mismatches = await one<{ n: number }>(
      a.sql,
      `with items as (
         select te.id, te.status::text as status, 'TIME' as kind, c.billing_model::text as model
           from time_entry te join project p on p.id = te.project_id join contract c on c.id = p.contract_id
         union all select e.id, e.status::text, 'EXPENSE', c.billing_model::text
           from expense e join project p on p.id = e.project_id join contract c on c.id = p.contract_id
         union all select id, status::text, 'MILESTONE', 'MILESTONE' from milestone
         union all select id, status::text, 'FIXED_FEE', 'FIXED_FEE' from fee_schedule_item)
       select count(*)::int as n from items
       where exists (select 1 from billing_event e where e.source_id = items.id
                     and e.source_type::text = items.kind and e.status <> 'VOID')
             <> (items.status = 'BILLED')
         -- retainer time within the retainer hours is BILLED without an event of its own
         and not (items.kind = 'TIME' and items.model = 'RETAINER' and items.status = 'BILLED')`,
    );
    expect(mismatches.n).toBe(0);
    const events = await one<{ n: number }>(
      a.sql,
      `select count(*)::int as n from billing_event e
       where (e.status = 'INVOICED') <> exists (
         select 1 from invoice_line l where l.billing_event_id = e.id and l.voided_at is null)`,
    );
    expect(events.n).toBe(0);
    const currency = await one<{ n: number }>(
      a.sql,
      `select count(*)::int as n from invoice_line l join invoice i on i.id = l.invoice_id
       join billing_event e on e.id = l.billing_event_id join contract c on c.id = e.contract_id
       where l.currency <> i.currency or e.currency <> c.currency or i.contract_id <> e.contract_id`,
    );
    expect(currency.n).toBe(0);
  });

  it("links records to realistic external ids (Salesforce 18-character ids with checksum)", async () => {
    const links = await a.sql<{ external_id: string }[]>`
      select external_id from source_link where system = 'SALESFORCE'`;
    expect(links.length).toBeGreaterThan(100);
    for (const { external_id } of links) {
      expect(external_id).toMatch(/^[0-9A-Za-z]{18}$/);
      expect(external_id.slice(15)).toBe(salesforceChecksum(external_id.slice(0, 15)));
    }
    const unlinked = await one<{ n: number }>(
      a.sql,
      `select count(*)::int as n from customer c where not exists (
         select 1 from source_link s where s.entity_type = 'customer' and s.entity_id = c.id)`,
    );
    expect(unlinked.n).toBe(0);
  });

  it("numbers invoices as issueInvoice does: drafts none, each legal entity 1..n unbroken, its series at n", async () => {
    const drafts = await one<{ n: number }>(
      a.sql,
      `select count(*)::int as n from invoice where status = 'DRAFT' and number is not null`,
    );
    expect(drafts.n).toBe(0);
    const series = (await a.sql`
      select le.code, count(i.id)::int as issued,
             count(distinct substring(i.number from length(le.invoice_prefix) + 1)::int)::int as distinct_numbers,
             min(substring(i.number from length(le.invoice_prefix) + 1)::int)::int as first,
             max(substring(i.number from length(le.invoice_prefix) + 1)::int)::int as last,
             bool_and(starts_with(i.number, le.invoice_prefix)) as prefixed,
             (select s.last_number from invoice_number_series s where s.legal_entity_id = le.id) as counter
      from legal_entity le join invoice i on i.legal_entity_id = le.id and i.number is not null
      group by le.id, le.code order by le.code`) as unknown as {
      code: string;
      issued: number;
      distinct_numbers: number;
      first: number;
      last: number;
      prefixed: boolean;
      counter: number;
    }[];
    expect(series.length).toBe(3);
    for (const s of series) {
      expect(s.prefixed, s.code).toBe(true);
      expect(s.first, s.code).toBe(1);
      expect(s.last, s.code).toBe(s.issued);
      expect(s.distinct_numbers, s.code).toBe(s.issued);
      expect(s.counter, s.code).toBe(s.issued);
    }
  });

  it("bulk-load mode still refuses a broken foreign key (checked set-based before commit)", async () => {
    const attempt = a.sql.begin(async (tx) => {
      expect(await enterBulkLoad(tx)).toBe(true);
      await tx`
        insert into time_entry (project_id, resource_id, work_date, hours, bill_rate, currency)
        select gen_random_uuid(), id, '2026-11-02', 1, 100, 'USD' from resource limit 1`;
      await verifyForeignKeys(tx, ["time_entry"]);
    });
    await expect(attempt).rejects.toThrow(
      /1 time_entry rows break foreign key time_entry_project_id/,
    );
    const [{ n }] = (await a.sql`
      select count(*)::int as n from time_entry t
      where not exists (select 1 from project p where p.id = t.project_id)`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(0);
  });

  it("agrees with runBilling: billing through last month finds nothing left to bill", async () => {
    const approved = await one<{ n: number }>(
      a.sql,
      "select count(*)::int as n from milestone where status = 'APPROVED'",
    );
    const result = await execute(
      a.db,
      runBilling,
      { actor: "seed-test" },
      {
        periodEnd: "2026-10-31",
      },
    );
    // Only milestones approved this month (runBilling bills approved milestones whatever the date).
    expect(result.bySourceType).toMatchObject({ TIME: 0, EXPENSE: 0, FIXED_FEE: 0, RETAINER: 0 });
    expect(result.eventsCreated).toBe(approved.n);
  });

  it("answers lineage for every invoice: one chain from the opportunity to the payments", async () => {
    const invoices = await b.sql<
      { id: string; status: string; payments: number; posted: boolean }[]
    >`
      select i.id, i.status::text as status, i.posted_at is not null as posted,
             (select count(*)::int from payment p where p.invoice_id = i.id) as payments
      from invoice i order by i.id`;
    expect(invoices.length).toBeGreaterThan(100);
    const walks = new Map<string, number>();
    let postedThenPaid = 0;
    for (const invoice of invoices) {
      const chain = await lineage(b.db, { entityType: "invoice", id: invoice.id, first: 2000 });
      expect(chain.correlationId, invoice.id).toBeTruthy();
      expect(chain.hasMore).toBe(false);
      const types = chain.events.map((e) => e.type);
      expect(types[0], invoice.id).toBe("opportunity.converted");
      expect(types).toContain("contract.created");
      expect(types).toContain("project.created");
      expect(types).toContain("billing_event.created");
      const own = chain.events.filter(
        (e) => e.entityType === "invoice" && e.entityId === invoice.id,
      );
      expect(own[0]?.type).toBe("invoice.created");
      expect(own.at(-1)?.payload.to ?? "DRAFT").toBe(invoice.status);
      // Its status events walk the invoice state machine step by step, as the ERP and the
      // mutations move it: DRAFT → ISSUED → POSTED → PARTIALLY_PAID → PAID (or DISPUTED, VOID).
      let status: InvoiceStatus = "DRAFT";
      for (const move of own.filter((e) => e.type === "invoice.status_changed")) {
        expect(move.payload.from, invoice.id).toBe(status);
        expect(invoiceMachine.transitions[status], invoice.id).toContain(move.payload.to);
        status = move.payload.to as InvoiceStatus;
      }
      walks.set(invoice.status, (walks.get(invoice.status) ?? 0) + 1);
      if (invoice.posted && own.some((e) => e.payload.to === "PAID")) {
        const to = own.map((e) => e.payload.to);
        expect(to.indexOf("POSTED"), invoice.id).toBeGreaterThan(-1);
        expect(to.indexOf("POSTED"), invoice.id).toBeLessThan(to.indexOf("PAID"));
        postedThenPaid++;
      }
      const payments = chain.events.filter(
        (e) => e.type === "payment.recorded" && e.payload.invoiceId === invoice.id,
      );
      expect(payments).toHaveLength(invoice.payments);
      // One chain: every event carries its correlation id, in id order.
      expect(new Set(chain.events.map((e) => e.correlationId))).toEqual(
        new Set([chain.correlationId]),
      );
      const ids = chain.events.map((e) => e.id);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    }
    // Posted → paid is exercised (cycle time POSTED_TO_PAID, AR aging and DSO have it).
    expect(postedThenPaid).toBeGreaterThan(50);
    expect(walks.get("PARTIALLY_PAID") ?? 0).toBeGreaterThan(0);
    // The opportunity's lineage is the same chain.
    const [deal] = await b.sql<{ opportunity_id: string; correlation_id: string }[]>`
      select opportunity_id, correlation_id from contract where opportunity_id is not null limit 1`;
    const fromDeal = await lineage(b.db, { entityType: "opportunity", id: deal!.opportunity_id });
    expect(fromDeal.correlationId).toBe(deal!.correlation_id);
  });

  it("does not reseed a database that has data, and --reset empties it", async () => {
    expect(await seedIfEmpty(a.sql)).toBeUndefined();
    await expect(seedDemo(b.sql)).rejects.toBeInstanceOf(DatabaseNotEmptyError);
    await resetDatabase(b.sql);
    const [{ n }] = (await b.sql`select count(*)::int as n from customer`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(0);
  });
});
