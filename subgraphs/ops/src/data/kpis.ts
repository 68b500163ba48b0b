/**
 * Query.kpis (../../sdl/Kpis.graphql): each KPI is one statement over the canonical tables and the
 * domain events, inside the caller's legal-entity scope (db legal-entity-scope.ts), as of one day.
 * Amounts stay SQL numeric and leave as decimal strings; durations are intervals until the last
 * step (percentile_cont over intervals, never floats).
 *
 * Unbilled work is the one billing-eligibility definition (db lifecycle/billable.ts, the rows a
 * billing run up to asOf would insert) plus READY billing events: the same two parts as
 * unbilledTotals, here grouped by legal entity, customer, contract, currency, kind and age.
 */
import {
  billableItems,
  billingLeakage,
  convertMoney,
  type Db,
  type FxConversionRate,
  fromCents,
  fxRatesTo,
  inLegalEntityScope,
  type LeakageItem,
  type LegalEntityScope,
  schema,
  syncExceptionOverdueSql,
  toCents,
} from "@pshub/db";
import { BadUserInputError } from "@pshub/subgraph-kit";
import { type SQL, sql } from "drizzle-orm";
import type {
  AgeBucket,
  CycleStage,
  ExceptionOwner,
  UnbilledKind,
} from "../__generated__/resolvers-types.ts";

/** The day the KPIs are measured to; the resolvers of Kpis' fields receive it. */
export interface KpiDay {
  asOf: string;
  scope: LegalEntityScope;
  reportingCurrency: string;
  /** The rates to the reporting currency as of asOf, read once per request (fxRatesTo). */
  rates: () => Promise<Map<string, FxConversionRate>>;
  /** One computation per figure per request (currencyTotals reuses unbilled, receivables, leakage). */
  once: <T>(key: string, compute: () => Promise<T>) => Promise<T>;
}

/** A figure converted to the reporting currency (GraphQL ConvertedAmount), or null without a rate. */
export interface ConvertedAmountRow {
  amount: string;
  currency: string;
  rate: string;
  rateDate: string;
  rateSource: string;
}

/**
 * `asOf` (YYYY-MM-DD, already a valid Date scalar) or today (UTC, database clock); not after today.
 * `reportingCurrency` (ISO 4217) or the base currency of the newest exchange rate, else USD.
 */
export async function kpiDay(
  db: Pick<Db, "execute">,
  asOf: string | null | undefined,
  scope: LegalEntityScope,
  reportingCurrency?: string | null,
): Promise<KpiDay> {
  if (reportingCurrency != null && !/^[A-Z]{3}$/.test(reportingCurrency))
    throw new BadUserInputError(
      `reportingCurrency ${JSON.stringify(reportingCurrency)} is not an ISO 4217 code (three capitals)`,
    );
  const [row] = await db.execute<{ day: string; future: boolean; base: string | null }>(sql`
    select coalesce(${asOf ?? null}::date, (now() at time zone 'UTC')::date)::text as day,
      coalesce(${asOf ?? null}::date > (now() at time zone 'UTC')::date, false) as future,
      (select base_currency::text from fx_rate order by effective_date desc, updated_at desc limit 1) as base`);
  if (!row) throw new Error("kpiDay: no row");
  if (row.future)
    throw new BadUserInputError(`asOf ${asOf} is after today; KPIs are measured to a past day`);
  const currency = reportingCurrency ?? row.base ?? "USD";
  let rates: Promise<Map<string, FxConversionRate>> | undefined;
  const memo = new Map<string, Promise<unknown>>();
  return {
    asOf: row.day,
    scope,
    reportingCurrency: currency,
    rates: () => {
      rates ??= fxRatesTo(db, currency, row.day);
      return rates;
    },
    once: <T>(key: string, compute: () => Promise<T>) => {
      let value = memo.get(key) as Promise<T> | undefined;
      if (!value) {
        value = compute();
        memo.set(key, value);
      }
      return value;
    },
  };
}

