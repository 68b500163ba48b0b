/**
 * The KPI summaries (db migration 0017: kpi_time_month, kpi_invoice_cycle, kept by triggers in the
 * transaction of each change) against the plain aggregate SQL over the canonical rows and domain
 * events. After a random sequence of lifecycle operations over two legal entities — time entered,
 * approved, rejected (two approvals at once in one project and month), billing runs, invoices
 * generated, issued, posted, paid in part and in full, disputed, voided, and inbound-style edits
 * (hours changed, an entry moved to another month, deleted) — the fast path (Kpis.utilisation,
 * Kpis.invoiceCycleTime) equals the plain SQL exactly, unscoped and per legal-entity scope, as of
 * several days (mid-month and month ends). A fresh seed per run is printed; KPI_SEED=<n> replays.
 */
import {
  type Db,
  DomainError,
  execute,
  inLegalEntityScope,
  type LegalEntityScope,
  type OperationContext,
  operations as op,
  schema,
} from "@pshub/db";
import {
  addTime,
  createTestDatabase,
  newResource,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invoiceCycleTime, kpiDay, utilisation } from "./data/kpis.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const ctx: OperationContext = { actor: "kpi-summaries", requestId: null };
const SEED = Number(process.env.KPI_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small deterministic PRNG, so a failing seed replays. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(list: readonly T[]): T | undefined =>
      list.length ? list[Math.floor(next() * list.length)] : undefined,
  };
}

async function attempt(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    if (process.env.KPI_DEBUG) console.info((error as Error).message);
  }
}

/** The plain statement over every time entry (what kpi_time_month must reproduce). */
async function plainUtilisation(db: Db, asOf: string, scope: LegalEntityScope) {
  const condition = inLegalEntityScope(schema.contract, scope);
  const inScope = condition
    ? sql`c.id in (select contract.id from contract where ${condition})`
    : sql`true`;
  const rows = await db.execute<Record<string, unknown>>(sql`
    with g as (
      select le.code as legal_entity, to_char(te.work_date, 'YYYY-MM') as month,
             sum(te.hours) as approved,
             coalesce(sum(te.hours) filter (where te.billable), 0) as billable,
             coalesce(sum(te.hours) filter (where te.billable and te.status = 'BILLED'), 0) as billed
        from time_entry te
        join project p on p.id = te.project_id
        join contract c on c.id = p.contract_id
        join legal_entity le on le.id = c.legal_entity_id
       where te.status in ('APPROVED', 'BILLED') and te.work_date <= ${asOf}::date and ${inScope}
       group by 1, 2)
    select legal_entity, month, approved::numeric(14, 2)::text as approved,
           billable::numeric(14, 2)::text as billable, billed::numeric(14, 2)::text as billed,
           case when approved > 0 then round(billable / approved, 4)::text end as billable_ratio,
           case when billable > 0 then round(billed / billable, 4)::text end as billed_ratio
      from g order by 1, 2`);
  return rows.map((r) => ({
    legalEntity: String(r.legal_entity),
    month: String(r.month),
    approvedHours: String(r.approved),
    approvedBillableHours: String(r.billable),
    billedHours: String(r.billed),
    billableRatio: r.billable_ratio == null ? null : String(r.billable_ratio),
    billedRatio: r.billed_ratio == null ? null : String(r.billed_ratio),
  }));
}

