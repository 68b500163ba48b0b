/**
 * Query.kpis over the seeded demo firm: each figure equals a hand-written SQL statement over the
 * same rows (unbilled time and its aging, READY events, receivables aging and DSO, cycle time),
 * unbilled totals equal the one unbilled definition (db unbilledTotals), a caller scoped to one
 * legal entity sees exactly that entity's rows, and the roles hold.
 */
import { seed, unbilledTotals } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import type { SubgraphServer } from "@pshub/subgraph-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpsSubgraph } from "./index.ts";
import type { OpsLoaders } from "./loaders.ts";

let t: TestDatabase;
let server: SubgraphServer<OpsLoaders>;
/** The demo's "today": the seed's billing state is relative to it. */
const AS_OF = "2026-11-20";

const KPIS = `query($asOf: Date) { kpis(asOf: $asOf) {
  asOf
  unbilled { legalEntity customerId contractId currency kind ageBucket items hours amount }
  receivables { legalEntity currency openInvoices outstanding current overdue1To30 overdue31To60
    overdue61To90 overdue90Plus invoiced90Days dso }
  invoiceCycleTime { month legalEntity stage invoices p50Days p90Days }
  syncHealth { connector object lagMs errors pending }
  openExceptions { owner open slaBreached }
} }`;

// biome-ignore lint/suspicious/noExplicitAny: result rows are walked ad hoc
type Row = Record<string, any>;
let all: Row;

async function kpis(headers: Record<string, string> = {}, asOf: string | null = AS_OF) {
  const result = await server.execute(KPIS, { asOf }, headers);
  return result;
}

beforeAll(async () => {
  t = await createTestDatabase();
  await seed.seedDemo(t.sql);
  server = createOpsSubgraph(t.db);
  const result = await kpis();
  expect(result.errors).toBeUndefined();
  all = result.data?.kpis;
}, 120_000);

afterAll(async () => {
  await t?.drop();
});

const bucket = (
  days: string,
) => `case when ${days} <= 30 then 'DAYS_0_30' when ${days} <= 60 then 'DAYS_31_60'
  when ${days} <= 90 then 'DAYS_61_90' else 'DAYS_90_PLUS' end`;

describe("unbilled approved work", () => {
  it("T&M time equals approved billable time with no billing event, aged by approval", async () => {
    const expected = await t.sql.unsafe(
      `select c.id::text as contract_id, ${bucket(`($1::date - coalesce((te.approved_at at time zone 'UTC')::date, te.work_date))`)} as age_bucket,
              count(*)::int as items, sum(te.hours)::numeric(14, 2)::text as hours,
              sum(round(te.hours * te.bill_rate, 2))::numeric(18, 2)::text as amount
         from time_entry te join project p on p.id = te.project_id join contract c on c.id = p.contract_id
        where te.status = 'APPROVED' and te.billable and te.work_date <= $1::date
          and c.billing_model = 'TIME_AND_MATERIALS' and c.status in ('ACTIVE', 'COMPLETED')
          and not exists (select 1 from billing_event b where b.source_type = 'TIME' and b.source_id = te.id)
        group by 1, 2 order by 1, 2`,
      [AS_OF],
    );
    const tm = new Set(
      (await t.sql`select id::text from contract where billing_model = 'TIME_AND_MATERIALS'`).map(
        (r) => r.id as string,
      ),
    );
    const actual = all.unbilled
      .filter((r: Row) => r.kind === "TIME" && tm.has(r.contractId))
      .map((r: Row) => ({
        contract_id: r.contractId,
        age_bucket: r.ageBucket,
        items: r.items,
        hours: r.hours,
        amount: r.amount,
      }))
      .sort((a: Row, b: Row) =>
        `${a.contract_id}${a.age_bucket}`.localeCompare(`${b.contract_id}${b.age_bucket}`),
      );
    expect(expected.length).toBeGreaterThan(0);
    expect(actual).toEqual([...expected]);
  });

  it("READY equals the billing events on no invoice yet, per contract", async () => {
    const expected = await t.sql`
      select contract_id::text, count(*)::int as items, sum(amount)::numeric(18, 2)::text as amount
        from billing_event where status = 'READY' group by 1 order by 1`;
    const sums = new Map<string, { items: number; cents: bigint }>();
    for (const r of all.unbilled.filter((r: Row) => r.kind === "READY")) {
      const s = sums.get(r.contractId) ?? { items: 0, cents: 0n };
      s.items += r.items;
      s.cents += BigInt(r.amount.replace(".", ""));
      sums.set(r.contractId, s);
    }
    const actual = [...sums.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([contract_id, s]) => ({
        contract_id,
        items: s.items,
        amount: `${s.cents / 100n}.${String(s.cents % 100n).padStart(2, "0")}`,
      }));
    expect(expected.length).toBeGreaterThan(0);
    expect(actual).toEqual([...expected]);
  });

  it("per contract and currency, adds up to the unbilled definition (unbilledTotals)", async () => {
    const ids = [...new Set(all.unbilled.map((r: Row) => r.contractId as string))];
    const totals = await unbilledTotals(t.db, "contract", ids as string[], { asOf: AS_OF });
    const expected = totals.flat().map((r) => `${r.key} ${r.currency} ${r.total}`);
    const cents = new Map<string, bigint>();
    for (const r of all.unbilled) {
      const key = `${r.contractId} ${r.currency}`;
      cents.set(key, (cents.get(key) ?? 0n) + BigInt(r.amount.replace(".", "")));
    }
    const actual = [...cents.entries()].map(
      ([k, c]) => `${k} ${c / 100n}.${String(c % 100n).padStart(2, "0")}`,
    );
    expect(actual.sort()).toEqual(expected.sort());
    // Every aging bucket occurs in the demo (the buckets are exercised, not only the first).
    expect(new Set(all.unbilled.map((r: Row) => r.ageBucket)).size).toBeGreaterThan(1);
  });
});

