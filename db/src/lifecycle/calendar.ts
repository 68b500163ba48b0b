/**
 * The billing calendar: approved work becomes invoices without anyone pressing buttons. Per
 * contract a `billing_schedule` (on/off, kind, auto-issue) says when; a scheduler process calls
 * {@link runBillingCalendar} every tick, which finds the runs due and bills each in ONE
 * transaction: runBilling → generateInvoice → (autoIssue) issueInvoice, plus the `billing_run` row
 * for (contract, period). That row's unique key is what makes the calendar idempotent: a second
 * scheduler waits on the key and then finds the period done; a restart mid-run rolled everything
 * back, the key included, and bills the period afresh. The scheduler's leader lock only saves work.
 *
 * Periods (the key's `period`), all on the database's clock unless a test gives `today`/`now`:
 * - MONTHLY: the last completed month 'YYYY-MM', billed up to its last day (only the latest
 *   month is run: runBilling bills everything up to its period end, older months included);
 * - MILESTONE: 'M:<milestone id>' for the first APPROVED milestone of the contract's projects,
 *   billed up to today (runBilling bills every approved milestone at once);
 * - FIXED_FEE_DATES: 'F:<due date>' for the latest due date of SCHEDULED fee items due by today,
 *   billed up to that date;
 * - MONTHLY under `periodSeconds` (the demo under `npm start`): n-second slices
 *   'S<n>:<slice start>', billed up to today.
 * A run that finds nothing to invoice is recorded as NOTHING_TO_BILL. A refused run (no tax rate,
 * …) is FAILED with the error, raises a FINANCE sync exception (or the operation's own), and is
 * retried after `retryAfterSeconds`; a lock conflict or a lost connection records nothing and is
 * retried on the next tick.
 */
import { sql } from "drizzle-orm";
import { z } from "zod";
import { writeAudit } from "../audit.ts";
import type { Db, Tx } from "../client.ts";
import { ConflictError, DomainError, ValidationError } from "../errors.ts";
import { billingSchedule, contract } from "../schema.ts";
import { raiseSyncException } from "../sync-exceptions.ts";
import { runBilling } from "./billing.ts";
import { generateInvoice, type InvoiceRow, issueInvoice } from "./invoicing.ts";
import {
  defineOperation,
  execute,
  id,
  type OperationContext,
  RemediableError,
  toDomainError,
} from "./operation.ts";
import { lockOne } from "./rows.ts";

export type BillingScheduleRow = typeof billingSchedule.$inferSelect;
export type BillingScheduleKind = BillingScheduleRow["kind"];

/** The schedule kind a contract's billing model bills by, unless told otherwise. */
const DEFAULT_KIND: Record<string, BillingScheduleKind> = {
  TIME_AND_MATERIALS: "MONTHLY",
  RETAINER: "MONTHLY",
  FIXED_FEE: "FIXED_FEE_DATES",
  MILESTONE: "MILESTONE",
};

/**
 * Turns a contract's billing calendar on or off (and sets its kind and auto-issue). MONTHLY fits
 * every billing model; MILESTONE needs a MILESTONE contract, FIXED_FEE_DATES a FIXED_FEE one.
 * Omitted fields keep their current value (or the defaults: the model's kind, no auto-issue).
 */
export const setBillingSchedule = defineOperation({
  name: "setBillingSchedule",
  input: z.object({
    contractId: id(),
    enabled: z.boolean(),
    kind: z.enum(["MONTHLY", "MILESTONE", "FIXED_FEE_DATES"]).optional(),
    autoIssue: z.boolean().optional(),
  }),
  async run(tx, ctx, input): Promise<BillingScheduleRow> {
    const c = await lockOne(tx, contract, "contract", input.contractId);
    const [current] = await tx.execute<{ kind: BillingScheduleKind; auto_issue: boolean }>(
      sql`select kind, auto_issue from billing_schedule where contract_id = ${c.id} for update`,
    );
    const kind = input.kind ?? current?.kind ?? DEFAULT_KIND[c.billingModel] ?? "MONTHLY";
    const needs: Partial<Record<BillingScheduleKind, string>> = {
      MILESTONE: "MILESTONE",
      FIXED_FEE_DATES: "FIXED_FEE",
    };
    const model = needs[kind];
    if (model && c.billingModel !== model) {
      throw new ValidationError(
        `a ${kind} billing schedule needs a ${model} contract; contract ${c.number} is ${c.billingModel} (use MONTHLY)`,
        { field: "kind", reason: "KIND_DOES_NOT_FIT_MODEL", billingModel: c.billingModel },
      );
    }
    const autoIssue = input.autoIssue ?? current?.auto_issue ?? false;
    const [row] = await tx
      .insert(billingSchedule)
      .values({ contractId: c.id, kind, enabled: input.enabled, autoIssue, updatedBy: ctx.actor })
      .onConflictDoUpdate({
        target: billingSchedule.contractId,
        set: {
          kind,
          enabled: input.enabled,
          autoIssue,
          updatedBy: ctx.actor,
          version: sql`${billingSchedule.version} + 1`,
          updatedAt: sql`now()`,
        },
      })
      .returning();
    return row!;
  },
  auditRef: (input) => ({ entityType: "contract", entityId: input.contractId }),
});

