/**
 * The closed-won hook on a real database: a Closed Won opportunity converts through
 * convertOpportunity; one with missing data refuses with the SALES_OPS RemediableError (the
 * engine raises it as the exception) and converts once the fix arrives; manual mode leaves it.
 */
import { RemediableError, schema } from "@pshub/db";
import {
  createTestDatabase,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppliedChange } from "../engine/types.ts";
import { closedWonHook } from "./closed-won.ts";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const applied = (entityType: "opportunity" | "customer", entityId: string): AppliedChange => ({
  entityType,
  entityId,
  created: false,
  changedFields: ["stage"],
  change: {
    entityType,
    system: "SALESFORCE",
    object: entityType === "opportunity" ? "Opportunity" : "Account",
    externalId: "006x",
    fields: {},
  },
  inboxEventId: 1,
});

const contractsOf = (opportunityId: string) =>
  t.db.select().from(schema.contract).where(eq(schema.contract.opportunityId, opportunityId));

describe("closed-won → convertOpportunity", () => {
  it("converts a Closed Won opportunity once (a second change is a no-op)", async () => {
    const basics = await seedBasics(t.db);
    const opp = await wonOpportunity(t.db, basics);
    const hook = closedWonHook({ autoConvert: true });
    await t.db.transaction((tx) => hook.run(tx, applied("opportunity", opp)));
    expect(await contractsOf(opp)).toHaveLength(1);
    await t.db.transaction((tx) => hook.run(tx, applied("opportunity", opp)));
    expect(await contractsOf(opp)).toHaveLength(1);
    const [row] = await t.db
      .select()
      .from(schema.opportunity)
      .where(eq(schema.opportunity.id, opp));
    expect(row!.convertedAt).not.toBeNull();
  });

  it("refuses missing data with a SALES_OPS remediation, and converts once the source is fixed", async () => {
    const basics = await seedBasics(t.db, { customerLegalEntity: false });
    const opp = await wonOpportunity(t.db, basics, { legalEntityId: null, billingModel: null });
    const hook = closedWonHook({ autoConvert: true });
    const err = await t.db
      .transaction((tx) => hook.run(tx, applied("opportunity", opp)))
      .catch((e) => e);
    expect(err).toBeInstanceOf(RemediableError);
    expect(err.exception.owner).toBe("SALES_OPS");
    expect(err.exception.remediation).toMatch(/Opportunity\.Legal_Entity__c/);
    expect(err.exception.remediation).toMatch(/Opportunity\.Billing_Model__c/);
    expect(await contractsOf(opp)).toHaveLength(0);
    // The engine records the exception (here: as it would) ...
    const [exc] = await t.db
      .insert(schema.syncException)
      .values({ ...err.exception, dueAt: new Date(Date.now() + 86_400_000) })
      .returning();
    // ... the fix arrives from Salesforce (the applier writes it), and the next change converts.
    await t.db
      .update(schema.opportunity)
      .set({ legalEntityId: basics.legalEntityId, billingModel: "FIXED_FEE" })
      .where(eq(schema.opportunity.id, opp));
    await t.db.transaction((tx) => hook.run(tx, applied("opportunity", opp)));
    expect(await contractsOf(opp)).toHaveLength(1);
    const [after] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.id, exc!.id));
    expect(after!.status).toBe("RESOLVED");
  });

  it("an account fix re-triggers its blocked deals", async () => {
    const basics = await seedBasics(t.db, { customerLegalEntity: false });
    const opp = await wonOpportunity(t.db, basics, { legalEntityId: null });
    const hook = closedWonHook({ autoConvert: true });
    const err = await t.db
      .transaction((tx) => hook.run(tx, applied("opportunity", opp)))
      .catch((e) => e);
    expect(err).toBeInstanceOf(RemediableError);
    await t.db
      .insert(schema.syncException)
      .values({ ...err.exception, dueAt: new Date(Date.now() + 86_400_000) });
    await t.db
      .update(schema.customer)
      .set({ legalEntityId: basics.legalEntityId })
      .where(eq(schema.customer.id, basics.customerId));
    await t.db.transaction((tx) => hook.run(tx, applied("customer", basics.customerId)));
    expect(await contractsOf(opp)).toHaveLength(1);
  });

  it("a deal whose Tax_Jurisdiction__c differs from its account's is refused naming it; aligned in the source, it converts", async () => {
    const basics = await seedBasics(t.db);
    await t.db.insert(schema.taxRate).values({
      jurisdiction: `${basics.jurisdiction}-B`,
      rate: "0.0500",
      validFrom: "2020-01-01",
    });
    const opp = await wonOpportunity(t.db, basics, {
      taxJurisdiction: `${basics.jurisdiction}-B`,
    });
    const hook = closedWonHook({ autoConvert: true });
    const err = await t.db
      .transaction((tx) => hook.run(tx, applied("opportunity", opp)))
      .catch((e) => e);
    expect(err).toBeInstanceOf(RemediableError);
    expect(err.exception).toMatchObject({ owner: "SALES_OPS", code: "CONVERSION_BLOCKED" });
    expect(err.exception.remediation).toMatch(
      new RegExp(
        `Fix Opportunity\\.Tax_Jurisdiction__c on .*: tax jurisdiction ${basics.jurisdiction}-B differs from the account's ${basics.jurisdiction}`,
      ),
    );
    expect(await contractsOf(opp)).toHaveLength(0);
    await t.db
      .update(schema.opportunity)
      .set({ taxJurisdiction: basics.jurisdiction })
      .where(eq(schema.opportunity.id, opp));
    await t.db.transaction((tx) => hook.run(tx, applied("opportunity", opp)));
    expect(await contractsOf(opp)).toHaveLength(1);
  });

  it("an account without a jurisdiction takes the deal's at conversion", async () => {
    const basics = await seedBasics(t.db);
    await t.db
      .update(schema.customer)
      .set({ taxJurisdiction: null })
      .where(eq(schema.customer.id, basics.customerId));
    await t.db.insert(schema.taxRate).values({
      jurisdiction: `${basics.jurisdiction}-D`,
      rate: "0.0700",
      validFrom: "2020-01-01",
    });
    const opp = await wonOpportunity(t.db, basics, {
      taxJurisdiction: `${basics.jurisdiction}-D`,
    });
    await t.db.transaction((tx) =>
      closedWonHook({ autoConvert: true }).run(tx, applied("opportunity", opp)),
    );
    expect(await contractsOf(opp)).toHaveLength(1);
    const [cust] = await t.db
      .select({ taxJurisdiction: schema.customer.taxJurisdiction })
      .from(schema.customer)
      .where(eq(schema.customer.id, basics.customerId));
    expect(cust!.taxJurisdiction).toBe(`${basics.jurisdiction}-D`);
  });

  it("does nothing in manual mode", async () => {
    const basics = await seedBasics(t.db);
    const opp = await wonOpportunity(t.db, basics);
    await t.db.transaction((tx) =>
      closedWonHook({ autoConvert: false }).run(tx, applied("opportunity", opp)),
    );
    expect(await contractsOf(opp)).toHaveLength(0);
  });
});
