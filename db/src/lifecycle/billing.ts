/**
 * runBilling: turns what is billable up to a period end into READY billing events, set-based
 * (one INSERT … SELECT … ON CONFLICT DO NOTHING per rule), so it scales to hundreds of thousands
 * of time entries. Running it twice produces nothing new: the billed items change state, and the
 * unique key (source_type, source_id, period) refuses a second event for the same item anyway.
 *
 * What is billable — per billing model, and which contracts — is defined once, in ./billable.ts;
 * the unbilled totals (./unbilled.ts) add up the same rows. Billed items change state: time
 * entries, expenses, fee schedule items and milestones become BILLED (retainer months: every
 * approved billable entry of the month, covered by the retainer or billed as overage).
 *
 * Every created billing event emits `billing_event.created` (in the same statement).
 */
import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import {
  billableContract,
  expenseItems,
  fixedFeeItems,
  milestoneItems,
  retainerItems,
  retainerOverageItems,
  retainerTimeWhere,
  timeRule,
} from "./billable.ts";
import { fromCents, toCents } from "./money.ts";
import { defineOperation, id, isoDate, type OperationContext } from "./operation.ts";

export interface RunBillingResult {
  periodEnd: string;
  eventsCreated: number;
  /** Events created per source type. */
  bySourceType: Record<"TIME" | "EXPENSE" | "MILESTONE" | "FIXED_FEE" | "RETAINER", number>;
  /** Total amount of the created events per currency. */
  totals: { currency: string; amount: string }[];
  /** Contracts that got at least one new event. */
  contractIds: string[];
}

export const runBillingInput = z
  .object({
    contractId: id().optional(),
    customerId: id().optional(),
    periodEnd: isoDate(),
  })
  .refine((v) => !(v.contractId && v.customerId), {
    error: "give contractId or customerId (or neither, for all contracts), not both",
    path: ["contractId"],
  });

/** Events created by one run above which runBilling refreshes billing_event's statistics. */
const ANALYZE_AFTER = 10_000;

type Created = {
  source_type: string;
  currency: string;
  contract_id: string;
  n: number;
  amount: string;
};

export const runBilling = defineOperation({
  name: "runBilling",
  input: runBillingInput,
  async run(tx, ctx, input): Promise<RunBillingResult> {
    if (input.contractId) {
      const [c] = await tx.execute<{ id: string }>(
        sql`select id from contract where id = ${input.contractId}`,
      );
      if (!c)
        throw new ValidationError(`contract ${input.contractId} does not exist`, {
          field: "contractId",
        });
    }
    const scope = sql`(${input.contractId ?? null}::uuid is null or c.id = ${input.contractId ?? null}::uuid)
      and (${input.customerId ?? null}::uuid is null or c.customer_id = ${input.customerId ?? null}::uuid)`;
    const periodEnd = sql`${input.periodEnd}::date`;
    const created: Created[] = [];
    // Only the rules of the billing models in scope run (each rule scans its sources).
    const [present] = await tx.execute<{ models: string[] | null }>(
      sql`select array_agg(distinct c.billing_model::text) as models from contract c where ${billableContract} and ${scope}`,
    );
    const models = new Set(present?.models ?? []);
    const statements: SQL[] = [];
    if (models.has("TIME_AND_MATERIALS")) statements.push(timeAndMaterials(scope, periodEnd, ctx));
    if (models.has("TIME_AND_MATERIALS") || models.has("RETAINER")) {
      statements.push(expenses(scope, periodEnd, ctx));
    }
    if (models.has("FIXED_FEE")) statements.push(fixedFees(scope, periodEnd, ctx));
    if (models.has("MILESTONE")) statements.push(milestones(scope, ctx));
    if (models.has("RETAINER")) {
      // After the retainer months: the overage statement also marks their entries BILLED.
      statements.push(retainers(scope, periodEnd, ctx), retainerOverage(scope, periodEnd, ctx));
    }
    for (const statement of statements) {
      created.push(...(await tx.execute<Created>(statement)));
    }
    const total = created.reduce((n, row) => n + Number(row.n), 0);
    if (total >= ANALYZE_AFTER) {
      // A big run changes billing_event by orders of magnitude before autovacuum notices: fresh
      // statistics keep the generateInvoice calls that follow on the (contract, status) index.
      // Only the columns those plans filter on (contract_id, status, period); any ANALYZE also
      // refreshes the row count. A quarter of the CPU of analysing every column (0.07 s vs 0.30 s
      // at 47,000 events).
      await tx.execute(sql`analyze billing_event (contract_id, status, period)`);
    }
    const bySourceType: RunBillingResult["bySourceType"] = {
      TIME: 0,
      EXPENSE: 0,
      MILESTONE: 0,
      FIXED_FEE: 0,
      RETAINER: 0,
    };
    const totals = new Map<string, bigint>();
    const contracts = new Set<string>();
    let eventsCreated = 0;
    for (const row of created) {
      const n = Number(row.n);
      eventsCreated += n;
      bySourceType[row.source_type as keyof typeof bySourceType] += n;
      totals.set(row.currency, (totals.get(row.currency) ?? 0n) + toCents(row.amount));
      contracts.add(row.contract_id);
    }
    return {
      periodEnd: input.periodEnd,
      eventsCreated,
      bySourceType,
      totals: [...totals]
        .sort()
        .map(([currency, cents]) => ({ currency, amount: fromCents(cents) })),
      contractIds: [...contracts].sort(),
    };
  },
  auditRef: (input) =>
    input.contractId
      ? { entityType: "contract", entityId: input.contractId }
      : input.customerId
        ? { entityType: "customer", entityId: input.customerId }
        : null,
});