/** `amount` in `currency` converted with the day's rates; null when the currency has no rate. */
export function converted(
  rates: Map<string, FxConversionRate>,
  reportingCurrency: string,
  amount: string,
  currency: string,
): ConvertedAmountRow | null {
  const rate = rates.get(currency);
  if (!rate) return null;
  return {
    amount: convertMoney(amount, rate.rate),
    currency: reportingCurrency,
    rate: rate.rate,
    rateDate: rate.rateDate,
    rateSource: rate.source,
  };
}

export interface FxRateRow {
  currency: string;
  reportingCurrency: string;
  rate: string;
  rateDate: string;
  rateSource: string;
}

export async function fxRates(day: KpiDay): Promise<FxRateRow[]> {
  const rates = await day.rates();
  return [...rates.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, r]) => ({
      currency,
      reportingCurrency: day.reportingCurrency,
      rate: r.rate,
      rateDate: r.rateDate,
      rateSource: r.source,
    }));
}

/**
 * Runs a KPI statement with JIT compilation off. Their plans are wide (unions, many joins, per-item
 * probes) and the planner's cost estimates for them run to hundreds of thousands, so Postgres would
 * JIT-compile them: at scale 40 that took 14 s under load (EXPLAIN ANALYZE: "JIT … Total
 * 14198 ms") for a statement that executes in 0.7 s. `set local` ends with the transaction.
 */
