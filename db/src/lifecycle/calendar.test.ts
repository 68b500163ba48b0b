/**
 * The billing calendar on real Postgres: each schedule kind bills its period once, off bills
 * nothing, two schedulers at once bill once (the (contract, period) key, no lock involved), a
 * refused run is an exception and is retried once fixed.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  billingRun,
  invoice,
  invoiceLine,
  milestone,
  outboundCommand,
  syncException,
  taxRate,
} from "../schema.ts";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import { addTime, newResource, seedBasics, wonOpportunity } from "../testing/lifecycle.ts";
import {
  dueBillingRuns,
  execute,
  type OperationContext,
  operations as op,
  runBillingCalendar,
  runBillingPeriod,
} from "./index.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const ctx: OperationContext = { actor: "finance@firm.test", requestId: null };
const run = <R>(operation: { run: (...a: never[]) => Promise<R> }, input: unknown) =>
  execute(t.db, operation as never, ctx, input) as Promise<R>;

type Model = "TIME_AND_MATERIALS" | "MILESTONE" | "FIXED_FEE";

/** A converted, active contract of `model` (2026-01-15 … 2026-12-31, 3 instalments). */
async function activeContract(model: Model, taxRate = "0.1000") {
  const basics = await seedBasics(t.db, { taxRate });
  const oppId = await wonOpportunity(t.db, basics, {
    billingModel: model,
    amount: "9000.00",
    installments: 3,
    startDate: "2026-01-15",
  });
  const converted = await run<{
    contract: { id: string };
    project: { id: string };
  }>(op.convertOpportunity, { opportunityId: oppId });
  await run(op.activateProject, { projectId: converted.project.id });
  return { ...converted, basics };
}

async function approvedTime(projectId: string, days: string[]) {
  const res = await newResource(t.db);
  const ids = await addTime(
    t.db,
    projectId,
    res,
    days.map((workDate) => ({ workDate, hours: "2.00", billRate: "100.00" })),
  );
  await run(op.approveTimeEntries, { ids });
}

const invoicesOf = (contractId: string) =>
  t.db.select().from(invoice).where(eq(invoice.contractId, contractId)).orderBy(invoice.createdAt);

const runsOf = (contractId: string) =>
  t.db.select().from(billingRun).where(eq(billingRun.contractId, contractId));

async function linesOf(invoiceId: string) {
  return t.db.select().from(invoiceLine).where(eq(invoiceLine.invoiceId, invoiceId));
}

