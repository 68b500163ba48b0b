/**
 * Billing leakage: approved billable work that has waited longer than a given age and is still on
 * no invoice, each item with the reason it is not billed. The eligibility test is the one
 * definition (./billable.ts): an item the rules there would bill now is NOT_BILLED_YET (a billing
 * run has not taken it); an item they would not bill gets the first reason that applies:
 *
 * 1. AWAITING_INVOICE — a run billed it (a READY billing event) and no invoice carries it yet;
 * 2. CONTRACT_NOT_ACTIVE — its contract is DRAFT or TERMINATED (only ACTIVE and COMPLETED bill);
 * 3. NO_BILLING_RULE — its contract's billing model bills no such item (BILLED_UNDER);
 * 4. BILLING_EVENT_VOIDED — a VOID billing event holds its (source, period) key: no run bills it again;
 * 5. EXCEPTION_OPEN — an open sync exception names it, its project, contract or customer;
 * 6. NOT_BILLED_YET — eligible now: the next billing run of its contract bills it;
 * 7. NOT_ELIGIBLE — none of the above (e.g. retainer time a billed month already covers).
 *
 * Items: APPROVED billable time entries, APPROVED billable expenses, APPROVED milestones, and READY
 * billing events (any source). Age = asOf − approval day (UTC; the work / expense / due date when
 * no approval time is recorded; READY events: their source's approval, else the event's day).
 */
import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../client.ts";
import {
  BILLED_UNDER,
  billableContract,
  billedUnder,
  expenseItems,
  milestoneItems,
  retainerTimeWhere,
  timeRule,
} from "./billable.ts";

export type LeakageReason =
  | "AWAITING_INVOICE"
  | "CONTRACT_NOT_ACTIVE"
  | "NO_BILLING_RULE"
  | "BILLING_EVENT_VOIDED"
  | "EXCEPTION_OPEN"
  | "NOT_BILLED_YET"
  | "NOT_ELIGIBLE";

export interface LeakageItem {
  /** TIME, EXPENSE, MILESTONE (the delivery item), or a READY event's source type. */
  kind: string;
  /** The time entry, expense, milestone — or a READY event's source (fee item, contract). */
  itemId: string;
  /** The READY billing event (AWAITING_INVOICE only). */
  billingEventId: string | null;
  legalEntity: string;
  customerId: string;
  contractId: string;
  projectId: string | null;
  currency: string;
  /** Hours (time only; "0.00" otherwise). */
  hours: string;
  /** The item's value at its rate: hours × rate half-even, the expense, the milestone, the event. */
  amount: string;
  approvedOn: string;
  ageDays: number;
  reason: LeakageReason;
  /** What the reason refers to, e.g. "contract DRAFT", "FIXED_FEE bills no TIME", an exception's code. */
  detail: string | null;
}

export interface LeakageOptions {
  /** The day ages are measured to (ISO date). */
  asOf: string;
  /** Only items approved more than this many days before asOf. */
  olderThanDays: number;
  /** A condition over the contract alias `c` (legal-entity scope); default all. */
  contracts?: SQL;
}

/**
 * The leakage list in one statement, oldest first (then kind, item id). Amounts are SQL numeric,
 * returned as decimal strings.
 */
