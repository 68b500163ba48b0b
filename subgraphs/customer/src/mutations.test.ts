/** convertOpportunity through the customer subgraph (lifecycle mutations, db/src/lifecycle). */
import { auditLog, contract, syncException } from "@pshub/db/schema";
import {
  createTestDatabase,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCustomerSubgraph } from "./index.ts";

let t: TestDatabase;
let server: ReturnType<typeof createCustomerSubgraph>;

beforeAll(async () => {
  t = await createTestDatabase();
  server = createCustomerSubgraph(t.db);
});
afterAll(async () => {
  await t?.drop();
});

const run = (query: string, variables: Record<string, unknown> = {}) =>
  server.execute(query, variables, { "x-pshub-principal": "sales@firm.test" });

const CONVERT = /* GraphQL */ `
  mutation Convert($id: ID!, $key: String) {
    convertOpportunity(opportunityId: $id, idempotencyKey: $key) {
      opportunity { id convertedAt }
      customer { id name }
      contract { id status billingModel totalValue { amount currency } }
      project { id }
    }
  }
`;

describe("convertOpportunity", () => {
  it("converts a closed-won opportunity once; the same key replays the result", async () => {
    const basics = await seedBasics(t.db);
    const oppId = await wonOpportunity(t.db, basics, { amount: "12500.50" });
    const first = await run(CONVERT, { id: oppId, key: "conv-1" });
    expect(first.errors).toBeUndefined();
    const payload = first.data!.convertOpportunity;
    expect(payload.contract).toMatchObject({
      status: "DRAFT",
      billingModel: "TIME_AND_MATERIALS",
      totalValue: { amount: "12500.50", currency: "USD" },
    });
    expect(payload.opportunity.convertedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const replay = await run(CONVERT, { id: oppId, key: "conv-1" });
    expect(replay.data!.convertOpportunity).toEqual(payload);
    const again = await run(CONVERT, { id: oppId });
    expect(again.errors?.[0]?.extensions).toMatchObject({
      code: "INVALID_TRANSITION",
      entityType: "Opportunity",
      stage: "CLOSED_WON",
      reason: "ALREADY_CONVERTED",
    });
    const audits = await t.db.select().from(auditLog).where(eq(auditLog.entityId, oppId));
    expect(audits.map((a) => [a.actor, a.outcome]).sort()).toEqual([
      ["sales@firm.test", "INVALID_TRANSITION"],
      ["sales@firm.test", "ok"],
      ["sales@firm.test", "replayed"],
    ]);
  });

  it("missing data is VALIDATION_FAILED with the problems and a SALES_OPS exception", async () => {
    const basics = await seedBasics(t.db);
    const oppId = await wonOpportunity(t.db, basics, { billingModel: null, startDate: null });
    const result = await run(CONVERT, { id: oppId });
    expect(result.data).toBeNull();
    const ext = result.errors![0]!.extensions!;
    expect(ext.code).toBe("VALIDATION_FAILED");
    expect((ext.problems as { field: string }[]).map((p) => p.field)).toEqual([
      "Opportunity.Billing_Model__c",
      "Opportunity.Start_Date__c",
    ]);
    const [exception] = await t.db
      .select()
      .from(syncException)
      .where(eq(syncException.id, ext.exceptionId as string));
    expect(exception?.owner).toBe("SALES_OPS");
    expect(await t.db.select().from(contract).where(eq(contract.opportunityId, oppId))).toEqual([]);
  });
});
