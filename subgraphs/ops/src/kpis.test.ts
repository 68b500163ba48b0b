/**
 * Query.kpis over the seeded demo firm: each figure equals a hand-written SQL statement over the
 * same rows (unbilled time and its aging, READY events, receivables aging and DSO, cycle time),
 * unbilled totals equal the one unbilled definition (db unbilledTotals), a caller scoped to one
 * legal entity sees exactly that entity's rows, and the roles hold.
 */
import { seed, sync, unbilledTotals, upsertFxRates } from "@pshub/db";
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
  utilisation { legalEntity month approvedHours approvedBillableHours billedHours billableRatio billedRatio }
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
      .filter((r: Row) => r.month !== "ALL")
      .filter((r: Row) => r.stage === "GENERATED_TO_ISSUED" || r.stage === "ISSUED_TO_PAID")
      .sort((a: Row, b: Row) =>
        `${a.month}${a.legalEntity}${a.stage}`.localeCompare(
          `${b.month}${b.legalEntity}${b.stage}`,
        ),
      );
    expect(actual).toEqual([...rows]);
  });
});

describe("invoice cycle time over every step", () => {
  it("approval → billing event → … → paid per legal entity over all months equals the domain events", async () => {
    // Independent of the implementation: the billing step from billing_event.created domain events
    // (the resolver reads billing_event.created_at), approvals from the items, all months pooled.
    const rows = await t.sql.unsafe(
      `with inv as (
         select i.id, le.code,
                (select min(occurred_at) from domain_event d where d.entity_id = i.id and d.type = 'invoice.created') as g,
                (select min(occurred_at) from domain_event d where d.entity_id = i.id
                   and d.type = 'invoice.status_changed' and d.payload->>'to' = 'POSTED') as posted,
                (select min(occurred_at) from domain_event d where d.entity_id = i.id
                   and d.type = 'invoice.status_changed' and d.payload->>'to' = 'PAID') as paid,
                (select min(d.occurred_at) from invoice_line l join domain_event d on d.entity_id = l.billing_event_id
                  where l.invoice_id = i.id and l.voided_at is null and d.type = 'billing_event.created') as billed,
                (select min(coalesce(te.approved_at, e.approved_at, m.approved_at))
                   from invoice_line l join billing_event be on be.id = l.billing_event_id
                   left join time_entry te on be.source_type = 'TIME' and te.id = be.source_id
                   left join expense e on be.source_type = 'EXPENSE' and e.id = be.source_id
                   left join milestone m on be.source_type = 'MILESTONE' and m.id = be.source_id
                  where l.invoice_id = i.id and l.voided_at is null) as approved
           from invoice i join legal_entity le on le.id = i.legal_entity_id),
       d as (
         select code, 'APPROVED_TO_BILLED' as stage, extract(epoch from billed - approved) as secs from inv
          where g is not null and (g at time zone 'UTC')::date <= $1::date and billed - approved is not null
         union all
         select code, 'BILLED_TO_GENERATED', extract(epoch from g - billed) from inv
          where g is not null and (g at time zone 'UTC')::date <= $1::date and g - billed is not null
         union all
         select code, 'POSTED_TO_PAID', extract(epoch from paid - posted) from inv
          where g is not null and (g at time zone 'UTC')::date <= $1::date and paid - posted is not null
         union all
         select code, 'APPROVED_TO_PAID', extract(epoch from paid - approved) from inv
          where g is not null and (g at time zone 'UTC')::date <= $1::date and paid - approved is not null)
       select 'ALL' as month, code as "legalEntity", stage, count(*)::int as invoices,
              round((percentile_cont(0.5) within group (order by secs) / 86400)::numeric, 2)::text as "p50Days",
              round((percentile_cont(0.9) within group (order by secs) / 86400)::numeric, 2)::text as "p90Days"
         from d group by 2, 3 order by 2, 3`,
      [AS_OF],
    );
    const stages = new Set([
      "APPROVED_TO_BILLED",
      "BILLED_TO_GENERATED",
      "POSTED_TO_PAID",
      "APPROVED_TO_PAID",
    ]);
    // Every step occurs in the demo (its posted invoices go ISSUED → POSTED → … → PAID).
    for (const stage of stages)
      expect(
        rows.some((r) => r.stage === stage),
        stage,
      ).toBe(true);
    const actual = all.invoiceCycleTime
      .filter((r: Row) => r.month === "ALL" && stages.has(r.stage))
      .sort((a: Row, b: Row) =>
        `${a.legalEntity}${a.stage}`.localeCompare(`${b.legalEntity}${b.stage}`),
      );
    expect(actual).toEqual([...rows]);
    // Per month too: every month row's stage set includes the billing step.
    expect(
      all.invoiceCycleTime.some((r: Row) => r.month !== "ALL" && r.stage === "APPROVED_TO_BILLED"),
    ).toBe(true);
  });
});