/** The plain statement over the domain events and invoice lines (what kpi_invoice_cycle must reproduce). */
async function plainCycleTime(db: Db, asOf: string, scope: LegalEntityScope) {
  const condition = inLegalEntityScope(schema.invoice, scope) ?? sql`true`;
  const pct = (f: string) =>
    sql.raw(
      `round(extract(epoch from percentile_cont(${f}) within group (order by s.duration)) / 86400, 2)::text`,
    );
  const rows = await db.execute<Record<string, unknown>>(sql`
    with inv as (select invoice.id, invoice.legal_entity_id from invoice where ${condition}),
    ev as (
      select de.entity_id as invoice_id,
             min(de.occurred_at) filter (where de.type = 'invoice.created') as generated,
             min(de.occurred_at) filter (where de.type = 'invoice.status_changed' and de.payload->>'to' = 'ISSUED') as issued,
             min(de.occurred_at) filter (where de.type = 'invoice.status_changed' and de.payload->>'to' = 'POSTED') as posted,
             min(de.occurred_at) filter (where de.type = 'invoice.status_changed' and de.payload->>'to' = 'PAID') as paid
        from domain_event de
       where de.entity_type = 'invoice' and de.entity_id in (select id from inv)
       group by de.entity_id),
    approved as (
      select l.invoice_id, min(coalesce(te.approved_at, e.approved_at, m.approved_at)) as approved,
             min(be.created_at) as billed
        from invoice_line l
        join billing_event be on be.id = l.billing_event_id
        left join time_entry te on be.source_type = 'TIME' and te.id = be.source_id
        left join expense e on be.source_type = 'EXPENSE' and e.id = be.source_id
        left join milestone m on be.source_type = 'MILESTONE' and m.id = be.source_id
       where l.voided_at is null and l.invoice_id in (select id from inv)
       group by l.invoice_id),
    s as (
      select to_char(ev.generated at time zone 'UTC', 'YYYY-MM') as month, inv.legal_entity_id, st.step,
             st.stage, st.duration
        from ev join inv on inv.id = ev.invoice_id
        left join approved a on a.invoice_id = ev.invoice_id
        cross join lateral (values
          (1, 'APPROVED_TO_BILLED', a.billed - a.approved),
          (2, 'BILLED_TO_GENERATED', ev.generated - a.billed),
          (3, 'APPROVED_TO_GENERATED', ev.generated - a.approved),
          (4, 'GENERATED_TO_ISSUED', ev.issued - ev.generated),
          (5, 'ISSUED_TO_POSTED', ev.posted - ev.issued),
          (6, 'POSTED_TO_PAID', ev.paid - ev.posted),
          (7, 'ISSUED_TO_PAID', ev.paid - ev.issued),
          (8, 'GENERATED_TO_PAID', ev.paid - ev.generated),
          (9, 'APPROVED_TO_PAID', ev.paid - a.approved)) as st(step, stage, duration)
       where ev.generated is not null and st.duration is not null
         and (ev.generated at time zone 'UTC')::date <= ${asOf}::date)
    select coalesce(s.month, 'ALL') as month, le.code as legal_entity, s.stage, count(*)::int as invoices,
           ${pct("0.5")} as p50, ${pct("0.9")} as p90
      from s join legal_entity le on le.id = s.legal_entity_id
     group by grouping sets ((s.month, le.code, s.step, s.stage), (le.code, s.step, s.stage))
     order by coalesce(s.month, 'ALL'), le.code, s.step`);
  return rows.map((r) => ({
    month: String(r.month),
    legalEntity: String(r.legal_entity),
    stage: String(r.stage),
    invoices: Number(r.invoices),
    p50Days: String(r.p50),
    p90Days: String(r.p90),
  }));
}