describe("receivables", () => {
  it("AR aging and DSO equal a hand-written aggregate", async () => {
    const rows = await t.sql.unsafe(
      `with o as (
         select le.code, i.currency::text as currency, i.total - i.amount_paid as bal, $1::date - i.due_on as late
           from invoice i join legal_entity le on le.id = i.legal_entity_id
          where i.issued_on <= $1::date and i.status in ('ISSUED', 'POSTED', 'PARTIALLY_PAID', 'DISPUTED')
            and i.amount_paid < i.total),
       s as (
         select le.code, i.currency::text as currency, sum(i.total) as sales
           from invoice i join legal_entity le on le.id = i.legal_entity_id
          where i.issued_on <= $1::date and i.issued_on > $1::date - 90 and i.status <> 'VOID'
          group by 1, 2)
       select o.code as "legalEntity", o.currency, count(*)::int as "openInvoices",
              sum(bal)::text as outstanding,
              coalesce(sum(bal) filter (where late is null or late <= 0), 0)::numeric(18, 2)::text as current,
              coalesce(sum(bal) filter (where late >= 1 and late <= 30), 0)::numeric(18, 2)::text as "overdue1To30",
              coalesce(sum(bal) filter (where late >= 31 and late <= 60), 0)::numeric(18, 2)::text as "overdue31To60",
              coalesce(sum(bal) filter (where late >= 61 and late <= 90), 0)::numeric(18, 2)::text as "overdue61To90",
              coalesce(sum(bal) filter (where late > 90), 0)::numeric(18, 2)::text as "overdue90Plus",
              coalesce(max(s.sales), 0)::numeric(18, 2)::text as "invoiced90Days",
              round(sum(bal) / nullif(max(s.sales), 0) * 90, 1)::text as dso
         from o left join s on s.code = o.code and s.currency = o.currency
        group by 1, 2 order by 1, 2`,
      [AS_OF],
    );
    expect(rows.length).toBeGreaterThan(0);
    const withOpen = all.receivables.filter((r: Row) => r.openInvoices > 0);
    expect(withOpen).toEqual([...rows]);
    expect(rows.some((r) => r.overdue90Plus !== "0.00" || r.overdue1To30 !== "0.00")).toBe(true);
  });
});