export async function billingLeakage(
  db: Pick<Db, "execute">,
  options: LeakageOptions,
): Promise<LeakageItem[]> {
  const asOf = sql`${options.asOf}::date`;
  const contracts = options.contracts ?? sql`true`;
  const time = timeRule(contracts, asOf);
  const modelsOk = sql`case i.kind
      when 'TIME' then ${billedUnder(BILLED_UNDER.TIME)}
      when 'EXPENSE' then ${billedUnder(BILLED_UNDER.EXPENSE)}
      when 'MILESTONE' then ${billedUnder(BILLED_UNDER.MILESTONE)}
      else true end`;
  const rows = await db.execute<Record<string, unknown>>(sql`
    with items as (
      select 'TIME' as kind, te.id as item_id, null::uuid as billing_event_id, te.project_id, c.id as contract_id,
             te.hours, pshub_round_half_even(te.hours * te.bill_rate, 2) as amount,
             coalesce((te.approved_at at time zone 'UTC')::date, te.work_date) as approved_on,
             (${time.where}) or (${retainerTimeWhere(contracts, asOf)}) as eligible
        from time_entry te join project p on p.id = te.project_id join contract c on c.id = p.contract_id
       where te.status = 'APPROVED' and te.billable and te.work_date <= ${asOf} and ${contracts}
      union all
      select 'EXPENSE', e.id, null, e.project_id, c.id, 0, e.amount,
             coalesce((e.approved_at at time zone 'UTC')::date, e.incurred_on),
             e.id in (select x.source_id from (${expenseItems(contracts, asOf)}) x)
        from expense e join project p on p.id = e.project_id join contract c on c.id = p.contract_id
       where e.status = 'APPROVED' and e.billable and e.incurred_on <= ${asOf} and ${contracts}
      union all
      select 'MILESTONE', m.id, null, m.project_id, c.id, 0, m.amount,
             coalesce((m.approved_at at time zone 'UTC')::date, m.due_date),
             m.id in (select x.source_id from (${milestoneItems(contracts)}) x)
        from milestone m join project p on p.id = m.project_id join contract c on c.id = p.contract_id
       where m.status = 'APPROVED' and ${contracts}
      union all
      select be.source_type::text, be.source_id, be.id, be.project_id, be.contract_id,
             case when be.source_type = 'TIME' then be.quantity else 0 end, be.amount,
             -- One primary-key probe per READY event (a few thousand), not a join of every entry.
             coalesce((case be.source_type
                 when 'TIME' then (select te.approved_at from time_entry te where te.id = be.source_id)
                 when 'EXPENSE' then (select e.approved_at from expense e where e.id = be.source_id)
                 when 'MILESTONE' then (select m.approved_at from milestone m where m.id = be.source_id)
               end at time zone 'UTC')::date, (be.created_at at time zone 'UTC')::date),
             null::boolean
        from billing_event be join contract c on c.id = be.contract_id
       where be.status = 'READY' and ${contracts}
    ),
    -- The open exceptions are few: read them once, not once per item.
    open_exception as materialized (
      select x0.id, x0.code, x0.owner::text as owner, x0.entity_type, x0.entity_id, x0.created_at
        from sync_exception x0 where x0.status in ('OPEN', 'RETRYING') and x0.entity_id is not null),
    old as (
      select i.*, ${asOf} - i.approved_on as age from items i
       where i.approved_on <= ${asOf} and ${asOf} - i.approved_on > ${options.olderThanDays}
    )
    select i.kind, i.item_id::text, i.billing_event_id::text, le.code as legal_entity, c.customer_id::text,
           c.id::text as contract_id, i.project_id::text, c.currency::text as currency,
           i.hours::numeric(12, 2)::text as hours, i.amount::numeric(18, 2)::text as amount,
           i.approved_on::text, i.age,
           case
             when i.billing_event_id is not null then 'AWAITING_INVOICE'
             when not (${billableContract}) then 'CONTRACT_NOT_ACTIVE'
             when not (${modelsOk}) then 'NO_BILLING_RULE'
             when v.id is not null then 'BILLING_EVENT_VOIDED'
             when x.code is not null then 'EXCEPTION_OPEN'
             when i.eligible then 'NOT_BILLED_YET'
             else 'NOT_ELIGIBLE' end as reason,
           case
             when i.billing_event_id is not null then null
             when not (${billableContract}) then 'contract ' || c.status
             when not (${modelsOk}) then c.billing_model || ' bills no ' || i.kind
             when v.id is not null then 'billing event ' || v.id || ' is VOID'
             when x.code is not null then x.code || ' (' || x.owner || ', ' || x.entity_type || ')'
             end as detail
      from old i
      join contract c on c.id = i.contract_id
      join legal_entity le on le.id = c.legal_entity_id
      left join lateral (
        select v0.id from billing_event v0
         where i.billing_event_id is null and v0.source_type = i.kind::billing_source_type
           and v0.source_id = i.item_id
           and v0.status = 'VOID' limit 1) v on true
      left join lateral (
        select x0.code, x0.owner, x0.entity_type from open_exception x0
         where i.billing_event_id is null
           and ((x0.entity_type = case i.kind when 'TIME' then 'time_entry' when 'EXPENSE' then 'expense'
                                   else 'milestone' end and x0.entity_id = i.item_id)
             or (x0.entity_type = 'project' and x0.entity_id = i.project_id)
             or (x0.entity_type = 'contract' and x0.entity_id = c.id)
             or (x0.entity_type = 'customer' and x0.entity_id = c.customer_id))
         order by x0.created_at, x0.id limit 1) x on true
     order by i.age desc, i.kind, i.item_id`);
  return rows.map((r) => ({
    kind: String(r.kind),
    itemId: String(r.item_id),
    billingEventId: r.billing_event_id == null ? null : String(r.billing_event_id),
    legalEntity: String(r.legal_entity),
    customerId: String(r.customer_id),
    contractId: String(r.contract_id),
    projectId: r.project_id == null ? null : String(r.project_id),
    currency: String(r.currency),
    hours: String(r.hours),
    amount: String(r.amount),
    approvedOn: String(r.approved_on),
    ageDays: Number(r.age),
    reason: r.reason as LeakageReason,
    detail: r.detail == null ? null : String(r.detail),
  }));
}
