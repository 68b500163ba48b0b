/**
 * Kpis.billingLeakage over the seeded demo firm, then after changes: each reason appears for the
 * items a hand-written statement picks out (READY events waiting for an invoice, eligible T&M time
 * no run has billed), and a change moves exactly its items to their new reason — a contract put
 * back to DRAFT, an open exception on a project, time on a fixed-fee contract, a voided billing
 * key, and a billing run (its items leave NOT_BILLED_YET for AWAITING_INVOICE).
 */
import { execute, operations, seed } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import type { SubgraphServer } from "@pshub/subgraph-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOpsSubgraph } from "./index.ts";
import type { OpsLoaders } from "./loaders.ts";

let t: TestDatabase;
let server: SubgraphServer<OpsLoaders>;
const AS_OF = "2026-11-20";
/** The demo's unbilled time was approved 5–16 days before AS_OF. */
const AGE = 7;

// biome-ignore lint/suspicious/noExplicitAny: result rows are walked ad hoc
type Row = Record<string, any>;

async function leakage(olderThanDays = AGE, headers: Record<string, string> = {}): Promise<Row[]> {
  const result = await server.execute(
    `query($asOf: Date, $days: Int!) { kpis(asOf: $asOf) { billingLeakage(olderThanDays: $days) {
      kind itemId billingEventId legalEntity contractId projectId currency hours amount approvedOn ageDays reason detail
    } } }`,
    { asOf: AS_OF, days: olderThanDays },
    headers,
  );
  expect(result.errors).toBeUndefined();
  return result.data?.kpis.billingLeakage;
}

const ids = (rows: Row[]) => rows.map((r) => r.itemId as string).sort();

/** Approved billable T&M time on billable contracts with no billing event, approved > AGE days before AS_OF. */
async function eligibleOldTime(): Promise<Row[]> {
  return [
    ...(await t.sql`
      select te.id::text as id, p.contract_id::text as contract_id, te.project_id::text as project_id
        from time_entry te join project p on p.id = te.project_id join contract c on c.id = p.contract_id
       where te.status = 'APPROVED' and te.billable and te.work_date <= ${AS_OF}::date
         and c.billing_model = 'TIME_AND_MATERIALS' and c.status in ('ACTIVE', 'COMPLETED')
         and not exists (select 1 from billing_event b where b.source_type = 'TIME' and b.source_id = te.id)
         and ${AS_OF}::date - coalesce((te.approved_at at time zone 'UTC')::date, te.work_date) > ${AGE}
       order by 1`),
  ];
}

beforeAll(async () => {
  t = await createTestDatabase();
  await seed.seedDemo(t.sql);
  server = createOpsSubgraph(t.db);
}, 120_000);

afterAll(async () => {
  await t?.drop();
});

