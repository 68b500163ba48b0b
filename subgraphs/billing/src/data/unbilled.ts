/**
 * Unbilled value per project, contract or customer, in SQL numeric (never JS numbers).
 *
 * Unbilled = what the firm has earned or approved but not yet put on an invoice:
 * - approved, billable time entries without a live (READY/INVOICED) billing event, valued at
 *   hours × the entry's bill-rate snapshot rounded half-even to cents per entry, on
 *   TIME_AND_MATERIALS contracts only (fixed fees, retainers and milestones bill by their own
 *   schedule; retainer overage counts once a billing run has turned it into an event);
 * - approved, billable expenses without a live billing event (any billing model);
 * - APPROVED milestones without a live billing event (MILESTONE contracts);
 * - READY billing events (a billing run created them; no invoice line yet).
 * Amounts are grouped per currency: money in different currencies is never added up.
 * "Customer" means the customer's own projects and contracts, not its children's.
 */
import type { Db } from "@pshub/db";
import { sql } from "drizzle-orm";
import { uuidArray } from "./sql-util.ts";

export type UnbilledScope = "project" | "contract" | "customer";

/** One currency's unbilled figures for one project, contract or customer. Decimal strings. */
export interface UnbilledRow {
  key: string;
  currency: string;
  timeHours: string;
  timeAmount: string;
  expenseAmount: string;
  milestoneAmount: string;
  readyAmount: string;
  readyCount: number;
  total: string;
}

/** Column of `project` and of `billing_event` that holds the scope's id. */
const SCOPE_COLUMNS: Record<UnbilledScope, { project: string; event: string }> = {
  project: { project: "p.id", event: "be.project_id" },
  contract: { project: "p.contract_id", event: "be.contract_id" },
  customer: { project: "p.customer_id", event: "be.customer_id" },
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
  const rows = await db.execute<{
    key: string;
    currency: string;
    time_hours: string;
    time_amount: string;
    expense_amount: string;
    milestone_amount: string;
    ready_amount: string;
    ready_count: number;
    total: string;
  }>(sql`
    with items as (
      select ${pkey} as key, te.currency, te.hours as hours,
             pshub_round_half_even(te.hours * te.bill_rate, 2) as time_amount,
             0::numeric as expense_amount, 0::numeric as milestone_amount,
             0::numeric as ready_amount, 0 as ready_count
        from time_entry te
        join project p on p.id = te.project_id
        join contract c on c.id = p.contract_id
       where ${pkey} = any(${keys})
         and te.status = 'APPROVED' and te.billable
         and c.billing_model = 'TIME_AND_MATERIALS'
         and ${notBilled("TIME", "te.id")}
      union all
      select ${pkey}, e.currency, 0, 0, e.amount, 0, 0, 0
        from expense e
        join project p on p.id = e.project_id
       where ${pkey} = any(${keys})
         and e.status = 'APPROVED' and e.billable
         and ${notBilled("EXPENSE", "e.id")}
      union all
      select ${pkey}, m.currency, 0, 0, 0, m.amount, 0, 0
        from milestone m
        join project p on p.id = m.project_id
        join contract c on c.id = p.contract_id
       where ${pkey} = any(${keys})
         and m.status = 'APPROVED'
         and c.billing_model = 'MILESTONE'
         and ${notBilled("MILESTONE", "m.id")}
      union all
      select ${ekey}, be.currency, 0, 0, 0, 0, be.amount, 1
        from billing_event be
       where ${ekey} = any(${keys}) and be.status = 'READY'
    )
    select key::text as key, currency::text as currency,
           sum(hours)::numeric(12, 2)::text as time_hours,
           sum(time_amount)::numeric(18, 2)::text as time_amount,
           sum(expense_amount)::numeric(18, 2)::text as expense_amount,
           sum(milestone_amount)::numeric(18, 2)::text as milestone_amount,
           sum(ready_amount)::numeric(18, 2)::text as ready_amount,
           sum(ready_count)::int as ready_count,
           sum(time_amount + expense_amount + milestone_amount + ready_amount)::numeric(18, 2)::text as total
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
