/**
 * What is billable up to a period end: the ONE definition of billing eligibility. runBilling
 * (./billing.ts) inserts exactly these rows as billing events; the unbilled totals (./unbilled.ts)
 * add them up. Each rule is a SQL fragment over the contract alias `c`; `scope` narrows the
 * contracts (a condition over `c`), `periodEnd` is a SQL date.
 *
 * A contract is billed while ACTIVE or COMPLETED (a DRAFT one has not started, a TERMINATED one
 * bills nothing more). Per billing model:
 * - TIME_AND_MATERIALS: APPROVED billable time entries with work_date ≤ periodEnd, one event each
 *   (hours × the entry's rate snapshot, rounded half-even), period = the month worked;
 * - TIME_AND_MATERIALS and RETAINER: APPROVED billable expenses with incurred_on ≤ periodEnd (at
 *   cost), period = the month incurred;
 * - FIXED_FEE: SCHEDULED fee schedule items due ≤ periodEnd, period '';
 * - MILESTONE: APPROVED milestones of the contract's projects, period '';
 * - RETAINER: one event per month from the contract start to the month of periodEnd (within the
 *   end date), source = the contract, period 'YYYY-MM'; under proration DAILY a month the contract
 *   covers only in part bills retainer × days covered / days in month (half-even to cents), NONE
 *   bills it in full. Overage: within a month, approved billable hours beyond the retainer hours
 *   (under DAILY, that share of them), consumed in work_date order with already billed hours
 *   first, become TIME events for the hours above (an entry may be split).
 * Every rule also skips an item that already has a billing event for its (source type, source,
 * period), in any status: the unique key would refuse it.
 *
 * Each candidate row has the billing_event columns: contract_id, project_id, customer_id,
 * source_type, source_id, period, description, quantity, rate, amount, currency, correlation_id.
 */
import { type SQL, sql } from "drizzle-orm";

export type BillingSourceType = "TIME" | "EXPENSE" | "MILESTONE" | "FIXED_FEE" | "RETAINER";

/** Contracts a billing run bills. */
export const billableContract: SQL = sql`c.status in ('ACTIVE', 'COMPLETED')`;

/**
 * The billing models under which each kind of delivery item is billed (TIME: T&M per entry, and
 * retainer time through the retainer and its overage). Time, expenses or milestones of a contract
 * of another model are never billed as such (a fixed fee covers them).
 */
export const BILLED_UNDER = {
  TIME: ["TIME_AND_MATERIALS", "RETAINER"],
  EXPENSE: ["TIME_AND_MATERIALS", "RETAINER"],
  MILESTONE: ["MILESTONE"],
} as const;

/** `c.billing_model in (…)` for a kind's models. */
export function billedUnder(models: readonly string[]): SQL {
  return sql.raw(`c.billing_model in (${models.map((m) => `'${m}'`).join(", ")})`);
}

/** No billing event exists yet for this (source type, source id, period). */
function notYetBilled(sourceType: BillingSourceType, sourceId: SQL, period: SQL): SQL {
  return sql`not exists (select 1 from billing_event b0 where b0.source_type = ${sql.raw(`'${sourceType}'`)}
    and b0.source_id = ${sourceId} and b0.period = ${period})`;
}

/** The contract's first project (by start date, then code), for contract-level events. */
const firstProject = sql`(select p1.id from project p1 where p1.contract_id = c.id order by p1.start_date, p1.code limit 1)`;

/**
 * T&M time, in two parts so runBilling can mark the entries BILLED in the same pass that reads
 * them (`update time_entry te set … from ${joins} where ${where} returning ${columns}`):
 * `select ${columns} from time_entry te, ${joins} where ${where}` is the candidate list.
 */
export function timeRule(scope: SQL, periodEnd: SQL): { joins: SQL; where: SQL; columns: SQL } {
  return {
    joins: sql`project p join contract c on c.id = p.contract_id`,
    where: sql`p.id = te.project_id and te.status = 'APPROVED' and te.billable
      and te.work_date <= ${periodEnd} and c.billing_model = 'TIME_AND_MATERIALS'
      and ${billableContract} and ${scope}
      and ${notYetBilled("TIME", sql`te.id`, sql`to_char(te.work_date, 'YYYY-MM')`)}`,
    columns: sql`c.id as contract_id, te.project_id, c.customer_id, 'TIME' as source_type, te.id as source_id,
      to_char(te.work_date, 'YYYY-MM') as period,
      'Time ' || te.work_date || ': ' || te.hours || ' h' || coalesce(' - ' || te.description, '') as description,
      te.hours as quantity, te.bill_rate as rate, pshub_round_half_even(te.hours * te.bill_rate, 2) as amount,
      c.currency, c.correlation_id`,
  };
}

