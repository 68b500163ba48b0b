/**
 * The sandbox ERP's live activity (npm start in sandbox mode) over real HTTP and real Postgres:
 * it posts the hub's issued invoice, waits until the hub shows it POSTED (read back by the
 * NetSuite connector), then pays it — the first one in two instalments — so the invoice walks
 * ISSUED → POSTED → PARTIALLY_PAID → PAID through the invoice state machine, with two payments
 * that add up to its total exactly.
 */
import { createLogger, schema } from "@pshub/db";
import { createTestDatabase, issuedInvoice, type TestDatabase } from "@pshub/db/testing";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Applier } from "../engine/applier.ts";
import { createIngest } from "../engine/engine.ts";
import { NetSuiteConnector } from "../netsuite/connector.ts";
import { startSandboxActivity } from "./activity.ts";
import { NetSuiteSandbox } from "./netsuite/server.ts";

let t: TestDatabase;
let sandbox: NetSuiteSandbox;
let baseUrl: string;
let activity: { stop(): void } | undefined;
const token = "activity-token";

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = new NetSuiteSandbox({ accessToken: token });
  baseUrl = await sandbox.listen(0);
});
afterAll(async () => {
  activity?.stop();
  await sandbox?.close();
  await t?.drop();
});

describe("sandbox ERP activity", () => {
  it("posts an issued invoice, and pays it only once the hub has it POSTED, in two instalments", async () => {
    const { invoice } = await issuedInvoice(t.db);
    const connector = new NetSuiteConnector({
      name: "ns-act",
      baseUrl,
      auth: { accessToken: token },
    });
    const applier = new Applier(t, { mappers: connector.mappers });
    const poll = async (object: string) => {
      const [row] = await t.db
        .select()
        .from(schema.syncCursor)
        .where(
          and(eq(schema.syncCursor.connector, "ns-act"), eq(schema.syncCursor.object, object)),
        );
      await connector.pollOnce(object, {
        cursor: (row?.cursor as Record<string, unknown>) ?? {},
        ingest: createIngest(t, "ns-act"),
        signal: new AbortController().signal,
      });
    };
    activity = startSandboxActivity({
      db: t.db,
      intervalMs: 50,
      netsuite: sandbox,
      logger: createLogger("activity-test", "silent"),
    });
    const statusOf = async () =>
      (await t.db.select().from(schema.invoice).where(eq(schema.invoice.id, invoice.id)))[0]!;
    // The connector reads back what the activity did, as the cdc process's pollers do.
    for (let round = 0; round < 200 && (await statusOf()).status !== "PAID"; round++) {
      for (const object of ["customer", "invoice", "customerpayment"]) await poll(object);
      await applier.drain();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    activity.stop();
    const row = await statusOf();
    expect(row.status).toBe("PAID");
    expect(row.amountPaid).toBe(invoice.total);
    const moves = await t.db
      .select({ payload: schema.domainEvent.payload })
      .from(schema.domainEvent)
      .where(
        and(
          eq(schema.domainEvent.entityId, invoice.id),
          eq(schema.domainEvent.type, "invoice.status_changed"),
        ),
      )
      .orderBy(asc(schema.domainEvent.id));
    expect(moves.map((m) => `${(m.payload as { to: string }).to}`)).toEqual([
      "ISSUED",
      "POSTED",
      "PARTIALLY_PAID",
      "PAID",
    ]);
    const payments = await t.db
      .select({ amount: schema.payment.amount })
      .from(schema.payment)
      .where(eq(schema.payment.invoiceId, invoice.id))
      .orderBy(asc(schema.payment.receivedOn), asc(schema.payment.id));
    expect(payments).toHaveLength(2);
    const cents = (v: string) => BigInt(v.replace(".", ""));
    expect(cents(payments[0]!.amount)).toBe(cents(invoice.total) / 2n);
    expect(cents(payments[0]!.amount) + cents(payments[1]!.amount)).toBe(cents(invoice.total));
  }, 120_000);
});
