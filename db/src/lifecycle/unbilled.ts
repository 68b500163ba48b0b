/**
 * Unbilled value of projects, contracts and customers, in SQL numeric (never JS numbers):
 *
 *   unbilled = what a billing run up to `asOf` would bill now   (the rows of ./billable.ts, the
 *                                                                ones runBilling inserts)
 *            + READY billing events (billed by a run, on no invoice yet).
 *
 * So for any contract, the "next run" part is exactly what runBilling(contractId, asOf) then
 * bills (a property test holds both to it). An item counts for the project, contract and
 * customer its billing event has (fixed fees and retainer months: the contract's first project).
 * `customerHierarchy` rolls a customer up with every customer below it (children, their
 * children, …); `customer` is the customer alone. Amounts are grouped per currency: money in
 * different currencies is never added up. `asOf` defaults to today (UTC) by the database clock.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import { inLegalEntityScope, type LegalEntityScope } from "../legal-entity-scope.ts";
import { contract } from "../schema.ts";
import { uuidArray } from "../sql-array.ts";
import { billableItems } from "./billable.ts";

export type UnbilledScope = "project" | "contract" | "customer" | "customerHierarchy";

/** One currency's unbilled figures for one project, contract or customer. Decimal strings. */
export interface UnbilledRow {
  key: string;
  currency: string;
  /** Hours the next run would bill (T&M time and retainer overage). */
  timeHours: string;
  timeAmount: string;
  expenseAmount: string;
  milestoneAmount: string;
  fixedFeeAmount: string;
  retainerAmount: string;
  /** timeAmount + expenseAmount + milestoneAmount + fixedFeeAmount + retainerAmount. */
  nextRunAmount: string;
  readyAmount: string;
  readyCount: number;
  /** nextRunAmount + readyAmount. */
  total: string;
}

export interface UnbilledOptions {
  /** The billing run's period end (ISO date); default: today (UTC), database clock. */
  asOf?: string | null;
  /**
   * The caller's legal-entity scope: only contracts (and their billing events) of these legal
   * entities count — a customer's subsidiaries under another entity add nothing. Undefined = all.
   */
  legalEntities?: LegalEntityScope;
}

/**
 * Unbilled totals for many projects / contracts / customers in ONE statement. Returns, per id,
 * one row per currency (sorted by currency); ids with nothing unbilled get []. Ids must be uuids.
 */
export async function unbilledTotals(
  db: Pick<Db, "execute">,
  scope: UnbilledScope,
  ids: readonly string[],
  options: UnbilledOptions = {},
): Promise<UnbilledRow[][]> {
  if (ids.length === 0) return [];
  const keys = uuidArray([...new Set(ids)]);
  const asOf = options.asOf ? sql`${options.asOf}::date` : sql`(now() at time zone 'UTC')::date`;
  // Which contracts to look at (a condition over `c`), which rows count for which key.
  let contracts: SQL;
  let pendingKey: SQL;
  let eventKey: SQL;
  let tree = sql``;
  let pendingFrom = sql`pending x`;
  let eventFrom = sql`billing_event be`;
  switch (scope) {
    case "project":
      contracts = sql`c.id in (select pk.contract_id from project pk where pk.id = any(${keys}))`;
      pendingKey = sql`x.project_id`;
      eventKey = sql`be.project_id`;
      break;
    case "contract":
      contracts = sql`c.id = any(${keys})`;
      pendingKey = sql`x.contract_id`;
      eventKey = sql`be.contract_id`;
      break;
    case "customer":
      contracts = sql`c.customer_id = any(${keys})`;
      pendingKey = sql`x.customer_id`;
      eventKey = sql`be.customer_id`;
      break;
    case "customerHierarchy":
      // `union` (not `union all`) also ends a cyclic parent chain.
      tree = sql`tree (key, customer_id) as (
          select k, k from unnest(${keys}) as k
          union
          select tree.key, child.id from tree join customer child on child.parent_id = tree.customer_id
        ), `;
      contracts = sql`c.customer_id in (select customer_id from tree)`;
      pendingFrom = sql`pending x join tree on tree.customer_id = x.customer_id`;
      eventFrom = sql`billing_event be join tree on tree.customer_id = be.customer_id`;
      pendingKey = sql`tree.key`;
      eventKey = sql`tree.key`;
      break;
  }
  const entityScope = inLegalEntityScope(contract, options.legalEntities);
  if (entityScope) {
    // Correlated on the table name "contract": test it in a subquery over that table.
    const allowed = sql`(select ${contract.id} from ${contract} where ${entityScope})`;
    contracts = sql`${contracts} and c.id in ${allowed}`;
  }
  const eventEntity = entityScope
    ? sql` and be.contract_id in (select ${contract.id} from ${contract} where ${entityScope})`
    : sql``;
  const inScope = scope === "customerHierarchy" ? sql`true` : sql`${pendingKey} = any(${keys})`;
  const eventInScope = sql`${scope === "customerHierarchy" ? sql`true` : sql`${eventKey} = any(${keys})`}${eventEntity}`;
  const rows = await db.execute<{
    key: string;
    currency: string;
    time_hours: string;
    time_amount: string;
    expense_amount: string;
    milestone_amount: string;
    fixed_fee_amount: string;
    retainer_amount: string;
    next_run_amount: string;
    ready_amount: string;
    ready_count: number;
    total: string;
  }>(sql`
    with recursive ${tree}pending as (${billableItems(contracts, asOf)}),
    items as (
      select ${pendingKey} as key, x.currency, x.source_type::text as source_type,
             case when x.source_type = 'TIME' then x.quantity else 0 end as hours,
             x.amount, 0::numeric as ready, 0 as ready_count
        from ${pendingFrom}
       where ${inScope}
      union all
      select ${eventKey}, be.currency, 'READY', 0, 0, be.amount, 1
        from ${eventFrom}
       where be.status = 'READY' and ${eventInScope}
    )
    select key::text as key, currency::text as currency,
           sum(hours)::numeric(12, 2)::text as time_hours,
           sum(amount) filter (where source_type = 'TIME')::numeric(18, 2)::text as time_amount,
           sum(amount) filter (where source_type = 'EXPENSE')::numeric(18, 2)::text as expense_amount,
           sum(amount) filter (where source_type = 'MILESTONE')::numeric(18, 2)::text as milestone_amount,
           sum(amount) filter (where source_type = 'FIXED_FEE')::numeric(18, 2)::text as fixed_fee_amount,
           sum(amount) filter (where source_type = 'RETAINER')::numeric(18, 2)::text as retainer_amount,
           sum(amount)::numeric(18, 2)::text as next_run_amount,
           sum(ready)::numeric(18, 2)::text as ready_amount,
           sum(ready_count)::int as ready_count,
           sum(amount + ready)::numeric(18, 2)::text as total
      from items
     group by key, currency
     order by key, currency
  `);
  const zero = (v: string | null) => v ?? "0.00";
  const byKey = new Map<string, UnbilledRow[]>();
  for (const row of rows) {
    const entry: UnbilledRow = {
      key: row.key,
      currency: row.currency,
      timeHours: row.time_hours,
      timeAmount: zero(row.time_amount),
      expenseAmount: zero(row.expense_amount),
      milestoneAmount: zero(row.milestone_amount),
      fixedFeeAmount: zero(row.fixed_fee_amount),
      retainerAmount: zero(row.retainer_amount),
      nextRunAmount: row.next_run_amount,
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
