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
  type Db,
  inLegalEntityScope,
  type LegalEntityScope,
  schema,
  syncExceptionOverdueSql,
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
}

/** `asOf` (YYYY-MM-DD, already a valid Date scalar) or today (UTC, database clock); not after today. */
export async function kpiDay(
  db: Pick<Db, "execute">,
  asOf: string | null | undefined,
  scope: LegalEntityScope,
): Promise<KpiDay> {
  const [row] = await db.execute<{ day: string; future: boolean }>(sql`
    select coalesce(${asOf ?? null}::date, (now() at time zone 'UTC')::date)::text as day,
      coalesce(${asOf ?? null}::date > (now() at time zone 'UTC')::date, false) as future`);
  if (!row) throw new Error("kpiDay: no row");
  if (row.future)
    throw new BadUserInputError(`asOf ${asOf} is after today; KPIs are measured to a past day`);
  return { asOf: row.day, scope };
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
      -- Joins, not a subquery per item: the plan stays cheap (no JIT compile under load).
      select i.*, ${asOf} - (case i.source_type
          when 'TIME' then coalesce((te.approved_at at time zone 'UTC')::date, te.work_date)
          when 'EXPENSE' then coalesce((e.approved_at at time zone 'UTC')::date, e.incurred_on)
          when 'MILESTONE' then coalesce((m.approved_at at time zone 'UTC')::date, m.due_date)
          when 'FIXED_FEE' then f.due_date
          else to_date(i.period || '-01', 'YYYY-MM-DD') end) as age
        from items i
        left join time_entry te on i.source_type = 'TIME' and te.id = i.source_id
        left join expense e on i.source_type = 'EXPENSE' and e.id = i.source_id
        left join milestone m on i.source_type = 'MILESTONE' and m.id = i.source_id
        left join fee_schedule_item f on i.source_type = 'FIXED_FEE' and f.id = i.source_id
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
    with inv as (select invoice.id, invoice.legal_entity_id from invoice where ${scope}),
    ev as (
      select de.entity_id as invoice_id,
             min(de.occurred_at) filter (where de.type = 'invoice.created') as generated,
             min(de.occurred_at) filter (where de.type = 'invoice.status_changed' and de.payload->>'to' = 'ISSUED') as issued,
             min(de.occurred_at) filter (where de.type = 'invoice.status_changed' and de.payload->>'to' = 'POSTED') as posted,
             min(de.occurred_at) filter (where de.type = 'invoice.status_changed' and de.payload->>'to' = 'PAID') as paid
        from domain_event de
       where de.entity_type = 'invoice' and de.type in ('invoice.created', 'invoice.status_changed')
         and de.entity_id in (select id from inv)
       group by de.entity_id
    ),
    approved as (
      select l.invoice_id, min(coalesce(te.approved_at, e.approved_at, m.approved_at)) as approved
        from invoice_line l
        join billing_event be on be.id = l.billing_event_id
        left join time_entry te on be.source_type = 'TIME' and te.id = be.source_id
        left join expense e on be.source_type = 'EXPENSE' and e.id = be.source_id
        left join milestone m on be.source_type = 'MILESTONE' and m.id = be.source_id
       where l.voided_at is null and l.invoice_id in (select id from inv)
       group by l.invoice_id
    ),
    s as (
      select to_char(ev.generated at time zone 'UTC', 'YYYY-MM') as month, inv.legal_entity_id, st.step,
             st.stage, st.duration
        from ev
        join inv on inv.id = ev.invoice_id
        left join approved a on a.invoice_id = ev.invoice_id
        cross join lateral (values
          (1, 'APPROVED_TO_GENERATED', ev.generated - a.approved),
          (2, 'GENERATED_TO_ISSUED', ev.issued - ev.generated),
          (3, 'ISSUED_TO_POSTED', ev.posted - ev.issued),
          (4, 'ISSUED_TO_PAID', ev.paid - ev.issued),
          (5, 'GENERATED_TO_PAID', ev.paid - ev.generated)) as st(step, stage, duration)
       where ev.generated is not null and st.duration is not null
         and (ev.generated at time zone 'UTC')::date <= ${asOf}
    )
    select s.month, le.code as legal_entity, s.stage, count(*)::int as invoices,
           ${percentileDays(0.5)} as p50, ${percentileDays(0.9)} as p90
      from s join legal_entity le on le.id = s.legal_entity_id
     group by s.month, le.code, s.step, s.stage
     order by s.month, le.code, s.step`);
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