describe("utilisation to billing", () => {
  it("billable ÷ approved and billed ÷ approved billable hours equal a hand-written aggregate", async () => {
    const rows = await t.sql.unsafe(
      `select le.code as "legalEntity", to_char(te.work_date, 'YYYY-MM') as month,
              sum(te.hours)::numeric(14, 2)::text as "approvedHours",
              coalesce(sum(case when te.billable then te.hours end), 0)::numeric(14, 2)::text as "approvedBillableHours",
              coalesce(sum(case when te.billable and te.status = 'BILLED' then te.hours end), 0)::numeric(14, 2)::text as "billedHours",
              round(coalesce(sum(case when te.billable then te.hours end), 0) / sum(te.hours), 4)::text as "billableRatio",
              round(coalesce(sum(case when te.billable and te.status = 'BILLED' then te.hours end), 0)
                    / nullif(sum(case when te.billable then te.hours end), 0), 4)::text as "billedRatio"
         from time_entry te join project p on p.id = te.project_id join contract c on c.id = p.contract_id
         join legal_entity le on le.id = c.legal_entity_id
        where te.status in ('APPROVED', 'BILLED') and te.work_date <= $1::date
        group by 1, 2 order by 1, 2`,
      [AS_OF],
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(all.utilisation).toEqual([...rows]);
    // Not trivially 1: some approved time is not billable, some billable time is not billed yet.
    expect(all.utilisation.some((r: Row) => r.billableRatio !== "1.0000")).toBe(true);
    expect(all.utilisation.some((r: Row) => r.billedRatio !== "1.0000")).toBe(true);
  });
});

describe("sync health history", () => {
  it("p50/p99 over 24 h come from the lag samples each cursor save records; older ones are pruned", async () => {
    const lags = [120, 80, 4000, 95, 310, 150, 60, 2500, 90, 700];
    // A sample from 26 hours ago: outside the window, and pruned by the next save.
    await t.sql`insert into sync_lag_sample (connector, object, lag_ms, sampled_at)
      values ('test-erp', 'invoice', 999999, now() - interval '26 hours')`;
    for (const lagMs of lags)
      await t.db.transaction((tx) =>
        sync.saveCursor(tx, {
          connector: "test-erp",
          object: "invoice",
          cursor: { n: lagMs },
          lagMs,
        }),
      );
    // A save without a lag records no sample.
    await t.db.transaction((tx) =>
      sync.saveCursor(tx, { connector: "test-erp", object: "invoice", cursor: { n: 0 } }),
    );
    const [kept] =
      await t.sql`select count(*)::int as n, max(lag_ms)::int as max from sync_lag_sample
      where connector = 'test-erp'`;
    expect(kept).toEqual({ n: lags.length, max: 4000 });
    const result = await server.execute(
      `{ kpis { syncHealth { connector object lagMs lagP50Ms24h lagP99Ms24h lagSamples24h } } }`,
    );
    expect(result.errors).toBeUndefined();
    const row = result.data?.kpis.syncHealth.find((r: Row) => r.connector === "test-erp");
    // Discrete percentiles by hand: the smallest sample with at least p of them at or below it.
    const sorted = [...lags].sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.ceil(p * sorted.length) - 1];
    expect(row).toEqual({
      connector: "test-erp",
      object: "invoice",
      lagMs: 700,
      lagP50Ms24h: pct(0.5),
      lagP99Ms24h: pct(0.99),
      lagSamples24h: lags.length,
    });
  });
});

