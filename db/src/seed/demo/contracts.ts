/** The demo's contracts in all four billing models, with their billing rules, fee schedules, retainers
 * and billing events. */
import { addDays, addMonths, at, fromCents, monthOf, multiply, toCents } from "../values.ts";
import { PROJECT_TYPES } from "../words.ts";
import { type ContractContext, type CustomerInfo, DemoContext, toWhole } from "./context.ts";
import { seedInvoices } from "./invoices.ts";
import { seedProject } from "./projects.ts";

export function seedContract(demo: DemoContext, customer: CustomerInfo): void {
  const n = demo.contractNo++;
  const models = ["TIME_AND_MATERIALS", "FIXED_FEE", "RETAINER", "MILESTONE"] as const;
  const model = models[n % 4] ?? "TIME_AND_MATERIALS";
  const entity = customer.entity;
  let status: "DRAFT" | "ACTIVE" | "COMPLETED" | "TERMINATED";
  if (customer.status === "INACTIVE") status = "COMPLETED";
  else if (n % 25 === 7) status = "DRAFT";
  else
    status = demo.r.weighted([
      ["ACTIVE", 82],
      ["COMPLETED", 13],
      ["TERMINATED", 5],
    ] as const);

  let start: string;
  let end: string | null;
  if (status === "DRAFT") {
    start = addDays(demo.today, demo.r.int(20, 60));
    end = addMonths(start, 12);
  } else if (status === "ACTIVE") {
    start = addDays("2025-11-03", demo.r.int(0, 250));
    end = model === "TIME_AND_MATERIALS" && demo.r.chance(0.3) ? null : addMonths(start, 12);
  } else {
    start = addDays("2025-09-01", demo.r.int(0, 150));
    end = addMonths(start, demo.r.int(3, 6));
    if (end >= demo.today) end = addDays(demo.today, -demo.r.int(30, 60));
  }
  const terms =
    entity.code === "DE"
      ? demo.r.pick([14, 30])
      : demo.r.weighted([
          [30, 6],
          [45, 2],
          [60, 1],
          [15, 1],
        ] as const);

  // Commercial terms per model (whole currency units).
  const factor = BigInt(entity.rateFactor);
  let total = 0n;
  let retainerAmount: string | null = null;
  let retainerHours: string | null = null;
  const feeAmounts: bigint[] = [];
  const budgetHours = demo.r.int(40, 150) * 10;
  if (model === "TIME_AND_MATERIALS") {
    total = BigInt(budgetHours) * 200n * factor; // cents: hours × ~200/h × factor/100 × 100
  } else if (model === "RETAINER") {
    const amount = BigInt(demo.r.int(8, 30) * 1_000) * factor;
    retainerAmount = fromCents(amount);
    retainerHours = `${Number(amount / 100n / 200n)}.00`;
    total = amount * 12n;
  } else {
    const count = model === "FIXED_FEE" ? demo.r.int(3, 6) : demo.r.int(4, 5);
    for (let k = 0; k < count; k++) {
      const amount = BigInt(demo.r.int(15, 60) * 1_000) * factor;
      feeAmounts.push(amount);
      total += amount;
    }
  }

  const closeDate = addDays(start, -14);
  const convertedOn = addDays(start, -10);
  const opportunity = demo.sink.push(
    "opportunity",
    demo.b.opportunity({
      customerId: customer.id,
      name: `${customer.short} – ${demo.r.pick(PROJECT_TYPES)}`,
      stage: "CLOSED_WON",
      amount: fromCents(total),
      currency: entity.currency,
      closeDate,
      billingModel: model,
      isWon: true,
      convertedAt: at(convertedOn, 11),
      legalEntityId: entity.id,
      startDate: start,
      endDate: end,
      paymentTermsDays: terms,
      retainerAmount,
      retainerHours,
      budgetHours: `${budgetHours}.00`,
      installments: feeAmounts.length || null,
      createdOn: addDays(closeDate, -demo.r.int(30, 90)),
    }),
  );
  demo.link("opportunity", opportunity.id as string, "SALESFORCE", "Opportunity", demo.sfId("006"));
  const contract = demo.sink.push(
    "contract",
    demo.b.contract({
      number: `C-${start.slice(0, 4)}-${String(n + 1).padStart(5, "0")}`,
      customerId: customer.id,
      opportunityId: opportunity.id as string,
      legalEntityId: entity.id,
      billingModel: model,
      totalValue: fromCents(total),
      currency: entity.currency,
      retainerAmount,
      retainerHours,
      startDate: start,
      endDate: end,
      paymentTermsDays: terms,
      status,
      createdOn: convertedOn,
    }),
  );
  const contractId = contract.id as string;
  demo.link("contract", contractId, "SALESFORCE", "Contract", demo.sfId("800"), convertedOn);

  const ctx: ContractContext = {
    id: contractId,
    customer,
    model,
    status,
    start,
    end,
    terms,
    lines: [],
    retainerHours,
    retainerTime: [],
  };

  const projectCount = status === "ACTIVE" && model !== "MILESTONE" && demo.r.chance(0.15) ? 2 : 1;
  for (let p = 0; p < projectCount; p++) {
    const projectStart = p === 0 ? start : addMonths(start, 3);
    if (p > 0 && projectStart > addDays(demo.today, -30)) break;
    seedProject(demo, ctx, projectStart, budgetHours, p === 0 ? feeAmounts : []);
  }
  if (model === "FIXED_FEE") seedFeeSchedule(demo, ctx, feeAmounts);
  if (model === "RETAINER" && retainerAmount) {
    seedRetainer(demo, ctx, retainerAmount);
    seedRetainerOverage(demo, ctx);
  }
  seedInvoices(demo, ctx);
}