export function timeItems(scope: SQL, periodEnd: SQL): SQL {
  const rule = timeRule(scope, periodEnd);
  return sql`select ${rule.columns} from time_entry te, ${rule.joins} where ${rule.where}`;
}

export function expenseItems(scope: SQL, periodEnd: SQL): SQL {
  return sql`
    select c.id as contract_id, e.project_id, c.customer_id, 'EXPENSE' as source_type, e.id as source_id,
      to_char(e.incurred_on, 'YYYY-MM') as period,
      'Expense ' || e.incurred_on || ': ' || e.category || coalesce(' - ' || e.description, '') as description,
      1::numeric as quantity, e.amount as rate, e.amount, c.currency, c.correlation_id
    from expense e
    join project p on p.id = e.project_id
    join contract c on c.id = p.contract_id
    where e.status = 'APPROVED' and e.billable and e.incurred_on <= ${periodEnd}
      and ${billedUnder(BILLED_UNDER.EXPENSE)} and ${billableContract} and ${scope}
      and ${notYetBilled("EXPENSE", sql`e.id`, sql`to_char(e.incurred_on, 'YYYY-MM')`)}`;
}

export function fixedFeeItems(scope: SQL, periodEnd: SQL): SQL {
  return sql`
    select c.id as contract_id, ${firstProject} as project_id, c.customer_id, 'FIXED_FEE' as source_type,
      f.id as source_id, '' as period, f.description || ' (due ' || f.due_date || ')' as description,
      1::numeric as quantity, f.amount as rate, f.amount, c.currency, c.correlation_id
    from fee_schedule_item f
    join contract c on c.id = f.contract_id
    where f.status = 'SCHEDULED' and f.due_date <= ${periodEnd}
      and c.billing_model = 'FIXED_FEE' and ${billableContract} and ${scope}
      and ${notYetBilled("FIXED_FEE", sql`f.id`, sql`''`)}`;
}

export function milestoneItems(scope: SQL): SQL {
  return sql`
    select c.id as contract_id, m.project_id, c.customer_id, 'MILESTONE' as source_type, m.id as source_id,
      '' as period, 'Milestone: ' || m.name as description,
      1::numeric as quantity, m.amount as rate, m.amount, c.currency, c.correlation_id
    from milestone m
    join project p on p.id = m.project_id
    join contract c on c.id = p.contract_id
    where m.status = 'APPROVED' and ${billedUnder(BILLED_UNDER.MILESTONE)} and ${billableContract} and ${scope}
      and ${notYetBilled("MILESTONE", sql`m.id`, sql`''`)}`;
}

/**
 * Days of the month starting at `month` (a date, the 1st) that contract `c` covers, and the days
 * in that month. NONE counts every month as fully covered.
 */
function coveredDays(month: SQL): { covered: SQL; inMonth: SQL } {
  const last = sql`(${month} + interval '1 month - 1 day')::date`;
  const inMonth = sql`extract(day from ${last})::int`;
  return {
    covered: sql`(case when c.retainer_proration = 'DAILY'
      then greatest(0, least(${last}, coalesce(c.end_date, ${last})) - greatest(${month}::date, c.start_date) + 1)
      else ${inMonth} end)`,
    inMonth,
  };
}

/** The retainer amount billed for `month`: prorated by days covered under DAILY. */
export function retainerAmountFor(month: SQL): SQL {
  const { covered, inMonth } = coveredDays(month);
  return sql`pshub_round_half_even(c.retainer_amount * ${covered} / ${inMonth}, 2)`;
}

/** The retainer hours covered in `month`: prorated like the amount under DAILY. */
function retainerHoursFor(month: SQL): SQL {
  const { covered, inMonth } = coveredDays(month);
  return sql`pshub_round_half_even(c.retainer_hours * ${covered} / ${inMonth}, 2)`;
}