describe("currencies", () => {
  const CONVERT = `query($asOf: Date, $cur: String) { kpis(asOf: $asOf, reportingCurrency: $cur) {
    reportingCurrency
    fxRates { currency reportingCurrency rate rateDate rateSource }
    unbilled { contractId currency kind ageBucket amount amountConverted { amount currency rate rateDate rateSource } }
    receivables { legalEntity currency outstanding outstandingConverted { amount currency rate rateDate } }
    currencyTotals { measure currency amount converted { amount currency rate rateDate rateSource } }
  } }`;

  beforeAll(async () => {
    // NetSuite's sense: 1 unit of currency = rate units of the base (USD). An older and a newer
    // rate for EUR, and one dated after asOf that must not be used.
    await t.db.transaction((tx) =>
      upsertFxRates(
        tx,
        [
          { baseCurrency: "USD", currency: "EUR", rate: "1.05", effectiveDate: "2026-10-01" },
          { baseCurrency: "USD", currency: "EUR", rate: "1.0823", effectiveDate: "2026-11-02" },
          { baseCurrency: "USD", currency: "EUR", rate: "9.99", effectiveDate: "2026-11-25" },
          { baseCurrency: "USD", currency: "GBP", rate: "1.2671", effectiveDate: "2026-11-03" },
        ],
        "FILE",
      ),
    );
  });

  it("converts each amount exactly with the rate of asOf (crossed through the base), rate and date shown", async () => {
    const result = await server.execute(CONVERT, { asOf: AS_OF, cur: "EUR" });
    expect(result.errors).toBeUndefined();
    const k = result.data?.kpis;
    expect(k.reportingCurrency).toBe("EUR");
    // Cross rates by hand in SQL numeric: GBP→EUR = 1.2671 / 1.0823, USD→EUR = 1 / 1.0823.
    const [cross] =
      await t.sql`select round(1.2671 / 1.0823, 10)::text as gbp, round(1 / 1.0823, 10)::text as usd`;
    const trim = (v: string) => v.replace(/0+$/, "").replace(/\.$/, "");
    expect(k.fxRates).toEqual([
      {
        currency: "EUR",
        reportingCurrency: "EUR",
        rate: "1",
        rateDate: AS_OF,
        rateSource: "IDENTITY",
      },
      {
        currency: "GBP",
        reportingCurrency: "EUR",
        rate: trim(cross!.gbp),
        rateDate: "2026-11-02",
        rateSource: "FILE",
      },
      {
        currency: "USD",
        reportingCurrency: "EUR",
        rate: trim(cross!.usd),
        rateDate: "2026-11-02",
        rateSource: "FILE",
      },
    ]);
    // Every unbilled row converted: amount × rate, half-even to cents, computed by Postgres.
    const rows = k.unbilled as Row[];
    expect(new Set(rows.map((r) => r.currency)).size).toBeGreaterThan(1);
    const expected = await t.sql.unsafe(
      `select pshub_round_half_even((a.v->>'amount')::numeric * (a.v->>'rate')::numeric, 2)::text as amount
         from jsonb_array_elements($1::jsonb) with ordinality as a(v, n)
        order by a.n`,
      [JSON.stringify(rows.map((r) => ({ amount: r.amount, rate: r.amountConverted.rate })))],
    );
    expect(rows.map((r) => r.amountConverted.amount)).toEqual(expected.map((e) => e.amount));
    for (const r of rows) {
      expect(r.amountConverted.currency).toBe("EUR");
      expect(r.amountConverted.rate).toBe(
        k.fxRates.find((f: Row) => f.currency === r.currency).rate,
      );
    }
    for (const r of k.receivables as Row[]) expect(r.outstandingConverted.currency).toBe("EUR");
    // Totals per currency add up the rows, and each is converted with its rate.
    const unbilledEur = (k.currencyTotals as Row[]).filter((r) => r.measure === "UNBILLED");
    expect(unbilledEur.map((r) => r.currency)).toEqual(["EUR", "GBP", "USD"]);
    for (const total of unbilledEur) {
      const cents = rows
        .filter((r) => r.currency === total.currency)
        .reduce((n, r) => n + BigInt(r.amount.replace(".", "")), 0n);
      expect(BigInt(total.amount.replace(".", ""))).toBe(cents);
      expect(total.converted.rate).toBe(
        k.fxRates.find((f: Row) => f.currency === total.currency).rate,
      );
    }
    expect((k.currencyTotals as Row[]).some((r) => r.measure === "OUTSTANDING")).toBe(true);
  });

  it("a currency without a rate is not converted; a bad reporting currency is BAD_USER_INPUT", async () => {
    const chf = await server.execute(CONVERT, { asOf: AS_OF, cur: "CHF" });
    expect(chf.errors).toBeUndefined();
    expect(chf.data?.kpis.fxRates).toEqual([
      {
        currency: "CHF",
        reportingCurrency: "CHF",
        rate: "1",
        rateDate: AS_OF,
        rateSource: "IDENTITY",
      },
    ]);
    expect(chf.data?.kpis.unbilled.every((r: Row) => r.amountConverted === null)).toBe(true);
    const bad = await server.execute(CONVERT, { asOf: AS_OF, cur: "euro" });
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    // Default: the base currency of the newest rate.
    const dflt = await server.execute(CONVERT, { asOf: AS_OF });
    expect(dflt.data?.kpis.reportingCurrency).toBe("USD");
  });
});

describe("scope and roles", () => {
  it("a caller scoped to AR-UK sees exactly its rows", async () => {
    const uk = await kpis({ "x-pshub-roles": "finance", "x-pshub-legal-entities": "AR-UK" });
    expect(uk.errors).toBeUndefined();
    const k = uk.data?.kpis;
    for (const field of ["unbilled", "receivables", "invoiceCycleTime", "utilisation"]) {
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