function seedFeeSchedule(demo: DemoContext, ctx: ContractContext, amounts: bigint[]): void {
  amounts.forEach((amount, k) => {
    const dueDate = addMonths(ctx.start, k);
    const billed = ctx.status !== "DRAFT" && monthOf(dueDate) <= demo.readyMonth;
    const description = `Instalment ${k + 1} of ${amounts.length}`;
    const row = demo.sink.push(
      "fee_schedule_item",
      demo.b.feeScheduleItem({
        contractId: ctx.id,
        description,
        dueDate,
        amount: fromCents(amount),
        currency: ctx.customer.entity.currency,
        status: billed ? "BILLED" : "SCHEDULED",
        createdOn: addDays(ctx.start, -10),
      }),
    );
    if (billed) {
      seedBillingEvent(demo, ctx, ctx.firstProjectId ?? null, "FIXED_FEE", row.id as string, "", {
        description: `${description} (due ${dueDate})`,
        quantity: "1.00",
        rate: fromCents(amount),
        amount,
        invoiceMonth: monthOf(dueDate),
      });
    }
  });
}

function seedRetainer(demo: DemoContext, ctx: ContractContext, amount: string): void {
  if (ctx.status === "DRAFT") return;
  const lastMonth =
    ctx.end && monthOf(ctx.end) < demo.readyMonth ? monthOf(ctx.end) : demo.readyMonth;
  for (
    let month = monthOf(ctx.start);
    month <= lastMonth;
    month = monthOf(addMonths(`${month}-01`, 1))
  ) {
    seedBillingEvent(demo, ctx, ctx.firstProjectId ?? null, "RETAINER", ctx.id, month, {
      description: `Retainer ${month} (${ctx.retainerHours} h)`,
      quantity: "1.00",
      rate: amount,
      amount: toWhole(amount) * 100n,
    });
  }
}

/**
 * Overage as runBilling computes it: per month, billed hours in work-date order; the part of
 * each entry beyond the retainer hours becomes a TIME event at the entry's rate.
 */
function seedRetainerOverage(demo: DemoContext, ctx: ContractContext): void {
  const allowance = toCents(ctx.retainerHours ?? "0");
  const entries = [...ctx.retainerTime].sort((x, y) =>
    x.workDate === y.workDate ? (x.id < y.id ? -1 : 1) : x.workDate < y.workDate ? -1 : 1,
  );
  const used = new Map<string, bigint>();
  for (const e of entries) {
    const month = monthOf(e.workDate);
    const hours = toCents(e.hours);
    const cumulative = (used.get(month) ?? 0n) + hours;
    used.set(month, cumulative);
    const beyond = cumulative - allowance;
    const overage = beyond <= 0n ? 0n : beyond < hours ? beyond : hours;
    if (overage === 0n) continue;
    const quantity = fromCents(overage);
    seedBillingEvent(demo, ctx, e.projectId, "TIME", e.id, month, {
      description: `Overage ${e.workDate}: ${quantity} h of ${e.hours} h`,
      quantity,
      rate: e.rate,
      amount: multiply(quantity, e.rate),
    });
  }
}

export function seedBillingEvent(
  demo: DemoContext,
  ctx: ContractContext,
  projectId: string | null,
  sourceType: string,
  sourceId: string,
  period: string,
  item: {
    description: string;
    quantity: string;
    rate: string;
    amount: bigint;
    /** Month the item is invoiced in (default: `period`). */
    invoiceMonth?: string;
  },
): void {
  const month = item.invoiceMonth ?? period;
  const invoiced = month <= demo.invoicedThrough;
  const event = demo.sink.push(
    "billing_event",
    demo.b.billingEvent({
      contractId: ctx.id,
      customerId: ctx.customer.id,
      projectId,
      sourceType,
      sourceId,
      period,
      description: item.description,
      quantity: item.quantity,
      rate: item.rate,
      amount: fromCents(item.amount),
      currency: ctx.customer.entity.currency,
      status: invoiced ? "INVOICED" : "READY",
      createdOn: `${monthOf(addMonths(`${month}-01`, 1))}-01`,
    }),
  );
  if (invoiced) ctx.lines.push({ event, period: month });
}