describe("billing leakage", () => {
  it("READY events waiting for an invoice and eligible unbilled time, each with its reason", async () => {
    const rows = await leakage();
    const ready = await t.sql`
      select be.source_id::text as id from billing_event be
        left join time_entry te on be.source_type = 'TIME' and te.id = be.source_id
        left join expense e on be.source_type = 'EXPENSE' and e.id = be.source_id
        left join milestone m on be.source_type = 'MILESTONE' and m.id = be.source_id
       where be.status = 'READY' and ${AS_OF}::date - (coalesce(te.approved_at, e.approved_at, m.approved_at,
               be.created_at) at time zone 'UTC')::date > ${AGE}
       order by 1`;
    expect(ready.length).toBeGreaterThan(0);
    expect(ids(rows.filter((r) => r.reason === "AWAITING_INVOICE"))).toEqual(
      ready.map((r) => r.id).sort(),
    );
    expect(rows.filter((r) => r.reason === "AWAITING_INVOICE").every((r) => r.billingEventId)).toBe(
      true,
    );
    const time = await eligibleOldTime();
    expect(time.length).toBeGreaterThan(0);
    const tm = rows.filter(
      (r) =>
        r.kind === "TIME" &&
        r.reason === "NOT_BILLED_YET" &&
        time.some((x) => x.contract_id === r.contractId),
    );
    expect(ids(tm)).toEqual(time.map((r) => r.id).sort());
    // Nothing younger than the age asked for; oldest first.
    expect(rows.every((r) => r.ageDays > AGE)).toBe(true);
    expect(rows.map((r) => r.ageDays)).toEqual(
      [...rows.map((r) => r.ageDays)].sort((a, b) => b - a),
    );
    // A larger age lists a subset.
    const older = await leakage(90);
    expect(older.length).toBeLessThan(rows.length);
    expect(older.every((r) => r.ageDays > 90)).toBe(true);
  });

  it("after changes: each item moves to the reason its change gives it", async () => {
    const time = await eligibleOldTime();
    const byContract = new Map<string, Row[]>();
    for (const r of time)
      byContract.set(r.contract_id, [...(byContract.get(r.contract_id) ?? []), r]);
    const [draftContract, flaggedContract, billedContract] = [...byContract.keys()];
    expect(billedContract).toBeDefined();

    // 1. A contract back to DRAFT: its items are CONTRACT_NOT_ACTIVE.
    await t.sql`update contract set status = 'DRAFT' where id = ${draftContract!}`;
    // 2. An open exception on a project of another contract: its items are EXCEPTION_OPEN.
    const flaggedProject = byContract.get(flaggedContract!)![0]!.project_id as string;
    await t.sql`insert into sync_exception (owner, code, entity_type, entity_id, message, remediation, due_at)
      values ('PROJECT_OPS', 'TEST_HOLD', 'project', ${flaggedProject}, 'held', 'release it', now() + interval '1 day')`;
    // 3. Approved billable time on a fixed-fee contract's project: NO_BILLING_RULE.
    const [ff] = await t.sql`
      select p.id::text as project_id, p.contract_id::text as contract_id, te.resource_id::text as resource_id
        from project p join contract c on c.id = p.contract_id join time_entry te on te.project_id = p.id
       where c.billing_model = 'FIXED_FEE' and c.status = 'ACTIVE' limit 1`;
    const [fixedTime] = await t.sql`
      insert into time_entry (project_id, resource_id, work_date, hours, billable, bill_rate, currency, status, approved_at)
      select ${ff!.project_id}, ${ff!.resource_id}, date '2026-09-01', 3.5, true, 150, c.currency, 'APPROVED',
             timestamptz '2026-09-02 10:00Z'
        from contract c where c.id = ${ff!.contract_id}
      returning id::text`;
    // 4. A VOID billing event holding an eligible entry's key (of a contract not changed above).
    const others = time.filter(
      (r) => ![draftContract, flaggedContract, billedContract].includes(r.contract_id),
    );
    const voided = others[0] ?? null;
    if (voided)
      await t.sql`insert into billing_event (contract_id, project_id, customer_id, source_type, source_id, period,
          description, quantity, rate, amount, currency, status)
        select c.id, te.project_id, c.customer_id, 'TIME', te.id, to_char(te.work_date, 'YYYY-MM'), 'voided',
               te.hours, te.bill_rate, te.hours * te.bill_rate, c.currency, 'VOID'
          from time_entry te join project p on p.id = te.project_id join contract c on c.id = p.contract_id
         where te.id = ${voided.id}`;
    // 5. A billing run of a third contract: its eligible items become READY billing events.
    await execute(
      t.db,
      operations.runBilling,
      { actor: "test" },
      {
        contractId: billedContract!,
        periodEnd: AS_OF,
      },
    );

    const rows = await leakage();
    const reasonOf = new Map(rows.map((r) => [r.itemId as string, r]));
    for (const r of byContract.get(draftContract!)!) {
      expect(reasonOf.get(r.id)?.reason, r.id).toBe("CONTRACT_NOT_ACTIVE");
      expect(reasonOf.get(r.id)?.detail).toBe("contract DRAFT");
    }
    for (const r of byContract
      .get(flaggedContract!)!
      .filter((x) => x.project_id === flaggedProject)) {
      expect(reasonOf.get(r.id)?.reason, r.id).toBe("EXCEPTION_OPEN");
      expect(reasonOf.get(r.id)?.detail).toBe("TEST_HOLD (PROJECT_OPS, project)");
    }
    expect(reasonOf.get(fixedTime!.id)).toMatchObject({
      kind: "TIME",
      reason: "NO_BILLING_RULE",
      detail: "FIXED_FEE bills no TIME",
      hours: "3.50",
      amount: "525.00",
      approvedOn: "2026-09-02",
      ageDays: 79,
    });
    if (voided) expect(reasonOf.get(voided.id)?.reason).toBe("BILLING_EVENT_VOIDED");
    for (const r of byContract.get(billedContract!)!) {
      expect(reasonOf.get(r.id)?.reason, r.id).toBe("AWAITING_INVOICE");
      expect(reasonOf.get(r.id)?.billingEventId).toBeTruthy();
    }
    // The rest of the eligible time is unchanged.
    for (const r of others.slice(voided ? 1 : 0))
      expect(reasonOf.get(r.id)?.reason, r.id).toBe("NOT_BILLED_YET");
  });

  it("a caller scoped to one legal entity sees only its items; a bad age is BAD_USER_INPUT", async () => {
    const everything = await leakage();
    const uk = await leakage(AGE, {
      "x-pshub-roles": "finance",
      "x-pshub-legal-entities": "AR-UK",
    });
    expect(uk.length).toBeGreaterThan(0);
    expect(uk).toEqual(everything.filter((r) => r.legalEntity === "AR-UK"));
    const bad = await server.execute(
      `{ kpis(asOf: "${AS_OF}") { billingLeakage(olderThanDays: -1) { itemId } } }`,
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});