describe("KPI summaries", () => {
  it("equal the plain SQL after random lifecycles, per legal-entity scope", async () => {
    console.info(`kpi summaries: seed ${SEED} (replay with KPI_SEED=${SEED})`);
    const rnd = prng(SEED);
    const firms = [];
    for (const billingModel of ["TIME_AND_MATERIALS", "RETAINER"] as const) {
      const basics = await seedBasics(t.db);
      const oppId = await wonOpportunity(t.db, basics, {
        billingModel,
        ...(billingModel === "RETAINER"
          ? { retainerAmount: "5000.00", retainerHours: "20.00" }
          : {}),
      });
      const conv = await execute(t.db, op.convertOpportunity, ctx, { opportunityId: oppId });
      await execute(t.db, op.activateProject, ctx, { projectId: conv.project.id });
      firms.push({
        project: conv.project.id,
        contract: conv.contract.id,
        resource: await newResource(t.db),
      });
    }
    const codes = await t.sql<{ code: string }[]>`select code from legal_entity order by code`;
    const day = () => `2026-0${1 + rnd.int(2)}-${String(1 + rnd.int(28)).padStart(2, "0")}`;
    const hours = () => `${1 + rnd.int(8)}.${rnd.pick(["00", "25", "50", "75"])}`;
    const steps: Record<string, number> = {};
    const weights = {
      time: 4,
      approve: 4,
      approveRace: 1,
      reject: 1,
      edit: 1,
      move: 1,
      delete: 1,
      bill: 2,
      generate: 3,
      issue: 3,
      post: 3,
      pay: 2,
      payRest: 2,
      dispute: 1,
      void: 1,
    } as const;
    const kinds = Object.entries(weights).flatMap(([k, w]) =>
      Array.from({ length: w }, () => k as keyof typeof weights),
    );
    for (let i = 0; i < 200; i++) {
      const f = rnd.pick(firms)!;
      // Steps pick an entry or invoice in a state they apply to, so most of them do something.
      const entry = async (states: string[]) =>
        rnd.pick(
          (
            await t.sql<{ id: string }[]>`select id from time_entry
              where project_id = ${f.project} and status::text = any(${states}) order by id`
          ).map((r) => r.id),
        );
      const invoiceIn = async (states: string[]) =>
        rnd.pick(
          (
            await t.sql<{ id: string }[]>`select id from invoice
              where contract_id = ${f.contract} and status::text = any(${states}) order by id`
          ).map((r) => r.id),
        );
      const kind = rnd.pick(kinds)!;
      steps[kind] = (steps[kind] ?? 0) + 1;
      switch (kind) {
        case "time":
          await addTime(t.db, f.project, f.resource, [
            {
              workDate: day(),
              hours: hours(),
              billRate: `${100 + rnd.int(100)}.00`,
              billable: rnd.int(4) > 0,
            },
          ]);
          break;
        case "approve":
        case "reject": {
          const id = await entry(["SUBMITTED", "SUBMITTED", "SUBMITTED", "APPROVED", "REJECTED"]);
          if (id)
            await attempt(() =>
              execute(
                t.db,
                (kind === "approve" ? op.approveTimeEntries : op.rejectTimeEntries) as never,
                ctx,
                { ids: [id], reason: "test" },
              ),
            );
          break;
        }
        case "approveRace": {
          // Two transactions adding to the same summary rows at once.
          const ids = await addTime(t.db, f.project, f.resource, [
            { workDate: "2026-01-20", hours: hours(), billRate: "150.00" },
            { workDate: "2026-01-21", hours: hours(), billRate: "150.00" },
          ]);
          await Promise.all(
            ids.map((id) =>
              attempt(() => execute(t.db, op.approveTimeEntries, ctx, { ids: [id] })),
            ),
          );
          break;
        }
        case "edit": // as an inbound apply would: hours changed in place
          await t.sql`update time_entry set hours = ${hours()}, version = version + 1
            where id = ${(await entry(["SUBMITTED", "APPROVED"])) ?? null}`;
          break;
        case "move": // to another month
          await t.sql`update time_entry set work_date = ${day()}::date, version = version + 1
            where id = ${(await entry(["SUBMITTED", "APPROVED"])) ?? null}`;
          break;
        case "delete":
          await t.sql`delete from time_entry
            where id = ${(await entry(["SUBMITTED", "REJECTED"])) ?? null}`;
          break;
        case "bill":
          await attempt(() =>
            execute(t.db, op.runBilling, ctx, {
              contractId: f.contract,
              periodEnd: rnd.pick(["2026-01-31", "2026-02-15", "2026-02-28"])!,
            }),
          );
          break;
        case "generate":
          await attempt(() =>
            execute(t.db, op.generateInvoice, ctx, {
              contractId: f.contract,
              periodEnd: "2026-02-28",
            }),
          );
          break;
        case "issue": {
          const id = await invoiceIn(["DRAFT"]);
          if (id) await attempt(() => execute(t.db, op.issueInvoice, ctx, { invoiceId: id }));
          break;
        }
        case "post": {
          const id = await invoiceIn(["ISSUED", "PARTIALLY_PAID", "PAID"]);
          if (id)
            await attempt(() =>
              execute(t.db, op.markInvoicePosted, ctx, { invoiceId: id, erpNumber: `ERP-${id}` }),
            );
          break;
        }
        case "pay":
        case "payRest": {
          const id = await invoiceIn(["ISSUED", "POSTED", "PARTIALLY_PAID"]);
          if (!id) break;
          const [row] = await t.sql<{ rest: string; part: string }[]>`
            select (total - amount_paid)::text as rest,
                   greatest(0.01, trunc((total - amount_paid) / 3, 2))::text as part
              from invoice where id = ${id}`;
          await attempt(() =>
            execute(t.db, op.recordPayment, ctx, {
              invoiceId: id,
              amount: kind === "pay" ? row!.part : row!.rest,
            }),
          );
          break;
        }
        case "dispute": {
          const id = await invoiceIn(["ISSUED", "POSTED"]);
          if (id)
            await attempt(() =>
              execute(t.db, op.disputeInvoice, ctx, { invoiceId: id, reason: "test" }),
            );
          break;
        }
        case "void": {
          const id = await invoiceIn(["DRAFT", "ISSUED", "POSTED", "DISPUTED"]);
          if (id)
            await attempt(() =>
              execute(t.db, op.voidInvoice, ctx, { invoiceId: id, reason: "test" }),
            );
          break;
        }
      }
    }
    console.info("kpi summaries: steps", steps);
    const scopes: LegalEntityScope[] = [undefined, ...codes.map((c) => [c.code]), []];
    const reached = { utilisation: 0, cycle: 0, paid: 0 };
    // Invoices and approvals carry today's instants: today (null) is the day their cycle counts.
    for (const day of ["2026-01-14", "2026-01-31", "2026-02-10", "2026-03-01", null]) {
      for (const scope of scopes) {
        const kpi = await kpiDay(t.db, day, scope);
        const asOf = kpi.asOf;
        const label = `asOf ${asOf}, scope ${JSON.stringify(scope ?? "all")}`;
        const plainU = await plainUtilisation(t.db, asOf, scope);
        expect(await utilisation(t.db, kpi), label).toEqual(plainU);
        const plainC = await plainCycleTime(t.db, asOf, scope);
        expect(await invoiceCycleTime(t.db, kpi), label).toEqual(plainC);
        if (scope === undefined) {
          reached.utilisation = Math.max(reached.utilisation, plainU.length);
          reached.cycle = Math.max(reached.cycle, plainC.length);
          reached.paid += plainC.filter((r) => r.stage === "POSTED_TO_PAID").length;
        }
        if (scope?.length === 0) expect(plainU.concat(plainC as never)).toEqual([]);
      }
    }
    // The comparisons were over real figures: months of hours, invoices through several stages.
    console.info("kpi summaries: rows compared (max per day)", reached);
    expect(reached.utilisation).toBeGreaterThanOrEqual(2);
    expect(reached.cycle).toBeGreaterThanOrEqual(4);
  }, 180_000);
});
