/**
 * Invoice numbers: each legal entity has its own unbroken series, numbers are taken when an
 * invoice is issued (in the issuing transaction), and nothing that is refused or rolled back
 * leaves a hole.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError } from "../errors.ts";
import { createTestDatabase, type TestDatabase } from "../testing/index.ts";
import { addTime, newResource, seedBasics, wonOpportunity } from "../testing/lifecycle.ts";
import { execute, type OperationContext, operations as op } from "./index.ts";

let t: TestDatabase;
const ctx: OperationContext = { actor: "numbers-test", requestId: null };
const PER_ENTITY = 10;

interface Entity {
  legalEntityId: string;
  prefix: string;
  contractId: string;
  drafts: string[];
}
const entities: Entity[] = [];

/** A converted, active T&M contract with one invoice-ready month per draft. */
async function entityWithDrafts(): Promise<Entity> {
  const basics = await seedBasics(t.db);
  const conv = await execute(t.db, op.convertOpportunity, ctx, {
    opportunityId: await wonOpportunity(t.db, basics),
  });
  await execute(t.db, op.activateProject, ctx, { projectId: conv.project.id });
  const res = await newResource(t.db);
  const drafts: string[] = [];
  for (let m = 1; m <= PER_ENTITY; m++) {
    const month = `2026-${String(m).padStart(2, "0")}`;
    const ids = await addTime(t.db, conv.project.id, res, [
      { workDate: `${month}-10`, hours: "2.00", billRate: "100.00" },
    ]);
    await execute(t.db, op.approveTimeEntries, ctx, { ids });
    const periodEnd = `${month}-28`;
    await execute(t.db, op.runBilling, ctx, { contractId: conv.contract.id, periodEnd });
    const draft = await execute(t.db, op.generateInvoice, ctx, {
      contractId: conv.contract.id,
      periodEnd,
    });
    expect(draft.number).toBeNull();
    drafts.push(draft.id);
  }
  // A refused generateInvoice (nothing left to invoice) takes nothing either.
  await expect(
    execute(t.db, op.generateInvoice, ctx, {
      contractId: conv.contract.id,
      periodEnd: "2026-12-31",
    }),
  ).rejects.toBeInstanceOf(DomainError);
  const [row] = await t.sql<{ prefix: string }[]>`
    select invoice_prefix as prefix from legal_entity where id = ${basics.legalEntityId}`;
  return {
    legalEntityId: basics.legalEntityId,
    prefix: row!.prefix,
    contractId: conv.contract.id,
    drafts,
  };
}

/** Issues an invoice inside a transaction that then rolls back (the number must come back). */
async function issueThenRollBack(invoiceId: string): Promise<string | null> {
  const rollback = new Error("rolled back on purpose");
  let taken: string | null = null;
  await t.db
    .transaction(async (tx) => {
      const issued = await op.issueInvoice.run(tx, ctx, { invoiceId });
      taken = issued.number;
      // Hold the counter a moment, so concurrent issuers queue behind this transaction.
      await tx.execute(sql`select pg_sleep(0.05)`);
      throw rollback;
    })
    .catch((error) => {
      // A refusal (the invoice was issued meanwhile) takes nothing either.
      if (error !== rollback && !(error instanceof DomainError)) throw error;
    });
  return taken;
}

beforeAll(async () => {
  t = await createTestDatabase({ max: 24 });
  entities.push(await entityWithDrafts(), await entityWithDrafts());
});
afterAll(async () => {
  await t?.drop();
});

