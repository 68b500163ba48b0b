/** The demo's projects with staffed resources, time and expenses in every state, and milestones. */
import {
  addDays,
  addMonths,
  at,
  dayNumber,
  fromCents,
  fromDayNumber,
  isWeekday,
  monthOf,
  multiply,
} from "../values.ts";
import { EXPENSE_CATEGORIES, MILESTONE_NAMES, PROJECT_TYPES, TASKS } from "../words.ts";
import { type ContractContext, DemoContext, earlier, FIRM_DOMAIN, toWhole } from "./context.ts";
import { seedBillingEvent } from "./contracts.ts";

export function seedProject(
  demo: DemoContext,
  ctx: ContractContext,
  start: string,
  budgetHours: number,
  milestoneAmounts: bigint[],
): void {
  const n = demo.projectNo++;
  const entity = ctx.customer.entity;
  let status: string;
  if (ctx.status === "DRAFT") status = "PLANNED";
  else if (ctx.status === "ACTIVE")
    status = ctx.customer.status === "ON_HOLD" ? "ON_HOLD" : "ACTIVE";
  else status = demo.r.chance(0.7) ? "CLOSED" : "COMPLETED";
  const code = `PRJ-${String(n + 1).padStart(5, "0")}`;
  const row = demo.sink.push(
    "project",
    demo.b.project({
      code,
      name: `${ctx.customer.short} – ${demo.r.pick(PROJECT_TYPES)}`,
      contractId: ctx.id,
      customerId: ctx.customer.id,
      currency: entity.currency,
      startDate: start,
      endDate: ctx.end,
      budgetHours: `${budgetHours}.00`,
      budgetAmount: fromCents(BigInt(budgetHours) * 200n * BigInt(entity.rateFactor)),
      status,
      createdOn: addDays(ctx.start, -9),
    }),
  );
  const projectId = row.id as string;
  demo.link("project", projectId, "PSA", "pse__Proj__c", demo.sfId("a1F"), ctx.start);
  if (demo.samples.projects.length < 50)
    demo.samples.projects.push({ id: projectId, code, status });

  // Staffing: the most senior assignee approves time and expenses.
  const team = demo.r
    .sample(entity.resources, demo.r.int(3, 6))
    .sort((a, b) => a.seniority - b.seniority);
  const assignments = team.map((resource) => {
    const override = demo.r.chance(0.15)
      ? fromCents(((toWhole(resource.billRate) * 90n) / 100n) * 100n)
      : null;
    const assignment = demo.sink.push(
      "assignment",
      demo.b.assignment({
        resourceId: resource.id,
        projectId,
        role: resource.role,
        billRateOverride: override,
        startDate: start,
        endDate: ctx.end,
        createdOn: addDays(ctx.start, -7),
      }),
    );
    demo.link("assignment", assignment.id as string, "PSA", "pse__Assignment__c", demo.sfId("a0y"));
    return { resource, rate: override ?? resource.billRate };
  });
  const approver = team[0]?.email ?? `pmo@${FIRM_DOMAIN}`;

  if (status === "PLANNED") {
    if (ctx.model === "MILESTONE")
      seedMilestones(demo, ctx, projectId, start, milestoneAmounts, approver);
    return;
  }
  const first = dayNumber(start);
  const last = Math.min(dayNumber(ctx.end ?? demo.today), dayNumber(demo.today));
  if (last < first) return;
  // Time and expenses are billed on T&M contracts; on retainers, expenses at cost and time
  // beyond the retainer hours as overage (see retainerOverage). Other models: not billable.
  const billableModel = ctx.model === "TIME_AND_MATERIALS" || ctx.model === "RETAINER";
  ctx.firstProjectId ??= projectId;

  // Time: ~110–260 entries per project, fewer for short windows.
  const span = last - first + 1;
  const target = Math.round(demo.r.int(110, 260) * Math.min(1, span / 90));
  for (let k = 0; k < target; k++) {
    let day = first + demo.r.int(0, span - 1);
    while (!isWeekday(day) && day > first) day--;
    if (!isWeekday(day)) continue;
    const workDate = fromDayNumber(day);
    const a = demo.r.pick(assignments);
    const quarters = demo.r.chance(0.1) ? demo.r.int(2, 4) : demo.r.int(8, 36);
    const hours = `${Math.floor(quarters / 4)}.${["00", "25", "50", "75"][quarters % 4]}`;
    const billable = billableModel && demo.r.chance(0.92);
    const task = demo.r.pick(TASKS);
    const { status: workStatus, approvedAt } = workState(demo, workDate, billable);
    const entry = demo.sink.push(
      "time_entry",
      demo.b.timeEntry({
        projectId,
        resourceId: a.resource.id,
        workDate,
        hours,
        billRate: a.rate,
        currency: entity.currency,
        billable,
        description: task,
        status: workStatus,
        approvedAt,
        approvedBy: approvedAt ? approver : null,
      }),
    );
    demo.link(
      "time_entry",
      entry.id as string,
      "PSA",
      "pse__Timecard__c",
      demo.sfId("a2T"),
      workDate,
    );
    if (workStatus === "BILLED" && ctx.model === "TIME_AND_MATERIALS") {
      seedBillingEvent(demo, ctx, projectId, "TIME", entry.id as string, monthOf(workDate), {
        description: `Time ${workDate}: ${hours} h - ${task}`,
        quantity: hours,
        rate: a.rate,
        amount: multiply(hours, a.rate),
      });
    } else if (workStatus === "BILLED") {
      ctx.retainerTime.push({ id: entry.id as string, projectId, workDate, hours, rate: a.rate });
    }
  }

  // Expenses: about one per twelve time entries.
  const expenses = Math.round(target / 12);
  for (let k = 0; k < expenses; k++) {
    const day = first + demo.r.int(0, span - 1);
    const incurredOn = fromDayNumber(day);
    const a = demo.r.pick(assignments);
    const kind = demo.r.pick(EXPENSE_CATEGORIES);
    const amount = BigInt(demo.r.int(kind.min * 100, kind.max * 100));
    const billable = billableModel && demo.r.chance(0.85);
    const { status: workStatus, approvedAt } = workState(demo, incurredOn, billable);
    const description = `${kind.category}: ${ctx.customer.short}`;
    const expense = demo.sink.push(
      "expense",
      demo.b.expense({
        projectId,
        resourceId: a.resource.id,
        incurredOn,
        amount: fromCents(amount),
        currency: entity.currency,
        category: kind.category,
        billable,
        description,
        status: workStatus,
        approvedAt,
        approvedBy: approvedAt ? approver : null,
      }),
    );
    demo.link(
      "expense",
      expense.id as string,
      "PSA",
      "pse__Expense__c",
      demo.sfId("a0N"),
      incurredOn,
    );
    if (workStatus === "BILLED") {
      seedBillingEvent(demo, ctx, projectId, "EXPENSE", expense.id as string, monthOf(incurredOn), {
        description: `Expense ${incurredOn}: ${kind.category} - ${description}`,
        quantity: "1.00",
        rate: fromCents(amount),
        amount,
      });
    }
  }

  if (ctx.model === "MILESTONE")
    seedMilestones(demo, ctx, projectId, start, milestoneAmounts, approver);
}