/** One billing run the calendar owes now. */
export interface DueBillingRun {
  contractId: string;
  kind: BillingScheduleKind;
  period: string;
  periodEnd: string;
  autoIssue: boolean;
}

export interface CalendarClock {
  /** The calendar day (default: the database's current_date). */
  today?: string;
  /** The instant, for n-second demo periods (default: the database's now()). */
  now?: Date;
  /** MONTHLY schedules bill n-second slices instead of months (the demo). */
  periodSeconds?: number;
}

/** The runs due: per enabled schedule of a billed contract, its period if not done yet. */
export async function dueBillingRuns(
  db: Db | Tx,
  clock: CalendarClock = {},
): Promise<DueBillingRun[]> {
  const today = clock.today ? sql`${clock.today}::date` : sql`current_date`;
  const now = clock.now ? sql`${clock.now.toISOString()}::timestamptz` : sql`now()`;
  const n = clock.periodSeconds && clock.periodSeconds > 0 ? Math.floor(clock.periodSeconds) : 0;
  const monthly = n
    ? sql`select s.contract_id, s.kind, s.auto_issue,
          'S' || ${n}::int || ':' || to_char(to_timestamp((floor(extract(epoch from ${now}) / ${n}::int) - 1) * ${n}::int)
            at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as period,
          ${today} as period_end
        from s where s.kind = 'MONTHLY'`
    : sql`select s.contract_id, s.kind, s.auto_issue,
          to_char(date_trunc('month', ${today})::date - 1, 'YYYY-MM') as period,
          date_trunc('month', ${today})::date - 1 as period_end
        from s where s.kind = 'MONTHLY' and s.start_date <= date_trunc('month', ${today})::date - 1`;
  const rows = await db.execute<{
    contract_id: string;
    kind: BillingScheduleKind;
    auto_issue: boolean;
    period: string;
    period_end: string;
  }>(sql`
    with s as (
      select bs.contract_id, bs.kind, bs.auto_issue, c.start_date
      from billing_schedule bs join contract c on c.id = bs.contract_id
      where bs.enabled and c.status in ('ACTIVE', 'COMPLETED')
    ),
    due as (
      ${monthly}
      union all
      select distinct on (s.contract_id) s.contract_id, s.kind, s.auto_issue,
        'M:' || m.id as period, ${today} as period_end
      from s join project p on p.contract_id = s.contract_id join milestone m on m.project_id = p.id
      where s.kind = 'MILESTONE' and m.status = 'APPROVED'
      union all
      select s.contract_id, s.kind, s.auto_issue, 'F:' || max(f.due_date) as period,
        max(f.due_date) as period_end
      from s join fee_schedule_item f on f.contract_id = s.contract_id
      where s.kind = 'FIXED_FEE_DATES' and f.status = 'SCHEDULED' and f.due_date <= ${today}
      group by s.contract_id, s.kind, s.auto_issue
    )
    select due.contract_id, due.kind, due.auto_issue, due.period, to_char(due.period_end, 'YYYY-MM-DD') as period_end
    from due
    where not exists (
      select 1 from billing_run r where r.contract_id = due.contract_id and r.period = due.period
        and (r.status <> 'FAILED' or r.next_attempt_at > ${now}))
    order by due.contract_id`);
  return rows.map((r) => ({
    contractId: r.contract_id,
    kind: r.kind,
    period: r.period,
    periodEnd: r.period_end,
    autoIssue: r.auto_issue,
  }));
}

export type BillingRunOutcome =
  | { status: "INVOICED" | "ISSUED"; invoice: InvoiceRow; eventsCreated: number }
  | { status: "NOTHING_TO_BILL"; eventsCreated: number }
  /** Another scheduler has done (or is doing) this period, or the schedule was switched off. */
  | { status: "SKIPPED" }
  | { status: "FAILED"; error: DomainError };