/**
 * The tail every rule shares: insert the candidate rows (CTE `candidates` with the billing_event
 * columns + `description`), emit one domain event per created row, mark the source rows billed
 * (`extraCtes`: more `name as (…)` CTEs over `ins`), and report counts per (source type,
 * currency, contract).
 */
function insertEvents(
  ctx: OperationContext,
  candidates: SQL,
  extraCtes: SQL | null,
  /** CTEs `candidates` reads from (data-modifying CTEs must be at the top level). */
  leadingCtes?: SQL,
): SQL {
  return sql`
    with ${leadingCtes ? sql`${leadingCtes}, ` : sql``}candidates as (${candidates}),
    ins as (
      insert into billing_event (contract_id, project_id, customer_id, source_type, source_id, period,
        description, quantity, rate, amount, currency, correlation_id)
      select contract_id, project_id, customer_id, source_type::billing_source_type, source_id, period,
        description, quantity, rate, amount, currency, correlation_id
      from candidates
      on conflict (source_type, source_id, period) do nothing
      returning id, contract_id, project_id, source_type, source_id, period, amount, currency, correlation_id
    ),
    events as (
      insert into domain_event (type, entity_type, entity_id, payload, correlation_id, causation_id, actor)
      select 'billing_event.created', 'billing_event', ins.id,
        jsonb_build_object('contractId', ins.contract_id, 'projectId', ins.project_id,
          'sourceType', ins.source_type, 'sourceId', ins.source_id, 'period', ins.period,
          'amount', ins.amount::text, 'currency', ins.currency),
        ins.correlation_id, ${ctx.requestId ?? null}::text, ${ctx.actor}::text
      from ins
      returning 1
    )${extraCtes ? sql`, ${extraCtes}` : sql``}
    select source_type::text, currency::text, contract_id, count(*)::int as n, sum(amount)::text as amount
    from ins group by 1, 2, 3`;
}

/**
 * T&M time, the bulk of a run: the eligible entries are marked BILLED in the same pass that reads
 * them (UPDATE … RETURNING feeds the INSERT), so the rows are visited once. A concurrent run waits
 * on the row locks, re-checks status = 'APPROVED' and skips them.
 */
function timeAndMaterials(scope: SQL, periodEnd: SQL, ctx: OperationContext): SQL {
  const rule = timeRule(scope, periodEnd);
  return insertEvents(
    ctx,
    sql`select * from billed`,
    null,
    sql`billed as (
        update time_entry te set status = 'BILLED', version = te.version + 1, updated_at = now()
        from ${rule.joins}
        where ${rule.where}
        returning ${rule.columns}
      )`,
  );
}

function expenses(scope: SQL, periodEnd: SQL, ctx: OperationContext): SQL {
  return insertEvents(
    ctx,
    expenseItems(scope, periodEnd),
    sql`marked as (
        update expense e set status = 'BILLED', version = e.version + 1, updated_at = now()
        from ins where ins.source_type = 'EXPENSE' and e.id = ins.source_id and e.status = 'APPROVED'
        returning 1)`,
  );
}

function fixedFees(scope: SQL, periodEnd: SQL, ctx: OperationContext): SQL {
  return insertEvents(
    ctx,
    fixedFeeItems(scope, periodEnd),
    sql`marked as (
        update fee_schedule_item f set status = 'BILLED', version = f.version + 1, updated_at = now()
        from ins where ins.source_type = 'FIXED_FEE' and f.id = ins.source_id and f.status = 'SCHEDULED'
        returning 1)`,
  );
}

function milestones(scope: SQL, ctx: OperationContext): SQL {
  return insertEvents(
    ctx,
    milestoneItems(scope),
    sql`marked as (
        update milestone m set status = 'BILLED', version = m.version + 1, updated_at = now()
        from ins where ins.source_type = 'MILESTONE' and m.id = ins.source_id and m.status = 'APPROVED'
        returning m.id, m.project_id, ins.correlation_id
      ),
      marked_events as (
        insert into domain_event (type, entity_type, entity_id, payload, correlation_id, causation_id, actor)
        select 'milestone.status_changed', 'milestone', marked.id,
          jsonb_build_object('from', 'APPROVED', 'to', 'BILLED', 'projectId', marked.project_id),
          marked.correlation_id, ${ctx.requestId ?? null}::text, ${ctx.actor}::text
        from marked
        returning 1
      )`,
  );
}

function retainers(scope: SQL, periodEnd: SQL, ctx: OperationContext): SQL {
  return insertEvents(ctx, retainerItems(scope, periodEnd), null);
}

/**
 * Retainer overage, and the BILLED marking of the retainer months' entries in the same statement:
 * every approved billable entry up to periodEnd is covered (by the retainer or an overage event)
 * and becomes BILLED. As for T&M time, an overage event is created only for an entry this
 * statement marked (a concurrent run, or a rejection committed meanwhile, leaves it alone); the
 * overage itself is worked out from the statement's snapshot, before the marking.
 */
function retainerOverage(scope: SQL, periodEnd: SQL, ctx: OperationContext): SQL {
  return insertEvents(
    ctx,
    sql`select * from (${retainerOverageItems(scope, periodEnd)}) as o
      where o.source_id in (select id from marked)`,
    null,
    sql`marked as (
        update time_entry te set status = 'BILLED', version = te.version + 1, updated_at = now()
        from project p join contract c on c.id = p.contract_id
        where ${retainerTimeWhere(scope, periodEnd)}
        returning te.id
      )`,
  );
}