/** The state of a piece of work done on `date`, given the billing calendar. */
function workState(
  demo: DemoContext,
  date: string,
  billable: boolean,
): { status: string; approvedAt: string | null } {
  const month = monthOf(date);
  const decided = earlier(addDays(date, 2), demo.today);
  const approvedAt = at(decided, 16, 30);
  if (month <= demo.invoicedThrough) {
    if (demo.r.chance(0.03)) return { status: "REJECTED", approvedAt: null };
    return { status: billable ? "BILLED" : "APPROVED", approvedAt };
  }
  if (month === demo.readyMonth) {
    if (demo.r.chance(0.03)) return { status: "REJECTED", approvedAt: null };
    return { status: billable ? "BILLED" : "APPROVED", approvedAt };
  }
  if (dayNumber(date) > dayNumber(demo.today) - 5 || demo.r.chance(0.35)) {
    return { status: "SUBMITTED", approvedAt: null };
  }
  if (demo.r.chance(0.04)) return { status: "REJECTED", approvedAt: null };
  return { status: "APPROVED", approvedAt };
}

function seedMilestones(
  demo: DemoContext,
  ctx: ContractContext,
  projectId: string,
  start: string,
  amounts: bigint[],
  approver: string,
): void {
  const endDay = dayNumber(ctx.end ?? addMonths(start, 12));
  const span = endDay - dayNumber(start);
  amounts.forEach((amount, k) => {
    const dueDate = fromDayNumber(dayNumber(start) + Math.round((span * (k + 1)) / amounts.length));
    const name = MILESTONE_NAMES[k] ?? `Milestone ${k + 1}`;
    const started = ctx.status !== "DRAFT";
    let status = "OPEN";
    let completedOn: string | null = null;
    let approvedOn: string | null = null;
    const done = dueDate <= demo.today && started;
    if (done) {
      completedOn = addDays(dueDate, -demo.r.int(0, 5));
      approvedOn = earlier(addDays(completedOn, 2), demo.today);
      const month = monthOf(approvedOn);
      if (month <= demo.readyMonth) status = "BILLED";
      else status = demo.r.chance(0.5) ? "APPROVED" : "COMPLETED";
      if (status === "COMPLETED") approvedOn = null;
    }
    const row = demo.sink.push(
      "milestone",
      demo.b.milestone({
        projectId,
        name,
        amount: fromCents(amount),
        currency: ctx.customer.entity.currency,
        dueDate,
        status,
        completedOn,
        approvedAt: approvedOn ? at(approvedOn, 15) : null,
        approvedBy: approvedOn ? approver : null,
        createdOn: addDays(ctx.start, -9),
      }),
    );
    demo.link("milestone", row.id as string, "PSA", "pse__Milestone__c", demo.sfId("a1K"));
    if (status === "BILLED" && approvedOn) {
      seedBillingEvent(demo, ctx, projectId, "MILESTONE", row.id as string, "", {
        description: `Milestone: ${name}`,
        quantity: "1.00",
        rate: fromCents(amount),
        amount,
        invoiceMonth: monthOf(approvedOn),
      });
    }
  });
}