export function retainerItems(scope: SQL, periodEnd: SQL): SQL {
  const month = sql`m.month`;
  const { covered, inMonth } = coveredDays(month);
  return sql`
    select c.id as contract_id, ${firstProject} as project_id, c.customer_id, 'RETAINER' as source_type,
      c.id as source_id, to_char(${month}, 'YYYY-MM') as period,
      'Retainer ' || to_char(${month}, 'YYYY-MM') || ' (' ||
        case when ${covered} < ${inMonth} then ${covered} || '/' || ${inMonth} || ' days, ' else '' end ||
        ${retainerHoursFor(month)} || ' h)' as description,
      1::numeric as quantity, ${retainerAmountFor(month)} as rate, ${retainerAmountFor(month)} as amount,
      c.currency, c.correlation_id
    from contract c
    cross join lateral pshub_months(c.start_date, least(${periodEnd}, coalesce(c.end_date, ${periodEnd}))) as m(month)
    where c.billing_model = 'RETAINER' and c.start_date <= ${periodEnd} and ${billableContract} and ${scope}
      and ${notYetBilled("RETAINER", sql`c.id`, sql`to_char(${month}, 'YYYY-MM')`)}`;
}

/** Retainer time entries a run covers (by the retainer or an overage event); they become BILLED. */
export function retainerTimeWhere(scope: SQL, periodEnd: SQL): SQL {
  return sql`p.id = te.project_id and te.status = 'APPROVED' and te.billable and te.work_date <= ${periodEnd}
    and c.billing_model = 'RETAINER' and ${billableContract} and ${scope}`;
}

export function retainerOverageItems(scope: SQL, periodEnd: SQL): SQL {
  return sql`
    select contract_id, project_id, customer_id, 'TIME' as source_type, id as source_id, period,
      'Overage ' || work_date || ': ' || overage || ' h of ' || hours || ' h' as description,
      overage as quantity, bill_rate as rate, pshub_round_half_even(overage * bill_rate, 2) as amount,
      currency, correlation_id
    from (
      select w.*, least(w.hours, greatest(0, w.cum - w.covered_hours)) as overage
      from (
        select te.id, te.status, te.project_id, te.work_date, te.hours, te.bill_rate, c.id as contract_id,
          c.customer_id, c.currency, c.correlation_id, to_char(te.work_date, 'YYYY-MM') as period,
          ${retainerHoursFor(sql`date_trunc('month', te.work_date)::date`)} as covered_hours,
          sum(te.hours) over (partition by c.id, date_trunc('month', te.work_date)
            order by (te.status = 'BILLED') desc, te.work_date, te.id) as cum
        from time_entry te
        join project p on p.id = te.project_id
        join contract c on c.id = p.contract_id
        where te.status in ('APPROVED', 'BILLED') and te.billable and te.work_date <= ${periodEnd}
          and c.billing_model = 'RETAINER' and ${billableContract} and ${scope}
          -- Only the months that still have approved time can yield overage: the window runs over
          -- those, not over every billed month of every retainer (the same rows, far fewer read).
          and (te.project_id, date_trunc('month', te.work_date)) in (
            select ta.project_id, date_trunc('month', ta.work_date) from time_entry ta
             where ta.status = 'APPROVED' and ta.billable and ta.work_date <= ${periodEnd})
      ) as w
      where w.status = 'APPROVED'
    ) as o
    -- A probe of the unique key per overage row (a subplan), not an anti join that hashes every
    -- TIME billing event (60,000 at scale 40) for the few rows that reach here.
    where overage > 0
      and (select 1 from billing_event b0 where b0.source_type = 'TIME'
        and b0.source_id = o.id and b0.period = o.period) is null`;
}

/** Every rule's candidates, one list (for the unbilled totals and tests). */
export function billableItems(scope: SQL, periodEnd: SQL): SQL {
  return sql`${timeItems(scope, periodEnd)}
    union all ${expenseItems(scope, periodEnd)}
    union all ${fixedFeeItems(scope, periodEnd)}
    union all ${milestoneItems(scope)}
    union all ${retainerItems(scope, periodEnd)}
    union all ${retainerOverageItems(scope, periodEnd)}`;
}
