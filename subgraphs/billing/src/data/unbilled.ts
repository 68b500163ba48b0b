/**
 * Unbilled value per project, contract or customer, in SQL numeric (never JS numbers): what the
 * firm has earned or approved but not yet put on an invoice. It follows the rules of runBilling
 * (db/src/lifecycle/billing.ts), so "unbilled" is what the next billing run would bill plus what
 * the last one billed but nobody has invoiced yet:
 * - time: APPROVED, billable time entries without a live (READY/INVOICED) billing event, valued at
 *   hours × the entry's bill-rate snapshot rounded half-even to cents per entry, on
 *   TIME_AND_MATERIALS contracts (retainer hours and their overage count once billing has run);
 * - expenses: APPROVED, billable expenses without a live billing event, on TIME_AND_MATERIALS and
 *   RETAINER contracts;
 * - milestones: APPROVED milestones without a live billing event, on MILESTONE contracts;
 * - fixed fees: SCHEDULED fee schedule items due today or earlier (contract and customer totals
 *   only: a fee belongs to the contract, not to a project);
 * - ready: READY billing events (created by a billing run, not on an invoice yet).
 * Contract status is not a filter: approved work on a terminated contract is still unbilled.
 * Amounts are grouped per currency: money in different currencies is never added up.
 * "Customer" means the customer's own projects and contracts, not its children's.
 */
import { type Db, uuidArray } from "@pshub/db";
import { sql } from "drizzle-orm";

export type UnbilledScope = "project" | "contract" | "customer";

/** One currency's unbilled figures for one project, contract or customer. Decimal strings. */
export interface UnbilledRow {
  key: string;
  currency: string;
  timeHours: string;
  timeAmount: string;
  expenseAmount: string;
  milestoneAmount: string;
  fixedFeeAmount: string;
  readyAmount: string;
  readyCount: number;
  total: string;
}

/** Column of `project` and of `billing_event` that holds the scope's id. */
const SCOPE_COLUMNS: Record<
  UnbilledScope,
  { project: string; event: string; contract: string | null }
> = {
  project: { project: "p.id", event: "be.project_id", contract: null },
  contract: { project: "p.contract_id", event: "be.contract_id", contract: "c.id" },
  customer: { project: "p.customer_id", event: "be.customer_id", contract: "c.customer_id" },
};

/**
 * Unbilled totals for many projects / contracts / customers in ONE statement. Returns, per id,
 * one row per currency (sorted by currency); ids with nothing unbilled get [].
 */
export async function unbilledTotals(
  db: Db,
  scope: UnbilledScope,
  ids: readonly string[],
): Promise<UnbilledRow[][]> {
  if (ids.length === 0) return [];
  const columns = SCOPE_COLUMNS[scope];
  const pkey = sql.raw(columns.project);
  const ekey = sql.raw(columns.event);
  const keys = uuidArray([...new Set(ids)]);
  const notBilled = (sourceType: string, sourceId: string) =>
    sql`not exists (select 1 from billing_event b2 where b2.source_type = ${sql.raw(`'${sourceType}'`)} and b2.source_id = ${sql.raw(sourceId)} and b2.status <> 'VOID')`;
  // Fees belong to the contract: they count for contracts and customers, not for projects.
  const feeBranch = columns.contract
    ? sql`union all
      select ${sql.raw(columns.contract)}, f.currency, 0, 0, 0, 0, f.amount, 0, 0
        from fee_schedule_item f
        join contract c on c.id = f.contract_id
       where ${sql.raw(columns.contract)} = any(${keys})
         and f.status = 'SCHEDULED' and f.due_date <= (now() at time zone 'UTC')::date
         and c.billing_model = 'FIXED_FEE'
         and ${notBilled("FIXED_FEE", "f.id")}`
    : sql``;
  const rows = await db.execute<{
    key: string;
    currency: string;
    time_hours: string;
    time_amount: string;
    expense_amount: string;
    milestone_amount: string;
    fixed_fee_amount: string;
    ready_amount: string;
    ready_count: number;
    total: string;
  }>(sql`
    with items as (
      select ${pkey} as key, te.currency, te.hours as hours,
             pshub_round_half_even(te.hours * te.bill_rate, 2) as time_amount,
             0::numeric as expense_amount, 0::numeric as milestone_amount,
             0::numeric as fixed_fee_amount, 0::numeric as ready_amount, 0 as ready_count
        from time_entry te
        join project p on p.id = te.project_id
        join contract c on c.id = p.contract_id
       where ${pkey} = any(${keys})
         and te.status = 'APPROVED' and te.billable
         and c.billing_model = 'TIME_AND_MATERIALS'
         and ${notBilled("TIME", "te.id")}
      union all
      select ${pkey}, e.currency, 0, 0, e.amount, 0, 0, 0, 0
        from expense e
        join project p on p.id = e.project_id
        join contract c on c.id = p.contract_id
       where ${pkey} = any(${keys})
         and e.status = 'APPROVED' and e.billable
         and c.billing_model in ('TIME_AND_MATERIALS', 'RETAINER')
         and ${notBilled("EXPENSE", "e.id")}
      union all
      select ${pkey}, m.currency, 0, 0, 0, m.amount, 0, 0, 0
        from milestone m
        join project p on p.id = m.project_id
        join contract c on c.id = p.contract_id
       where ${pkey} = any(${keys})
         and m.status = 'APPROVED'
         and c.billing_model = 'MILESTONE'
         and ${notBilled("MILESTONE", "m.id")}
      ${feeBranch}
      union all
      select ${ekey}, be.currency, 0, 0, 0, 0, 0, be.amount, 1
        from billing_event be
       where ${ekey} = any(${keys}) and be.status = 'READY'
    )
    select key::text as key, currency::text as currency,
           sum(hours)::numeric(12, 2)::text as time_hours,
           sum(time_amount)::numeric(18, 2)::text as time_amount,
           sum(expense_amount)::numeric(18, 2)::text as expense_amount,
           sum(milestone_amount)::numeric(18, 2)::text as milestone_amount,
           sum(fixed_fee_amount)::numeric(18, 2)::text as fixed_fee_amount,
           sum(ready_amount)::numeric(18, 2)::text as ready_amount,
           sum(ready_count)::int as ready_count,
           sum(time_amount + expense_amount + milestone_amount + fixed_fee_amount + ready_amount)::numeric(18, 2)::text as total
      from items
     group by key, currency
     order by key, currency
  `);
  const byKey = new Map<string, UnbilledRow[]>();
  for (const row of rows) {
    const entry: UnbilledRow = {
      key: row.key,
      currency: row.currency,
      timeHours: row.time_hours,
      timeAmount: row.time_amount,
      expenseAmount: row.expense_amount,
      milestoneAmount: row.milestone_amount,
      fixedFeeAmount: row.fixed_fee_amount,
      readyAmount: row.ready_amount,
      readyCount: Number(row.ready_count),
      total: row.total,
    };
    const list = byKey.get(row.key);
    if (list) list.push(entry);
    else byKey.set(row.key, [entry]);
  }
  return ids.map((id) => byKey.get(id.toLowerCase()) ?? []);
}