describe("invoice numbers", () => {
  it("are not taken by drafts", async () => {
    const [row] = await t.sql<{ n: number }[]>`
      select count(*)::int as n from invoice where number is not null`;
    expect(row!.n).toBe(0);
  });

  it("form one unbroken series per legal entity under 20 concurrent issues, refusals and rollbacks", async () => {
    const [a, b] = entities as [Entity, Entity];
    // Interleave the two entities; alongside each issue, a rolled-back issue of the next draft
    // (it takes a number, then gives it back) and a second, refused issue of the same invoice.
    const issues: Promise<unknown>[] = [];
    const rolledBack: Promise<string | null>[] = [];
    let refused = 0;
    let issuedCount = 0;
    for (let k = 0; k < PER_ENTITY; k++) {
      for (const e of [a, b]) {
        const id = e.drafts[k]!;
        for (let attempt = 0; attempt < 2; attempt++) {
          issues.push(
            execute(t.db, op.issueInvoice, ctx, { invoiceId: id, issuedOn: "2026-11-02" }).then(
              () => issuedCount++,
              (error) => {
                if (!(error instanceof DomainError)) throw error;
                refused++;
              },
            ),
          );
        }
        if (k % 3 === 0) rolledBack.push(issueThenRollBack(e.drafts[(k + 1) % PER_ENTITY]!));
      }
    }
    const taken = await Promise.all(rolledBack);
    await Promise.all(issues);
    // Each invoice was issued exactly once: one of its two attempts was refused.
    expect(issuedCount).toBe(2 * PER_ENTITY);
    expect(refused).toBe(2 * PER_ENTITY);
    // Rolled-back attempts that got as far as taking a number took one of the series' own
    // numbers, and gave it back (the series below is still 1..n).
    for (const n of taken.filter((x): x is string => x !== null)) {
      expect(Number(n.replace(/^.*-/, ""))).toBeLessThanOrEqual(PER_ENTITY);
    }

    for (const e of [a, b]) {
      const rows = await t.sql<{ number: string; status: string }[]>`
        select number, status::text from invoice where legal_entity_id = ${e.legalEntityId}`;
      expect(rows).toHaveLength(PER_ENTITY);
      expect(rows.every((r) => r.status === "ISSUED")).toBe(true);
      const numbers = rows.map((r) => {
        expect(r.number.startsWith(e.prefix)).toBe(true);
        return Number(r.number.slice(e.prefix.length));
      });
      numbers.sort((x, y) => x - y);
      expect(numbers).toEqual(Array.from({ length: PER_ENTITY }, (_, i) => i + 1));
      const [series] = await t.sql<{ last: number }[]>`
        select last_number as last from invoice_number_series where legal_entity_id = ${e.legalEntityId}`;
      expect(series!.last).toBe(PER_ENTITY);
    }
    // The outbound ERP posting and the domain events carry the number each invoice got.
    const mismatched = await t.sql`
      select i.id from invoice i
      join outbound_command o on o.entity_id = i.id and o.kind = 'invoice.post'
      where o.payload->>'number' is distinct from i.number`;
    expect(mismatched).toEqual([]);
    const events = await t.sql`
      select i.id from invoice i
      join domain_event d on d.entity_id = i.id and d.type = 'invoice.status_changed'
        and d.payload->>'to' = 'ISSUED'
      where d.payload->>'number' is distinct from i.number`;
    expect(events).toEqual([]);
  });

  it("continue the series after a rollback with the next number, not past a hole", async () => {
    const e = entities[0]!;
    // A fresh draft of this entity: more time, billed and generated.
    const [project] = await t.sql<{ id: string; resource: string }[]>`
      select p.id, te.resource_id as resource from project p
      join time_entry te on te.project_id = p.id
      where p.contract_id = ${e.contractId} limit 1`;
    const ids = await addTime(t.db, project!.id, project!.resource, [
      { workDate: "2026-11-10", hours: "1.00", billRate: "100.00" },
    ]);
    await execute(t.db, op.approveTimeEntries, ctx, { ids });
    await execute(t.db, op.runBilling, ctx, { contractId: e.contractId, periodEnd: "2026-11-30" });
    const draft = await execute(t.db, op.generateInvoice, ctx, {
      contractId: e.contractId,
      periodEnd: "2026-11-30",
    });
    expect(await issueThenRollBack(draft.id)).toBe(`${e.prefix}${PER_ENTITY + 1}`);
    const [still] = await t.sql<{ number: string | null; status: string }[]>`
      select number, status::text from invoice where id = ${draft.id}`;
    expect(still).toEqual({ number: null, status: "DRAFT" });
    const issued = await execute(t.db, op.issueInvoice, ctx, { invoiceId: draft.id });
    expect(issued.number).toBe(`${e.prefix}${PER_ENTITY + 1}`);
  });

  it("are refused on a draft, and required once issued (database check)", async () => {
    const e = entities[1]!;
    const [issued] = await t.sql<{ id: string }[]>`
      select id from invoice where legal_entity_id = ${e.legalEntityId} and status = 'ISSUED' limit 1`;
    await expect(
      t.sql`update invoice set number = null where id = ${issued!.id}`,
    ).rejects.toMatchObject({ constraint_name: "invoice_numbered_once_issued" });
    await expect(
      t.sql`update invoice set status = 'DRAFT' where id = ${issued!.id}`,
    ).rejects.toMatchObject({ constraint_name: "invoice_numbered_once_issued" });
  });
});