export function withoutJit<T>(db: Db, run: (tx: Pick<Db, "execute">) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local jit = off`);
    return run(tx);
  });
}

/** Contracts inside the scope, as a condition over the contract alias `c`. */
function contractsInScope(scope: LegalEntityScope): SQL {
  const condition = inLegalEntityScope(schema.contract, scope);
  // The helper's condition is correlated on the table name "contract": test it in a subquery.
  return condition ? sql`c.id in (select contract.id from contract where ${condition})` : sql`true`;
}

export interface UnbilledWorkRow {
  legalEntity: string;
  customerId: string;
  contractId: string;
  currency: string;
  kind: UnbilledKind;
  ageBucket: AgeBucket;
  items: number;
  hours: string;
  amount: string;
}

/** The aging bucket of an age in days (SQL). */
const bucketOf = (
  days: SQL,
) => sql`case when ${days} <= 30 then 'DAYS_0_30' when ${days} <= 60 then 'DAYS_31_60'
  when ${days} <= 90 then 'DAYS_61_90' else 'DAYS_90_PLUS' end`;

export async function unbilledWork(
  db: Pick<Db, "execute">,
  day: KpiDay,
): Promise<UnbilledWorkRow[]> {
  const asOf = sql`${day.asOf}::date`;
  const contracts = contractsInScope(day.scope);
  const rows = await db.execute<Record<string, unknown>>(sql`
    with pending as (${billableItems(contracts, asOf)}),
    items as (
      select x.contract_id, x.customer_id, x.currency::text as currency, x.source_type::text as kind,
             x.source_type::text as source_type, x.source_id, x.period, x.quantity, x.amount
        from pending x
      union all
      select be.contract_id, be.customer_id, be.currency::text, 'READY', be.source_type::text, be.source_id,
             be.period, be.quantity, be.amount
        from billing_event be join contract c on c.id = be.contract_id
       where be.status = 'READY' and ${contracts}
    ),
    aged as (
      -- A primary-key probe per item (a few thousand), not a hash join over every time entry
      -- (~200,000 at scale 40). The statement runs with jit off (withoutJit), so the subplans'
      -- cost estimate no longer triggers a JIT compile.
      select i.*, ${asOf} - (case i.source_type
          when 'TIME' then (select coalesce((te.approved_at at time zone 'UTC')::date, te.work_date)
                              from time_entry te where te.id = i.source_id)
          when 'EXPENSE' then (select coalesce((e.approved_at at time zone 'UTC')::date, e.incurred_on)
                                 from expense e where e.id = i.source_id)
          when 'MILESTONE' then (select coalesce((m.approved_at at time zone 'UTC')::date, m.due_date)
                                   from milestone m where m.id = i.source_id)
          when 'FIXED_FEE' then (select f.due_date from fee_schedule_item f where f.id = i.source_id)
          else to_date(i.period || '-01', 'YYYY-MM-DD') end) as age
        from items i
    )
    select le.code as legal_entity, a.customer_id::text as customer_id, a.contract_id::text as contract_id,
           a.currency, a.kind, ${bucketOf(sql`a.age`)} as age_bucket, count(*)::int as items,
           coalesce(sum(a.quantity) filter (where a.source_type = 'TIME'), 0)::numeric(14, 2)::text as hours,
           sum(a.amount)::numeric(18, 2)::text as amount
      from aged a
      join contract c on c.id = a.contract_id
      join legal_entity le on le.id = c.legal_entity_id
     group by 1, 2, 3, 4, 5, 6
     order by 1, 2, 3, 4, 5, 6`);
  return rows.map((r) => ({
    legalEntity: String(r.legal_entity),
    customerId: String(r.customer_id),
    contractId: String(r.contract_id),
    currency: String(r.currency),
    kind: r.kind as UnbilledKind,
    ageBucket: r.age_bucket as AgeBucket,
    items: Number(r.items),
    hours: String(r.hours),
    amount: String(r.amount),
  }));
}

export interface ReceivablesRow {
  legalEntity: string;
  currency: string;
  openInvoices: number;
  outstanding: string;
  current: string;
  overdue1To30: string;
  overdue31To60: string;
  overdue61To90: string;
  overdue90Plus: string;
  invoiced90Days: string;
  dso: string | null;
}

/** Invoice statuses that are out with the customer (the receivables). */
const OPEN_STATUSES = sql`('ISSUED', 'POSTED', 'PARTIALLY_PAID', 'DISPUTED')`;

export async function receivables(db: Pick<Db, "execute">, day: KpiDay): Promise<ReceivablesRow[]> {
  const asOf = sql`${day.asOf}::date`;
  const scope = inLegalEntityScope(schema.invoice, day.scope) ?? sql`true`;
  const rows = await db.execute<Record<string, unknown>>(sql`
    with i as (
      select invoice.legal_entity_id, invoice.currency::text as currency, invoice.status, invoice.total,
             invoice.issued_on, invoice.status in ${OPEN_STATUSES} and invoice.amount_paid < invoice.total as open,
             invoice.total - invoice.amount_paid as balance, ${asOf} - invoice.due_on as late
        from invoice
       where invoice.issued_on is not null and invoice.issued_on <= ${asOf} and ${scope}
    ),
    g as (
      select le.code as legal_entity, i.currency,
             count(*) filter (where open)::int as open_invoices,
             coalesce(sum(balance) filter (where open), 0) as outstanding,
             coalesce(sum(balance) filter (where open and (late is null or late <= 0)), 0) as current,
             coalesce(sum(balance) filter (where open and late between 1 and 30), 0) as overdue_1_30,
             coalesce(sum(balance) filter (where open and late between 31 and 60), 0) as overdue_31_60,
             coalesce(sum(balance) filter (where open and late between 61 and 90), 0) as overdue_61_90,
             coalesce(sum(balance) filter (where open and late > 90), 0) as overdue_90_plus,
             coalesce(sum(total) filter (where status <> 'VOID' and issued_on > ${asOf} - 90), 0) as invoiced_90
        from i join legal_entity le on le.id = i.legal_entity_id
       group by 1, 2
    )
    select legal_entity, currency, open_invoices,
           outstanding::numeric(18, 2)::text as outstanding, current::numeric(18, 2)::text as current,
           overdue_1_30::numeric(18, 2)::text as overdue_1_30, overdue_31_60::numeric(18, 2)::text as overdue_31_60,
           overdue_61_90::numeric(18, 2)::text as overdue_61_90,
           overdue_90_plus::numeric(18, 2)::text as overdue_90_plus,
           invoiced_90::numeric(18, 2)::text as invoiced_90,
           case when invoiced_90 > 0 then round(outstanding / invoiced_90 * 90, 1)::text end as dso
      from g
     where open_invoices > 0 or invoiced_90 > 0
     order by 1, 2`);
  return rows.map((r) => ({
    legalEntity: String(r.legal_entity),
    currency: String(r.currency),
    openInvoices: Number(r.open_invoices),
    outstanding: String(r.outstanding),
    current: String(r.current),
    overdue1To30: String(r.overdue_1_30),
    overdue31To60: String(r.overdue_31_60),
    overdue61To90: String(r.overdue_61_90),
    overdue90Plus: String(r.overdue_90_plus),
    invoiced90Days: String(r.invoiced_90),
    dso: r.dso == null ? null : String(r.dso),
  }));
}

export interface InvoiceCycleTimeRow {
  month: string;
  legalEntity: string;
  stage: CycleStage;
  invoices: number;
  p50Days: string;
  p90Days: string;
}

/** A percentile of intervals, in days to two decimals (exact: interval → numeric epoch). */
const percentileDays = (fraction: number) =>
  sql`round(extract(epoch from percentile_cont(${sql.raw(String(fraction))}) within group (order by s.duration)) / 86400, 2)::text`;

export async function invoiceCycleTime(
  db: Pick<Db, "execute">,
  day: KpiDay,
): Promise<InvoiceCycleTimeRow[]> {
  const asOf = sql`${day.asOf}::date`;
  const scope = inLegalEntityScope(schema.invoice, day.scope) ?? sql`true`;
  const rows = await db.execute<Record<string, unknown>>(sql`
    -- One row per invoice from kpi_invoice_cycle (migration 0017: kept by triggers on domain_event
    -- and invoice_line in the transaction of each change): its first invoice.created and first
    -- ISSUED / POSTED / PAID, and over its live lines the earliest approval and billing event. The
    -- same instants the min() over the invoice's domain events and lines gives (a test holds the
    -- two equal after random lifecycles), read from ~5,000 rows instead of ~60,000 lines joined to
    -- their billing events and items.
    with inv as (select invoice.id, invoice.legal_entity_id from invoice where ${scope}),
    s as (
      select to_char(k.generated_at at time zone 'UTC', 'YYYY-MM') as month, inv.legal_entity_id, st.step,
             st.stage, st.duration
        from kpi_invoice_cycle k
        join inv on inv.id = k.invoice_id
        cross join lateral (values
          (1, 'APPROVED_TO_BILLED', k.billed_at - k.approved_at),
          (2, 'BILLED_TO_GENERATED', k.generated_at - k.billed_at),
          (3, 'APPROVED_TO_GENERATED', k.generated_at - k.approved_at),
          (4, 'GENERATED_TO_ISSUED', k.issued_at - k.generated_at),
          (5, 'ISSUED_TO_POSTED', k.posted_at - k.issued_at),
          (6, 'POSTED_TO_PAID', k.paid_at - k.posted_at),
          (7, 'ISSUED_TO_PAID', k.paid_at - k.issued_at),
          (8, 'GENERATED_TO_PAID', k.paid_at - k.generated_at),
          (9, 'APPROVED_TO_PAID', k.paid_at - k.approved_at)) as st(step, stage, duration)
       where k.generated_at is not null and st.duration is not null
         and (k.generated_at at time zone 'UTC')::date <= ${asOf}
    )
    select coalesce(s.month, 'ALL') as month, le.code as legal_entity, s.stage, count(*)::int as invoices,
           ${percentileDays(0.5)} as p50, ${percentileDays(0.9)} as p90
      from s join legal_entity le on le.id = s.legal_entity_id
     group by grouping sets ((s.month, le.code, s.step, s.stage), (le.code, s.step, s.stage))
     order by coalesce(s.month, 'ALL'), le.code, s.step`);
  return rows.map((r) => ({
    month: String(r.month),
    legalEntity: String(r.legal_entity),
    stage: r.stage as CycleStage,
    invoices: Number(r.invoices),
    p50Days: String(r.p50),
    p90Days: String(r.p90),
  }));
}

export interface OpenExceptionsRow {
  owner: ExceptionOwner;
  open: number;
  slaBreached: number;
}

export async function openExceptions(
  db: Pick<Db, "execute">,
  day: KpiDay,
): Promise<OpenExceptionsRow[]> {
  const scope = inLegalEntityScope(schema.syncException, day.scope) ?? sql`true`;
  const rows = await db.execute<Record<string, unknown>>(sql`
    select sync_exception.owner::text as owner, count(*)::int as open,
           count(*) filter (where ${syncExceptionOverdueSql})::int as sla_breached
      from sync_exception
     where sync_exception.status in ('OPEN', 'RETRYING') and ${scope}
     group by 1 order by 1`);
  return rows.map((r) => ({
    owner: r.owner as ExceptionOwner,
    open: Number(r.open),
    slaBreached: Number(r.sla_breached),
  }));
}

export interface BillingLeakageRow extends Omit<LeakageItem, "kind"> {
  kind: UnbilledKind;
  amountConverted: ConvertedAmountRow | null;
}

/** Kpis.billingLeakage: db billingLeakage inside the caller's scope, with conversions. */
export async function leakage(
  db: Db,
  day: KpiDay,
  olderThanDays: number,
): Promise<BillingLeakageRow[]> {
  if (!Number.isInteger(olderThanDays) || olderThanDays < 0 || olderThanDays > 3650)
    throw new BadUserInputError(`olderThanDays ${olderThanDays} is not between 0 and 3650`);
  const [items, rates] = await Promise.all([
    day.once(`leakage:${olderThanDays}`, () =>
      withoutJit(db, (tx) =>
        billingLeakage(tx, {
          asOf: day.asOf,
          olderThanDays,
          contracts: contractsInScope(day.scope),
        }),
      ),
    ),
    day.rates(),
  ]);
  return items.map((i) => ({
    ...i,
    kind: i.kind as UnbilledKind,
    amountConverted: converted(rates, day.reportingCurrency, i.amount, i.currency),
  }));
}

export interface UtilisationRow {
  legalEntity: string;
  month: string;
  approvedHours: string;
  approvedBillableHours: string;
  billedHours: string;
  billableRatio: string | null;
  billedRatio: string | null;
}

/**
 * Kpis.utilisation: per legal entity and month worked. The hours come from kpi_time_month (per
 * project, month, status and billable flag; migration 0017 keeps it by triggers on time_entry in
 * the transaction of each change), less the entries of asOf's month dated after asOf (none when
 * asOf is today): the same sums as one aggregate over every time entry, from ~17,000 rows instead
 * of ~200,000 at scale 40.
 */
export async function utilisation(db: Pick<Db, "execute">, day: KpiDay): Promise<UtilisationRow[]> {
  const asOf = sql`${day.asOf}::date`;
  const rows = await db.execute<Record<string, unknown>>(sql`
    with t as (
      select k.project_id, k.month, k.status, k.billable, k.entries, k.hours
        from kpi_time_month k
       where k.status in ('APPROVED', 'BILLED') and k.month <= ${asOf}
      union all
      select te.project_id, date_trunc('month', te.work_date)::date, te.status, te.billable, -1, -te.hours
        from time_entry te
       where te.status in ('APPROVED', 'BILLED') and te.work_date > ${asOf}
         and te.work_date < (date_trunc('month', ${asOf}) + interval '1 month')::date
    ),
    g as (
      select le.code as legal_entity, to_char(t.month, 'YYYY-MM') as month,
             sum(t.hours) as approved,
             coalesce(sum(t.hours) filter (where t.billable), 0) as billable,
             coalesce(sum(t.hours) filter (where t.billable and t.status = 'BILLED'), 0) as billed
        from t
        join project p on p.id = t.project_id
        join contract c on c.id = p.contract_id
        join legal_entity le on le.id = c.legal_entity_id
       where ${contractsInScope(day.scope)}
       group by 1, 2
      having sum(t.entries) > 0)
    select legal_entity, month, approved::numeric(14, 2)::text as approved,
           billable::numeric(14, 2)::text as billable, billed::numeric(14, 2)::text as billed,
           case when approved > 0 then round(billable / approved, 4)::text end as billable_ratio,
           case when billable > 0 then round(billed / billable, 4)::text end as billed_ratio
      from g order by 1, 2`);
  return rows.map((r) => ({
    legalEntity: String(r.legal_entity),
    month: String(r.month),
    approvedHours: String(r.approved),
    approvedBillableHours: String(r.billable),
    billedHours: String(r.billed),
    billableRatio: r.billable_ratio == null ? null : String(r.billable_ratio),
    billedRatio: r.billed_ratio == null ? null : String(r.billed_ratio),
  }));
}

export interface LagHistoryRow {
  p50: number | null;
  p99: number | null;
  samples: number;
}

/** p50/p99 of the lag samples of the last 24 hours, per "connector/object" (discrete percentiles). */
export async function lagHistory(db: Pick<Db, "execute">): Promise<Map<string, LagHistoryRow>> {
  const rows = await db.execute<Record<string, unknown>>(sql`
    select connector, object, count(*)::int as samples,
           percentile_disc(0.5) within group (order by lag_ms) as p50,
           percentile_disc(0.99) within group (order by lag_ms) as p99
      from sync_lag_sample where sampled_at > now() - interval '24 hours'
     group by 1, 2`);
  return new Map(
    rows.map((r) => [
      `${r.connector}/${r.object}`,
      { p50: Number(r.p50), p99: Number(r.p99), samples: Number(r.samples) },
    ]),
  );
}

export interface CurrencyTotalRow {
  measure: "UNBILLED" | "OUTSTANDING" | "LEAKAGE";
  currency: string;
  amount: string;
  converted: ConvertedAmountRow | null;
}

/** Sums of decimal strings per currency (exact cents), ordered by currency. */
function sumByCurrency(rows: { currency: string; amount: string }[]): [string, string][] {
  const cents = new Map<string, bigint>();
  for (const r of rows) cents.set(r.currency, (cents.get(r.currency) ?? 0n) + toCents(r.amount));
  return [...cents.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, c]) => [currency, fromCents(c)]);
}

/** Kpis.currencyTotals: unbilled, outstanding and 30-day leakage per currency, and converted. */
export async function currencyTotals(db: Db, day: KpiDay): Promise<CurrencyTotalRow[]> {
  const [unbilled, ar, leaks, rates] = await Promise.all([
    day.once("unbilled", () => withoutJit(db, (tx) => unbilledWork(tx, day))),
    day.once("receivables", () => withoutJit(db, (tx) => receivables(tx, day))),
    leakage(db, day, 30),
    day.rates(),
  ]);
  const measures: [CurrencyTotalRow["measure"], { currency: string; amount: string }[]][] = [
    ["UNBILLED", unbilled],
    ["OUTSTANDING", ar.map((r) => ({ currency: r.currency, amount: r.outstanding }))],
    ["LEAKAGE", leaks],
  ];
  return measures.flatMap(([measure, rows]) =>
    sumByCurrency(rows).map(([currency, amount]) => ({
      measure,
      currency,
      amount,
      converted: converted(rates, day.reportingCurrency, amount, currency),
    })),
  );
}