export interface BillingRunOptions {
  /** Who runs it: the actor of audit rows and domain events (default "billing-calendar"). */
  actor?: string;
  /** Recorded on the billing_run row (which scheduler). */
  runner?: string;
  /** A FAILED run is tried again after this long (default 15 min). */
  retryAfterSeconds?: number;
  /** Test hook: called between the steps, inside the run's transaction. */
  onStep?: (step: "claimed" | "billed" | "invoiced" | "issued") => Promise<void>;
}

/**
 * Bills one (contract, period) once: the billing_run row, the billing events, the invoice and its
 * issue (with its ERP posting command) commit together or not at all.
 */
export async function runBillingPeriod(
  db: Db,
  due: DueBillingRun,
  options: BillingRunOptions = {},
): Promise<BillingRunOutcome> {
  const ctx: OperationContext = { actor: options.actor ?? "billing-calendar", requestId: null };
  const runner = options.runner ?? ctx.actor;
  const audit = (tx: Tx, outcome: string, extra: Record<string, unknown> = {}) =>
    writeAudit(tx, {
      actor: ctx.actor,
      operation: "billingCalendar",
      entityType: "contract",
      entityId: due.contractId,
      input: { ...due, runner, ...extra },
      outcome,
    });
  try {
    return await db.transaction(async (tx): Promise<BillingRunOutcome> => {
      // Switched off meanwhile? (FOR SHARE: setBillingSchedule waits for this run to end.)
      const [on] = await tx.execute<{ ok: boolean }>(sql`
        select true as ok from billing_schedule
        where contract_id = ${due.contractId} and enabled for share`);
      if (!on) return { status: "SKIPPED" };
      const [claimed] = await tx.execute<{ id: string }>(sql`
        insert into billing_run (contract_id, period, kind, period_end, status, runner)
        values (${due.contractId}, ${due.period}, ${due.kind}, ${due.periodEnd}::date, 'NOTHING_TO_BILL', ${runner})
        on conflict (contract_id, period) do update
          set attempts = billing_run.attempts + 1, status = excluded.status, last_error = null,
            next_attempt_at = null, runner = excluded.runner, period_end = excluded.period_end,
            updated_at = now()
          where billing_run.status = 'FAILED'
        returning id`);
      if (!claimed) return { status: "SKIPPED" };
      await options.onStep?.("claimed");
      const billed = await runBilling.run(tx, ctx, {
        contractId: due.contractId,
        periodEnd: due.periodEnd,
      });
      await options.onStep?.("billed");
      // What generateInvoice would take (its own predicate): none → nothing to bill this period.
      const [ready] = await tx.execute<{ n: number }>(sql`
        select count(*)::int as n from billing_event
        where contract_id = ${due.contractId} and status = 'READY'
          and (period = '' or period <= to_char(${due.periodEnd}::date, 'YYYY-MM'))`);
      let outcome: BillingRunOutcome;
      if (!ready || Number(ready.n) === 0) {
        outcome = { status: "NOTHING_TO_BILL", eventsCreated: billed.eventsCreated };
      } else {
        let invoice = await generateInvoice.run(tx, ctx, {
          contractId: due.contractId,
          periodEnd: due.periodEnd,
        });
        await options.onStep?.("invoiced");
        if (due.autoIssue) {
          invoice = await issueInvoice.run(tx, ctx, { invoiceId: invoice.id });
          await options.onStep?.("issued");
        }
        outcome = {
          status: due.autoIssue ? "ISSUED" : "INVOICED",
          invoice,
          eventsCreated: billed.eventsCreated,
        };
      }
      await tx.execute(sql`
        update billing_run set status = ${outcome.status}, events_created = ${outcome.eventsCreated},
          invoice_id = ${"invoice" in outcome ? outcome.invoice.id : null}::uuid, updated_at = now()
        where id = ${claimed.id}`);
      await audit(tx, "ok", {
        status: outcome.status,
        invoiceId: "invoice" in outcome ? outcome.invoice.id : null,
      });
      return outcome;
    });
  } catch (raw) {
    const error = toDomainError(raw);
    // Not the data's fault (a lock conflict, a lost connection): nothing was recorded, the next
    // tick tries again.
    if (!(error instanceof DomainError) || error instanceof ConflictError) throw error;
    await recordFailedRun(db, due, error, ctx, runner, options.retryAfterSeconds ?? 900);
    return { status: "FAILED", error };
  }
}

