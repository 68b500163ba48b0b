/** The demo's invoices in every status, with their lines, payments and disputes, numbered per legal
 * entity once written. */
import {
  addDays,
  applyRateHalfEven,
  at,
  dayNumber,
  fromCents,
  isWeekday,
  lastDayOfMonth,
  toCents,
} from "../values.ts";
import { type Row } from "../writer.ts";
import {
  type ContractContext,
  DemoContext,
  earlier,
  FIRM_DOMAIN,
  LATEST_INVOICE_STATUSES,
} from "./context.ts";

export function seedInvoices(demo: DemoContext, ctx: ContractContext): void {
  const byPeriod = new Map<string, Row[]>();
  for (const line of ctx.lines) {
    const events = byPeriod.get(line.period) ?? [];
    events.push(line.event);
    byPeriod.set(line.period, events);
  }
  const periods = [...byPeriod.keys()].sort();
  for (const period of periods) {
    const events = byPeriod.get(period) ?? [];
    const latest = period === demo.invoicedThrough;
    const status = latest
      ? (LATEST_INVOICE_STATUSES[demo.next("latest-invoice", 0) % LATEST_INVOICE_STATUSES.length] ??
        "POSTED")
      : demo.next("older-invoice", 0) % 25 === 12
        ? "VOID" // one in 25, so that even a small seed shows a voided and reissued invoice
        : demo.r.weighted([
            ["PAID", 80],
            ["PARTIALLY_PAID", 6],
            ["POSTED", 8],
            ["DISPUTED", 4],
            ["VOID", 2],
          ] as const);
    let issuedOn = addDays(lastDayOfMonth(period), 3);
    while (!isWeekday(dayNumber(issuedOn))) issuedOn = addDays(issuedOn, 1);
    if (status === "VOID") {
      // Issued with a mistake, voided a week later, and reissued: the items bill once.
      seedInvoice(demo, ctx, period, events, "VOID", issuedOn);
      seedInvoice(demo, ctx, period, events, "PAID", addDays(issuedOn, 8));
    } else {
      seedInvoice(demo, ctx, period, events, status, issuedOn);
    }
  }
}