describe("billing calendar", () => {
  it("MONTHLY: bills the last completed month up to its last day, once; the next month on its own", async () => {
    const { contract, project } = await activeContract("TIME_AND_MATERIALS");
    await approvedTime(project.id, ["2026-01-20", "2026-02-03", "2026-02-27", "2026-03-04"]);
    await run(op.setBillingSchedule, { contractId: contract.id, enabled: true });

    const first = await runBillingCalendar(t.db, { today: "2026-03-10", runner: "a" });
    expect(first).toMatchObject({ invoiced: 1, failed: 0 });
    let invoices = await invoicesOf(contract.id);
    expect(invoices).toHaveLength(1);
    // January and February (everything up to 2026-02-28), not March's entry; a DRAFT (no auto-issue).
    expect(invoices[0]).toMatchObject({
      periodEnd: "2026-02-28",
      status: "DRAFT",
      subtotal: "600.00",
    });
    expect(await linesOf(invoices[0]!.id)).toHaveLength(3);
    expect(await runsOf(contract.id)).toMatchObject([
      { period: "2026-02", status: "INVOICED", invoiceId: invoices[0]!.id, eventsCreated: 3 },
    ]);

    // Later the same month: the period is done.
    expect(
      (await dueBillingRuns(t.db, { today: "2026-03-31" })).filter(
        (d) => d.contractId === contract.id,
      ),
    ).toEqual([]);
    await runBillingCalendar(t.db, { today: "2026-03-31" });
    expect(await invoicesOf(contract.id)).toHaveLength(1);

    // April: March's entry.
    await runBillingCalendar(t.db, { today: "2026-04-01" });
    invoices = await invoicesOf(contract.id);
    expect(invoices).toHaveLength(2);
    expect(invoices[1]).toMatchObject({ periodEnd: "2026-03-31", subtotal: "200.00" });

    // May, nothing approved in April: recorded as nothing to bill, no invoice.
    const may = await runBillingCalendar(t.db, { today: "2026-05-02" });
    expect(may.nothingToBill).toBeGreaterThanOrEqual(1);
    expect(await invoicesOf(contract.id)).toHaveLength(2);
    expect((await runsOf(contract.id)).map((r) => [r.period, r.status]).sort()).toEqual([
      ["2026-02", "INVOICED"],
      ["2026-03", "INVOICED"],
      ["2026-04", "NOTHING_TO_BILL"],
    ]);
  });

  it("MILESTONE with auto-issue: an approved milestone is invoiced and issued (ERP posting queued), once", async () => {
    const { contract, project } = await activeContract("MILESTONE");
    await run(op.setBillingSchedule, { contractId: contract.id, enabled: true, autoIssue: true });
    const ms = await t.db
      .select()
      .from(milestone)
      .where(eq(milestone.projectId, project.id))
      .orderBy(milestone.dueDate);
    expect(ms).toHaveLength(3);
    // Nothing approved: nothing due.
    expect((await dueBillingRuns(t.db)).filter((d) => d.contractId === contract.id)).toEqual([]);

    await run(op.completeMilestone, { milestoneId: ms[0]!.id, completedOn: "2026-02-01" });
    await run(op.approveMilestone, { milestoneId: ms[0]!.id });
    const summary = await runBillingCalendar(t.db);
    expect(summary.issued).toBeGreaterThanOrEqual(1);
    let invoices = await invoicesOf(contract.id);
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({ status: "ISSUED", subtotal: "3000.00" });
    expect(invoices[0]!.number).not.toBeNull();
    const commands = await t.db
      .select()
      .from(outboundCommand)
      .where(eq(outboundCommand.entityId, invoices[0]!.id));
    expect(commands.map((c) => c.kind)).toEqual(["invoice.post"]);
    expect(await runsOf(contract.id)).toMatchObject([
      { period: `M:${ms[0]!.id}`, status: "ISSUED" },
    ]);

    await runBillingCalendar(t.db);
    expect(await invoicesOf(contract.id)).toHaveLength(1);

    await run(op.completeMilestone, { milestoneId: ms[1]!.id, completedOn: "2026-03-01" });
    await run(op.approveMilestone, { milestoneId: ms[1]!.id });
    await runBillingCalendar(t.db);
    invoices = await invoicesOf(contract.id);
    expect(invoices).toHaveLength(2);
    expect(invoices[1]).toMatchObject({ status: "ISSUED", subtotal: "3000.00" });
  });

  it("FIXED_FEE_DATES: the instalments due by today, billed up to the latest due date; later ones on their date", async () => {
    const { contract } = await activeContract("FIXED_FEE");
    await run(op.setBillingSchedule, { contractId: contract.id, enabled: true });
    // Instalments due 2026-01-15, 2026-02-15, 2026-03-15 (3000.00 each).
    expect(
      (await dueBillingRuns(t.db, { today: "2026-01-14" })).filter(
        (d) => d.contractId === contract.id,
      ),
    ).toEqual([]);
    await runBillingCalendar(t.db, { today: "2026-02-20" });
    let invoices = await invoicesOf(contract.id);
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({ periodEnd: "2026-02-15", subtotal: "6000.00" });
    expect(await runsOf(contract.id)).toMatchObject([{ period: "F:2026-02-15" }]);
    await runBillingCalendar(t.db, { today: "2026-03-01" });
    expect(await invoicesOf(contract.id)).toHaveLength(1);
    await runBillingCalendar(t.db, { today: "2026-03-15" });
    invoices = await invoicesOf(contract.id);
    expect(invoices).toHaveLength(2);
    expect(invoices[1]).toMatchObject({ periodEnd: "2026-03-15", subtotal: "3000.00" });
  });

  it("off bills nothing; switched off between finding a run and running it, the run is skipped", async () => {
    const { contract, project } = await activeContract("TIME_AND_MATERIALS");
    await approvedTime(project.id, ["2026-01-20"]);
    await run(op.setBillingSchedule, { contractId: contract.id, enabled: false });
    const off = (await dueBillingRuns(t.db, { today: "2026-02-10" })).filter(
      (d) => d.contractId === contract.id,
    );
    expect(off).toEqual([]);
    await runBillingCalendar(t.db, { today: "2026-02-10" });
    expect(await invoicesOf(contract.id)).toHaveLength(0);

    await run(op.setBillingSchedule, { contractId: contract.id, enabled: true });
    const [due] = (await dueBillingRuns(t.db, { today: "2026-02-10" })).filter(
      (d) => d.contractId === contract.id,
    );
    expect(due).toMatchObject({ period: "2026-01", periodEnd: "2026-01-31", kind: "MONTHLY" });
    await run(op.setBillingSchedule, { contractId: contract.id, enabled: false });
    expect(await runBillingPeriod(t.db, due!)).toEqual({ status: "SKIPPED" });
    expect(await invoicesOf(contract.id)).toHaveLength(0);
    expect(await runsOf(contract.id)).toHaveLength(0);
  });

  it("two schedulers at once (no leader lock): every (contract, period) is billed once", async () => {
    const contracts: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { contract, project } = await activeContract("TIME_AND_MATERIALS");
      await approvedTime(project.id, ["2026-06-02", "2026-06-15"]);
      await run(op.setBillingSchedule, { contractId: contract.id, enabled: true, autoIssue: true });
      contracts.push(contract.id);
    }
    // Each scheduler holds the runs it found; both go through all of them at once, in opposite
    // orders so they meet in the middle.
    const today = "2026-07-03";
    const due = (await dueBillingRuns(t.db, { today })).filter((d) =>
      contracts.includes(d.contractId),
    );
    expect(due).toHaveLength(6);
    const a = Promise.all(due.map((d) => runBillingPeriod(t.db, d, { runner: "a" })));
    const b = Promise.all(
      [...due].reverse().map((d) => runBillingPeriod(t.db, d, { runner: "b" })),
    );
    const outcomes = [...(await a), ...(await b)].map((o) => o.status);
    expect(outcomes.filter((s) => s === "ISSUED")).toHaveLength(6);
    expect(outcomes.filter((s) => s === "SKIPPED")).toHaveLength(6);
    const invoices = await t.db
      .select()
      .from(invoice)
      .where(inArray(invoice.contractId, contracts));
    expect(invoices).toHaveLength(6);
    expect(new Set(invoices.map((i) => i.contractId)).size).toBe(6);
    const runs = await t.db
      .select()
      .from(billingRun)
      .where(inArray(billingRun.contractId, contracts));
    expect(runs).toHaveLength(6);
    // The key itself refuses a second run of a period.
    await expect(
      t.db.insert(billingRun).values({
        contractId: contracts[0]!,
        period: "2026-06",
        kind: "MONTHLY",
        periodEnd: "2026-06-30",
        status: "INVOICED",
        runner: "c",
      }),
    ).rejects.toThrow();
  });

  it("a refused run (no tax rate) is FAILED with a FINANCE exception and nothing billed; fixed, it is retried and bills once", async () => {
    const { contract, project, basics } = await activeContract("TIME_AND_MATERIALS");
    await approvedTime(project.id, ["2026-08-10"]);
    await t.db.delete(taxRate).where(eq(taxRate.jurisdiction, basics.jurisdiction));
    await run(op.setBillingSchedule, { contractId: contract.id, enabled: true });
    const failed = await runBillingCalendar(t.db, { today: "2026-09-02", retryAfterSeconds: 3600 });
    expect(failed.failed).toBeGreaterThanOrEqual(1);
    expect(await invoicesOf(contract.id)).toHaveLength(0);
    const [events] = await t.db.execute<{ n: number }>(
      sql`select count(*)::int as n from billing_event where contract_id = ${contract.id}`,
    );
    expect(events!.n).toBe(0); // rolled back with the run
    expect(await runsOf(contract.id)).toMatchObject([
      { period: "2026-08", status: "FAILED", attempts: 1 },
    ]);
    const [ex] = await t.db
      .select()
      .from(syncException)
      .where(
        and(eq(syncException.entityId, contract.id), eq(syncException.code, "TAX_RATE_MISSING")),
      );
    expect(ex).toMatchObject({ owner: "FINANCE", status: "OPEN" });
    // Not retried before its time.
    await runBillingCalendar(t.db, { today: "2026-09-02" });
    expect((await runsOf(contract.id))[0]!.attempts).toBe(1);

    await t.db
      .insert(taxRate)
      .values({ jurisdiction: basics.jurisdiction, rate: "0.1000", validFrom: "2020-01-01" });
    await t.db
      .update(billingRun)
      .set({ nextAttemptAt: sql`now() - interval '1 second'` })
      .where(eq(billingRun.contractId, contract.id));
    await runBillingCalendar(t.db, { today: "2026-09-02" });
    const invoices = await invoicesOf(contract.id);
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({ subtotal: "200.00", tax: "20.00" });
    expect(await runsOf(contract.id)).toMatchObject([
      { period: "2026-08", status: "INVOICED", attempts: 2, lastError: null },
    ]);
  });

  it("setBillingSchedule: a kind that does not fit the billing model is refused, nothing changed", async () => {
    const { contract } = await activeContract("TIME_AND_MATERIALS");
    await expect(
      run(op.setBillingSchedule, { contractId: contract.id, enabled: true, kind: "MILESTONE" }),
    ).rejects.toMatchObject({ code: "VALIDATION_FAILED" });
    const [row] = await t.db.execute<{ n: number }>(
      sql`select count(*)::int as n from billing_schedule where contract_id = ${contract.id}`,
    );
    expect(row!.n).toBe(0);
    const on = await run<{ kind: string; enabled: boolean; autoIssue: boolean }>(
      op.setBillingSchedule,
      { contractId: contract.id, enabled: true, autoIssue: true },
    );
    expect(on).toMatchObject({ kind: "MONTHLY", enabled: true, autoIssue: true });
    // Off keeps the other settings.
    const off = await run<{ kind: string; enabled: boolean; autoIssue: boolean }>(
      op.setBillingSchedule,
      { contractId: contract.id, enabled: false },
    );
    expect(off).toMatchObject({ kind: "MONTHLY", enabled: false, autoIssue: true });
  });
});