async function recordFailedRun(
  db: Db,
  due: DueBillingRun,
  error: DomainError,
  ctx: OperationContext,
  runner: string,
  retryAfterSeconds: number,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [failed] = await tx.execute<{ id: string; attempts: number }>(sql`
      insert into billing_run (contract_id, period, kind, period_end, status, last_error, next_attempt_at, runner)
      values (${due.contractId}, ${due.period}, ${due.kind}, ${due.periodEnd}::date, 'FAILED',
        ${error.message.slice(0, 2000)}, now() + make_interval(secs => ${retryAfterSeconds}), ${runner})
      on conflict (contract_id, period) do update
        set attempts = billing_run.attempts + 1, last_error = excluded.last_error,
          next_attempt_at = excluded.next_attempt_at, runner = excluded.runner, updated_at = now()
        where billing_run.status = 'FAILED'
      returning id, attempts`);
    // Another scheduler billed the period meanwhile: its success stands.
    if (!failed) return;
    const exception =
      error instanceof RemediableError
        ? error.exception
        : {
            owner: "FINANCE" as const,
            severity: "HIGH" as const,
            code: "BILLING_RUN_FAILED",
            entityType: "contract",
            entityId: due.contractId,
            message: `The billing calendar could not bill contract ${due.contractId} for ${due.period}: ${error.message}`,
            remediation: `Correct what the error names on contract ${due.contractId} (or switch its billing schedule off with setBillingSchedule); the calendar retries ${due.period} on its own within ${Math.round(retryAfterSeconds / 60)} minutes.`,
          };
    await raiseSyncException(tx, { ...exception, actor: ctx.actor });
    await writeAudit(tx, {
      actor: ctx.actor,
      operation: "billingCalendar",
      entityType: "contract",
      entityId: due.contractId,
      input: { ...due, runner, attempts: failed.attempts, error: error.message },
      outcome: error.code,
    });
  });
}

export interface CalendarRunSummary {
  due: number;
  invoiced: number;
  issued: number;
  nothingToBill: number;
  skipped: number;
  failed: number;
  /** Runs that hit a transient error (retried next tick). */
  errors: unknown[];
}

/** Runs every due billing run once (one after another: runs of one contract must not race). */
export async function runBillingCalendar(
  db: Db,
  options: BillingRunOptions & CalendarClock = {},
): Promise<CalendarRunSummary> {
  const due = await dueBillingRuns(db, options);
  const summary: CalendarRunSummary = {
    due: due.length,
    invoiced: 0,
    issued: 0,
    nothingToBill: 0,
    skipped: 0,
    failed: 0,
    errors: [],
  };
  for (const run of due) {
    try {
      const outcome = await runBillingPeriod(db, run, options);
      if (outcome.status === "INVOICED") summary.invoiced++;
      else if (outcome.status === "ISSUED") summary.issued++;
      else if (outcome.status === "NOTHING_TO_BILL") summary.nothingToBill++;
      else if (outcome.status === "SKIPPED") summary.skipped++;
      else summary.failed++;
    } catch (error) {
      summary.errors.push(error);
    }
  }
  return summary;
}

/**
 * The demo under `npm start`: when no contract has a billing schedule yet, the ACTIVE
 * TIME_AND_MATERIALS contract with the most approved, unbilled time gets a MONTHLY schedule that
 * issues what it bills (set through setBillingSchedule, so it is audited). Returns its id, or null
 * when schedules exist already or no contract fits.
 */
export async function ensureDemoBillingSchedule(
  db: Db,
  actor = "billing-calendar-demo",
): Promise<string | null> {
  const [any] = await db.execute<{ ok: boolean }>(
    sql`select true as ok from billing_schedule limit 1`,
  );
  if (any) return null;
  const [pick] = await db.execute<{ id: string }>(sql`
    select c.id from contract c
    left join project p on p.contract_id = c.id
    left join time_entry te on te.project_id = p.id and te.status = 'APPROVED' and te.billable
    where c.status = 'ACTIVE' and c.billing_model = 'TIME_AND_MATERIALS'
    group by c.id, c.number
    order by count(te.id) desc, c.number
    limit 1`);
  if (!pick) return null;
  await execute(
    db,
    setBillingSchedule,
    { actor, requestId: null },
    { contractId: pick.id, enabled: true, kind: "MONTHLY", autoIssue: true },
  );
  return pick.id;
}
