/**
 * Retainer proration, a contract term: NONE (the default) bills every month in full; DAILY bills a
 * month the contract covers only in part as retainer × days covered / days in month, half-even to
 * cents, and covers that share of the retainer hours. Every figure below is computed by hand.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contract } from "../schema.ts";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import { addTime, newResource, seedBasics, wonOpportunity } from "../testing/lifecycle.ts";
import { execute, type OperationContext, operations as op } from "./index.ts";

let t: TestDatabase;
const ctx: OperationContext = { actor: "proration-test", requestId: null };

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

interface Terms {
  amount: string;
  hours?: string;
  start: string;
  end?: string | null;
  proration?: "NONE" | "DAILY";
}

/** A converted, active RETAINER contract with these terms. */
async function retainer(terms: Terms) {
  const basics = await seedBasics(t.db);
  const oppId = await wonOpportunity(t.db, basics, {
    billingModel: "RETAINER",
    retainerAmount: terms.amount,
    retainerHours: terms.hours ?? "40.00",
    ...(terms.proration ? { retainerProration: terms.proration } : {}),
    startDate: terms.start,
    endDate: terms.end ?? null,
  });
  const conv = await execute(t.db, op.convertOpportunity, ctx, { opportunityId: oppId });
  await execute(t.db, op.activateProject, ctx, { projectId: conv.project.id });
  return conv;
}

/** The billing events a run up to periodEnd creates, as period → amount (and TIME quantities). */
async function bill(contractId: string, periodEnd: string) {
  await execute(t.db, op.runBilling, ctx, { contractId, periodEnd });
  const rows = await t.sql<
    { source_type: string; period: string; quantity: string; amount: string }[]
  >`
    select source_type::text, period, quantity::text, amount::text from billing_event
    where contract_id = ${contractId} order by source_type, period, amount`;
  return rows.map((r) => ({ ...r }));
}

describe("retainer proration", () => {
  it("is NONE unless the contract says otherwise: a retainer starting on the 22nd bills a full month", async () => {
    const conv = await retainer({ amount: "1000.00", start: "2026-09-22" });
    const [row] = await t.db.select().from(contract).where(eq(contract.id, conv.contract.id));
    expect(row!.retainerProration).toBe("NONE");
    expect(await bill(conv.contract.id, "2026-10-31")).toEqual([
      { source_type: "RETAINER", period: "2026-09", quantity: "1.00", amount: "1000.00" },
      { source_type: "RETAINER", period: "2026-10", quantity: "1.00", amount: "1000.00" },
    ]);
  });

  it("DAILY: starting on the 22nd of a 30-day month bills 9/30 of the retainer, then full months", async () => {
    const conv = await retainer({ amount: "1000.00", start: "2026-09-22", proration: "DAILY" });
    // September 22..30 = 9 days of 30: 1000.00 × 9 / 30 = 300.00.
    expect(await bill(conv.contract.id, "2026-10-31")).toEqual([
      { source_type: "RETAINER", period: "2026-09", quantity: "1.00", amount: "300.00" },
      { source_type: "RETAINER", period: "2026-10", quantity: "1.00", amount: "1000.00" },
    ]);
    const [event] = await t.sql<{ description: string }[]>`
      select description from billing_event where contract_id = ${conv.contract.id} and period = '2026-09'`;
    expect(event!.description).toBe("Retainer 2026-09 (9/30 days, 12.00 h)");
  });

  it("DAILY: a last month ending on the 10th of a 28-day February bills 10/28, rounded to cents", async () => {
    const conv = await retainer({
      amount: "1000.00",
      start: "2026-01-01",
      end: "2026-02-10",
      proration: "DAILY",
    });
    // 1000.00 × 10 / 28 = 357.142857… → 357.14; a run past the end bills nothing more.
    expect(await bill(conv.contract.id, "2026-04-30")).toEqual([
      { source_type: "RETAINER", period: "2026-01", quantity: "1.00", amount: "1000.00" },
      { source_type: "RETAINER", period: "2026-02", quantity: "1.00", amount: "357.14" },
    ]);
  });

  it("DAILY: a contract inside one month bills its days only (10th..19th of April = 10/30)", async () => {
    const conv = await retainer({
      amount: "3100.00",
      start: "2026-04-10",
      end: "2026-04-19",
      proration: "DAILY",
    });
    // 3100.00 × 10 / 30 = 1033.333… → 1033.33.
    expect(await bill(conv.contract.id, "2026-04-30")).toEqual([
      { source_type: "RETAINER", period: "2026-04", quantity: "1.00", amount: "1033.33" },
    ]);
  });

  it("DAILY: an exact half cent rounds half to even (15/30 of 100.25 = 50.125 → 50.12; of 100.35 → 50.18)", async () => {
    for (const [amount, expected] of [
      ["100.25", "50.12"],
      ["100.35", "50.18"],
    ] as const) {
      // September 16..30 = 15 days of 30.
      const conv = await retainer({ amount, start: "2026-09-16", proration: "DAILY" });
      expect(await bill(conv.contract.id, "2026-09-30")).toEqual([
        { source_type: "RETAINER", period: "2026-09", quantity: "1.00", amount: expected },
      ]);
    }
  });

  it("DAILY prorates the hours the retainer covers: overage starts above 9/30 of 40 h = 12 h", async () => {
    for (const [proration, overage] of [
      ["DAILY", [{ quantity: "3.00", amount: "300.00" }]],
      ["NONE", []],
    ] as const) {
      const conv = await retainer({
        amount: "1000.00",
        hours: "40.00",
        start: "2026-09-22",
        proration,
      });
      const res = await newResource(t.db);
      const ids = await addTime(t.db, conv.project.id, res, [
        { workDate: "2026-09-23", hours: "8.00", billRate: "100.00" },
        { workDate: "2026-09-24", hours: "7.00", billRate: "100.00" },
      ]);
      await execute(t.db, op.approveTimeEntries, ctx, { ids });
      const events = await bill(conv.contract.id, "2026-09-30");
      // 15 h worked; DAILY covers 12 h → the second entry's last 3 h are overage at 100.00.
      expect(
        events
          .filter((e) => e.source_type === "TIME")
          .map(({ quantity, amount }) => ({ quantity, amount })),
      ).toEqual(overage);
      expect(events.filter((e) => e.source_type === "RETAINER").map((e) => e.amount)).toEqual([
        proration === "DAILY" ? "300.00" : "1000.00",
      ]);
    }
  });
});
