/**
 * Property: "unbilled = what the next billing run would bill + READY events" holds for random
 * contracts of all four billing models in every contract status. For each contract, the graph's
 * `Contract.unbilled(asOf)` before a run equals, per category and in total, what
 * `runBilling(contractId, periodEnd: asOf)` then bills (and afterwards nothing is left to bill);
 * a customer's `unbilledWithSubsidiaries` is its `unbilledOwn` plus its subsidiaries'.
 * Seed: printed; FC_SEED=<n> replays a failure.
 */
import { execute, type OperationContext, operations as op } from "@pshub/db";
import { builders, createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import type { SubgraphServer } from "@pshub/subgraph-kit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBillingSubgraph } from "./index.ts";
import type { BillingLoaders } from "./loaders.ts";

let t: TestDatabase;
let server: SubgraphServer<BillingLoaders>;
const ctx: OperationContext = { actor: "unbilled-property", requestId: null };

beforeAll(async () => {
  t = await createTestDatabase();
  server = createBillingSubgraph(t.db);
});
afterAll(async () => {
  await t?.drop();
});

const cents = (min: number, max: number) =>
  fc.integer({ min, max }).map((c) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, "0")}`);
/** A day of 2026 (day-of-year 1..330), as an ISO date. */
const day = fc
  .integer({ min: 0, max: 330 })
  .map((d) => new Date(Date.UTC(2026, 0, 1) + d * 86400_000).toISOString().slice(0, 10));
const workStatus = fc.constantFrom("SUBMITTED", "APPROVED", "APPROVED", "REJECTED", "BILLED");

const contractArb = fc.record({
  owner: fc.constantFrom("parent", "child"),
  model: fc.constantFrom("TIME_AND_MATERIALS", "FIXED_FEE", "RETAINER", "MILESTONE"),
  status: fc.constantFrom("DRAFT", "ACTIVE", "COMPLETED", "TERMINATED"),
  start: day,
  lengthDays: fc.option(fc.integer({ min: 0, max: 200 }), { nil: null }),
  retainerAmount: cents(1, 500000),
  retainerHours: cents(0, 8000),
  proration: fc.constantFrom("NONE", "DAILY"),
  time: fc.array(
    fc.record({
      day,
      hours: cents(25, 1200),
      rate: cents(0, 40000),
      billable: fc.boolean(),
      status: workStatus,
    }),
    { maxLength: 8 },
  ),
  expenses: fc.array(
    fc.record({ day, amount: cents(1, 90000), billable: fc.boolean(), status: workStatus }),
    { maxLength: 4 },
  ),
  milestones: fc.array(
    fc.record({
      amount: cents(1, 900000),
      status: fc.constantFrom("OPEN", "COMPLETED", "APPROVED", "BILLED"),
    }),
    { maxLength: 3 },
  ),
  fees: fc.array(
    fc.record({ day, amount: cents(1, 900000), status: fc.constantFrom("SCHEDULED", "BILLED") }),
    { maxLength: 3 },
  ),
  /** A billing run before the checked one (READY events, BILLED items, retainer months). */
  earlierRun: fc.option(day, { nil: null }),
});

type Totals = Record<string, Record<string, string>>;

const FIELDS = `currency timeHours timeAmount { amount } expenseAmount { amount } milestoneAmount { amount }
  fixedFeeAmount { amount } retainerAmount { amount } nextRunAmount { amount } readyAmount { amount } readyCount
  total { amount }`;

/** UnbilledTotal list → currency → flat strings. */
function flatten(list: Record<string, unknown>[]): Totals {
  const out: Totals = {};
  for (const row of list) {
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(row)) {
      flat[k] = typeof v === "object" && v !== null ? (v as { amount: string }).amount : String(v);
    }
    out[row.currency as string] = flat;
  }
  return out;
}

const toCents = (s: string) => BigInt(s.replace(".", ""));

describe("unbilled = what runBilling then bills", () => {
  it("holds for random contracts of every billing model and status", async () => {
    const seed = Number(process.env.FC_SEED ?? Date.now() % 2_147_483_647);
    console.info(`unbilled property seed: ${seed} (replay with FC_SEED=${seed})`);
    await fc.assert(
      fc.asyncProperty(
        fc.array(contractArb, { minLength: 1, maxLength: 4 }),
        day,
        async (specs, periodEnd) => {
          const b = builders(t.db);
          const entity = await b.legalEntity();
          const parent = await b.customer();
          const child = await b.customer({ parentId: parent.id });
          const grandchild = await b.customer({ parentId: child.id });
          const res = await b.resource();
          const contracts: string[] = [];
          for (const s of specs) {
            const customerId = s.owner === "parent" ? parent.id : grandchild.id;
            const end =
              s.lengthDays === null
                ? null
                : new Date(Date.parse(s.start) + s.lengthDays * 86400_000)
                    .toISOString()
                    .slice(0, 10);
            const c = await b.contract({
              customerId,
              legalEntityId: entity.id,
              billingModel: s.model,
              status: s.status,
              startDate: s.start,
              endDate: end,
              retainerAmount: s.model === "RETAINER" ? s.retainerAmount : null,
              retainerHours: s.model === "RETAINER" ? s.retainerHours : null,
              retainerProration: s.proration,
            });
            contracts.push(c.id);
            const p = await b.project({ contractId: c.id, customerId, startDate: s.start });
            for (const w of s.time) {
              await b.timeEntry({
                projectId: p.id,
                resourceId: res.id,
                workDate: w.day,
                hours: w.hours,
                billRate: w.rate,
                billable: w.billable,
                status: w.status,
              });
            }
            for (const e of s.expenses) {
              await b.expense({
                projectId: p.id,
                resourceId: res.id,
                incurredOn: e.day,
                amount: e.amount,
                billable: e.billable,
                status: e.status,
              });
            }
            for (const m of s.milestones) {
              await b.milestone({ projectId: p.id, amount: m.amount, status: m.status });
            }
            for (const f of s.fees) {
              await b.feeScheduleItem({
                contractId: c.id,
                dueDate: f.day,
                amount: f.amount,
                status: f.status,
              });
            }
            if (s.earlierRun) {
              await execute(t.db, op.runBilling, ctx, {
                contractId: c.id,
                periodEnd: s.earlierRun,
              });
            }
          }

          const unbilledOf = async (typename: string, id: string, field = "unbilled") => {
            const result = await server.execute(
              `query($reps: [_Any!]!, $asOf: Date) { _entities(representations: $reps) {
                ... on ${typename} { ${field}(asOf: $asOf) { ${FIELDS} } } } }`,
              { reps: [{ __typename: typename, id }], asOf: periodEnd },
            );
            expect(result.errors).toBeUndefined();
            return flatten(result.data?._entities[0][field]);
          };

          // The hierarchy: the parent's roll-up is its own total plus its subsidiaries' totals.
          const own = await Promise.all(
            [parent, child, grandchild].map((c) => unbilledOf("Customer", c.id, "unbilledOwn")),
          );
          const rolled = await unbilledOf("Customer", parent.id, "unbilledWithSubsidiaries");
          const sum: Record<string, bigint> = {};
          for (const totals of own) {
            for (const [currency, row] of Object.entries(totals)) {
              sum[currency] = (sum[currency] ?? 0n) + toCents(row.total!);
            }
          }
          expect(
            Object.fromEntries(Object.entries(rolled).map(([k, v]) => [k, toCents(v.total!)])),
          ).toEqual(sum);
          const childRolled = await unbilledOf("Customer", child.id, "unbilledWithSubsidiaries");
          expect(childRolled.EUR?.total ?? "0.00").toBe(
            (
              Number(
                toCents(own[1]!.EUR?.total ?? "0.00") + toCents(own[2]!.EUR?.total ?? "0.00"),
              ) / 100
            ).toFixed(2),
          );

          for (const contractId of contracts) {
            const before = (await unbilledOf("Contract", contractId)).EUR;
            const [readyBefore] = await t.sql<{ amount: string }[]>`
              select coalesce(sum(amount), 0)::numeric(18,2)::text as amount from billing_event
              where contract_id = ${contractId} and status = 'READY'`;
            const [mark] = await t.sql<{ at: string }[]>`select now()::text as at`;
            const run = await execute(t.db, op.runBilling, ctx, { contractId, periodEnd });
            const created = await t.sql<{ source_type: string; amount: string; hours: string }[]>`
              select source_type::text, sum(amount)::numeric(18,2)::text as amount,
                sum(case when source_type = 'TIME' then quantity else 0 end)::numeric(12,2)::text as hours
              from billing_event where contract_id = ${contractId} and status = 'READY'
                and created_at > ${mark!.at}::timestamptz
              group by 1`;
            const bySource = Object.fromEntries(created.map((r) => [r.source_type, r.amount]));
            const billed = run.totals.find((x) => x.currency === "EUR")?.amount ?? "0.00";
            // The next-run part of unbilled is exactly what the run billed, category by category.
            expect(before?.nextRunAmount ?? "0.00").toBe(billed);
            expect(before?.timeAmount ?? "0.00").toBe(bySource.TIME ?? "0.00");
            expect(before?.expenseAmount ?? "0.00").toBe(bySource.EXPENSE ?? "0.00");
            expect(before?.milestoneAmount ?? "0.00").toBe(bySource.MILESTONE ?? "0.00");
            expect(before?.fixedFeeAmount ?? "0.00").toBe(bySource.FIXED_FEE ?? "0.00");
            expect(before?.retainerAmount ?? "0.00").toBe(bySource.RETAINER ?? "0.00");
            expect(before?.timeHours ?? "0.00").toBe(
              created.find((r) => r.source_type === "TIME")?.hours ?? "0.00",
            );
            expect(before?.readyAmount ?? "0.00").toBe(readyBefore!.amount);
            // After the run nothing is left for the next one, and the total has not moved.
            const after = (await unbilledOf("Contract", contractId)).EUR;
            expect(after?.nextRunAmount ?? "0.00").toBe("0.00");
            expect(after?.total ?? "0.00").toBe(before?.total ?? "0.00");
          }
        },
      ),
      { numRuns: 25, seed, endOnFailure: true },
    );
  }, 120_000);
});