describe("invoice cycle time", () => {
  it("p50/p90 of generated → issued and issued → paid equal the domain events' durations", async () => {
    const rows = await t.sql.unsafe(
      `with e as (
         select i.id, le.code,
                (select min(occurred_at) from domain_event d where d.entity_id = i.id and d.type = 'invoice.created') as g,
                (select min(occurred_at) from domain_event d where d.entity_id = i.id
                   and d.type = 'invoice.status_changed' and d.payload->>'to' = 'ISSUED') as iss,
                (select min(occurred_at) from domain_event d where d.entity_id = i.id
                   and d.type = 'invoice.status_changed' and d.payload->>'to' = 'PAID') as paid
           from invoice i join legal_entity le on le.id = i.legal_entity_id),
       d as (
         select to_char(g at time zone 'UTC', 'YYYY-MM') as month, code, 'GENERATED_TO_ISSUED' as stage,
                extract(epoch from iss - g) as secs from e where iss is not null and g is not null
         union all
         select to_char(g at time zone 'UTC', 'YYYY-MM'), code, 'ISSUED_TO_PAID', extract(epoch from paid - iss)
           from e where paid is not null and iss is not null and g is not null)
       select month, code as "legalEntity", stage, count(*)::int as invoices,
              round((percentile_cont(0.5) within group (order by secs) / 86400)::numeric, 2)::text as "p50Days",
              round((percentile_cont(0.9) within group (order by secs) / 86400)::numeric, 2)::text as "p90Days"
         from d where month <= '2026-11' group by 1, 2, 3 order by 1, 2, 3`,
    );
    expect(rows.length).toBeGreaterThan(0);
    const actual = all.invoiceCycleTime
      .filter((r: Row) => r.stage === "GENERATED_TO_ISSUED" || r.stage === "ISSUED_TO_PAID")
      .sort((a: Row, b: Row) =>
        `${a.month}${a.legalEntity}${a.stage}`.localeCompare(
          `${b.month}${b.legalEntity}${b.stage}`,
        ),
      );
    expect(actual).toEqual([...rows]);
  });
});

describe("scope and roles", () => {
  it("a caller scoped to AR-UK sees exactly its rows", async () => {
    const uk = await kpis({ "x-pshub-roles": "finance", "x-pshub-legal-entities": "AR-UK" });
    expect(uk.errors).toBeUndefined();
    const k = uk.data?.kpis;
    for (const field of ["unbilled", "receivables", "invoiceCycleTime"]) {
      expect(k[field].length, field).toBeGreaterThan(0);
      expect(k[field]).toEqual(all[field].filter((r: Row) => r.legalEntity === "AR-UK"));
    }
    const open = (rows: Row[]) => rows.reduce((n, r) => n + r.open, 0);
    expect(open(k.openExceptions)).toBeLessThanOrEqual(open(all.openExceptions));
    const none = await kpis({ "x-pshub-roles": "analyst", "x-pshub-legal-entities": "" });
    expect(none.data?.kpis.unbilled).toEqual([]);
    expect(none.data?.kpis.receivables).toEqual([]);
    expect(none.data?.kpis.openExceptions).toEqual([]);
  });

  it("analyst and finance may read kpis; sales and delivery may not", async () => {
    for (const role of ["analyst", "finance"]) {
      const ok = await kpis({ "x-pshub-roles": role });
      expect(ok.errors, role).toBeUndefined();
    }
    for (const role of ["sales", "delivery"]) {
      const refused = await kpis({ "x-pshub-roles": role });
      expect(refused.errors?.[0]?.extensions?.code, role).toBe("FORBIDDEN");
      expect(refused.data?.kpis ?? null).toBeNull();
    }
  });

  it("an asOf after today is BAD_USER_INPUT; no asOf means today", async () => {
    const future = await kpis({}, "2999-01-01");
    expect(future.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const today = await server.execute("{ kpis { asOf } }");
    const [row] = await t.sql`select (now() at time zone 'UTC')::date::text as day`;
    expect(today.data?.kpis.asOf).toBe(row?.day);
  });
});