function seedInvoice(
  demo: DemoContext,
  ctx: ContractContext,
  period: string,
  events: Row[],
  status: string,
  issuedOn: string,
): void {
  const entity = ctx.customer.entity;
  const subtotal = events.reduce((sum, e) => sum + toCents(String(e.amount)), 0n);
  // As generateInvoice: tax per line, rounded half-even.
  const tax = events.reduce(
    (sum, e) => sum + applyRateHalfEven(toCents(String(e.amount)), entity.taxRate),
    0n,
  );
  const total = subtotal + tax;
  const issued = status !== "DRAFT";
  const posted = issued && status !== "ISSUED" && status !== "VOID";
  const dueOn = addDays(issuedOn, ctx.terms);
  const periodEnd = lastDayOfMonth(period);
  const payments: { amount: bigint; on: string }[] = [];
  const paymentDay = () => {
    const day = addDays(issuedOn, demo.r.int(10, ctx.terms + 20));
    return day >= demo.today ? addDays(demo.today, -1) : day;
  };
  if (status === "PAID") {
    if (demo.r.chance(0.15)) {
      const firstPart = (total * 50n) / 100n;
      const firstOn = paymentDay();
      const secondOn = paymentDay();
      const [early, late] = [firstOn, secondOn].sort() as [string, string];
      payments.push({ amount: firstPart, on: early });
      payments.push({ amount: total - firstPart, on: late });
    } else {
      payments.push({ amount: total, on: paymentDay() });
    }
  } else if (status === "PARTIALLY_PAID") {
    payments.push({ amount: (total * BigInt(demo.r.int(30, 70))) / 100n, on: paymentDay() });
  }
  const paid = payments.reduce((sum, p) => sum + p.amount, 0n);
  const lastChange = payments.at(-1)?.on ?? (issued ? issuedOn : periodEnd);
  const row = demo.sink.push(
    "invoice",
    demo.b.invoice({
      number: "", // assigned in issue order by numberInvoices()
      customerId: ctx.customer.id,
      contractId: ctx.id,
      legalEntityId: entity.id,
      currency: entity.currency,
      periodEnd,
      subtotal: fromCents(subtotal),
      taxRate: entity.taxRate,
      tax: fromCents(tax),
      total: fromCents(total),
      amountPaid: fromCents(paid),
      issuedOn: issued ? issuedOn : null,
      // A draft is due after the terms from its generation, as generateInvoice sets it.
      dueOn: issued ? dueOn : addDays(addDays(periodEnd, 1), ctx.terms),
      postedAt: posted ? at(addDays(issuedOn, 1), 10) : null,
      status,
      createdOn: addDays(periodEnd, 1),
    }),
  );
  const invoiceId = row.id as string;
  // A draft has no number; issued ones get theirs, per legal entity, in numberInvoices().
  row.number = issued ? `pending-${invoiceId}` : null;
  row.updated_at = at(lastChange, 12);
  if (demo.samples.invoices.length < 200) demo.samples.invoices.push({ id: invoiceId, status });
  if (posted) {
    demo.link("invoice", invoiceId, "ERP", "invoice", String(demo.next("erp:invoice", 540_000)));
  }

  events.forEach((event, k) => {
    demo.sink.push(
      "invoice_line",
      demo.b.invoiceLine({
        invoiceId,
        billingEventId: event.id as string,
        lineNo: k + 1,
        description: event.description as string,
        quantity: event.quantity as string,
        unitPrice: event.rate as string,
        amount: event.amount as string,
        currency: entity.currency,
        voidedAt: status === "VOID" ? at(addDays(issuedOn, 7), 14) : null,
        createdOn: addDays(periodEnd, 1),
      }),
    );
  });

  for (const p of payments) {
    const erpId = String(demo.next("erp:payment", 3_100_000));
    const payment = demo.sink.push(
      "payment",
      demo.b.payment({
        invoiceId,
        amount: fromCents(p.amount),
        currency: entity.currency,
        receivedOn: p.on,
        reference: `${entity.paymentReference} ${String(demo.r.int(10_000, 99_999))}`,
        erpId,
      }),
    );
    demo.link("payment", payment.id as string, "ERP", "customerpayment", erpId, p.on);
  }

  const reasons = [
    "Hours on the October timesheet exceed the agreed cap",
    "Purchase order number missing on the invoice",
    "Travel expenses were not pre-approved",
    "Milestone accepted later than the invoice date",
    "Rate differs from the signed statement of work",
  ];
  if (status === "DISPUTED") {
    demo.sink.push(
      "dispute",
      demo.b.dispute({
        invoiceId,
        reason: demo.r.pick(reasons),
        openedBy: ctx.customer.billingContactEmail,
        openedOn: earlier(addDays(issuedOn, demo.r.int(3, 12)), demo.today),
      }),
    );
  } else if (status === "PAID" && demo.r.chance(0.04)) {
    const openedOn = addDays(issuedOn, 5);
    demo.sink.push(
      "dispute",
      demo.b.dispute({
        invoiceId,
        reason: demo.r.pick(reasons),
        openedBy: ctx.customer.billingContactEmail,
        openedOn,
        status: "RESOLVED",
        resolution: "Explained with the approved timesheets; customer accepted the invoice.",
        resolvedAt: at(addDays(openedOn, 4), 11),
        resolvedBy: `finance@${FIRM_DOMAIN}`,
      }),
    );
  }
}

/**
 * Invoice numbers by the rule issueInvoice follows: each legal entity's own unbroken series
 * (`<prefix><n>`, n from 1) in issue order, drafts unnumbered, and each entity's
 * invoice_number_series row left at its last number; ERP document numbers for posted invoices.
 */
export async function numberInvoices(demo: DemoContext): Promise<void> {
  await demo.tx`
    with numbered as (
      select i.id, le.invoice_prefix,
             row_number() over (partition by i.legal_entity_id order by i.issued_on, i.created_at, i.id) as n,
             row_number() over (order by i.issued_on, i.created_at, i.id) as erp
      from invoice i join legal_entity le on le.id = i.legal_entity_id
      where i.number is not null
    )
    update invoice i
    set number = numbered.invoice_prefix || numbered.n,
        erp_number = case when i.posted_at is not null then 'INV' || (700000 + numbered.erp) end
    from numbered where numbered.id = i.id`;
  await demo.tx`
    insert into invoice_number_series (legal_entity_id, last_number, updated_at)
    select legal_entity_id, count(*), max(issued_on)::timestamp at time zone 'UTC' + interval '9 hours'
    from invoice where number is not null group by 1
    on conflict (legal_entity_id) do update
      set last_number = excluded.last_number, updated_at = excluded.updated_at`;
}
