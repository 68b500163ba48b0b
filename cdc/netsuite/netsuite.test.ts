/**
 * NetSuite over real HTTP (the sandbox speaking NetSuite's REST/SuiteQL wire format) into real
 * Postgres through the engine: full load then incremental, paging with hasMore, the lookback
 * finding commit-lag rows, cursors that move only with data, invoices posted and paid through the
 * invoice state machine, faults (429 pause, 503), OAuth 2.0 client credentials.
 */
import { generateKeyPairSync } from "node:crypto";
import { addMoney, fromCents, schema, subtractMoney, toCents } from "@pshub/db";
import { createTestDatabase, issuedInvoice, type TestDatabase } from "@pshub/db/testing";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Applier } from "../engine/applier.ts";
import { createIngest } from "../engine/engine.ts";
import type { PollContext } from "../engine/types.ts";
import { NetSuiteSandbox } from "../sandbox/netsuite/server.ts";
import { NetSuiteClient, NetSuiteError } from "./client.ts";
import { formatNetSuiteTime, NetSuiteConnector } from "./connector.ts";
import { currencyRateQuery, syncCurrencyRates } from "./currency-rates.ts";
import { netsuiteMappers } from "./mappers.ts";

let t: TestDatabase;
let sandbox: NetSuiteSandbox;
let baseUrl: string;
const token = "test-token";

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = new NetSuiteSandbox({ accessToken: token });
  baseUrl = await sandbox.listen(0);
});
afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

async function cursorOf(connector: string, object: string) {
  const [row] = await t.db
    .select()
    .from(schema.syncCursor)
    .where(and(eq(schema.syncCursor.connector, connector), eq(schema.syncCursor.object, object)));
  return row;
}

function pollContext(connector: string, cursor: Record<string, unknown>): PollContext {
  return { cursor, ingest: createIngest(t, connector), signal: new AbortController().signal };
}

async function poll(c: NetSuiteConnector, object: string) {
  const cur = (await cursorOf(c.name, object))?.cursor ?? {};
  return c.pollOnce(object, pollContext(c.name, cur));
}

describe("NetSuite connector", () => {
  it("full load then incremental: paging with hasMore, a unique order, the cursor moves only with data", async () => {
    const c = new NetSuiteConnector({
      name: "ns-full",
      baseUrl,
      auth: { accessToken: token },
      pageSize: 2,
    });
    const base = Date.parse("2026-03-01T10:00:00Z");
    // Five customers, three of them sharing one lastmodifieddate across a page boundary.
    const ids = [0, 1, 1, 1, 2].map((k, i) =>
      sandbox.addCustomer({ companyname: `Full ${i}`, lastModified: new Date(base + k * 1000) }),
    );
    const before = sandbox.requests.length;
    const first = await poll(c, "customer");
    expect(first.records).toBeGreaterThanOrEqual(5);
    const requests = sandbox.requests.slice(before);
    expect(requests.every((r) => r.limit === 2 && r.offset! % 2 === 0)).toBe(true);
    expect(requests.length).toBeGreaterThanOrEqual(3);
    const inbox = await t.db
      .select()
      .from(schema.inboxEvent)
      .where(eq(schema.inboxEvent.source, "ns-full"));
    for (const id of ids) expect(inbox.some((r) => r.externalId === id)).toBe(true);
    const cursor = (await cursorOf("ns-full", "customer"))!.cursor as {
      lastModified: string;
      id: string;
    };
    const newest = Math.max(
      ...sandbox.rows("customer")!.map((r) => (r.lastmodifieddate as Date).getTime()),
    );
    expect(cursor.lastModified).toBe(formatNetSuiteTime(newest));
    // Nothing new: only lookback duplicates, nothing recorded, the cursor does not move.
    const second = await poll(c, "customer");
    expect(second.records).toBe(0);
    expect((await cursorOf("ns-full", "customer"))!.cursor).toEqual(cursor);
    // An update is read incrementally.
    sandbox.updateCustomer(ids[0]!, { companyname: "Full 0 renamed" }, new Date(newest + 5000));
    const third = await poll(c, "customer");
    expect(third.records).toBe(1);
    expect(((await cursorOf("ns-full", "customer"))!.cursor as { id: string }).id).toBe(ids[0]);
    // The incremental query is bounded by the cursor minus the lookback.
    expect(sandbox.requests.at(-1)!.q).toMatch(/lastmodifieddate >= TO_TIMESTAMP\('/);
  });

  it("the lookback finds a row committed late with an older lastmodifieddate", async () => {
    const c = new NetSuiteConnector({
      name: "ns-lag",
      baseUrl,
      auth: { accessToken: token },
      lookbackSeconds: 120,
    });
    const base = Date.parse("2026-04-01T10:00:00Z");
    sandbox.addCustomer({ companyname: "Lag A", lastModified: new Date(base) });
    await poll(c, "customer");
    const cursor = (await cursorOf("ns-lag", "customer"))!.cursor as { lastModified: string };
    expect(cursor.lastModified >= "2026-04-01 10:00:00").toBe(true);
    // Committed now, stamped 60 s before the cursor: inside the 120 s lookback.
    const late = sandbox.addCustomer({
      companyname: "Lag B",
      lastModified: new Date(Date.parse(`${cursor.lastModified.replace(" ", "T")}Z`) - 60_000),
    });
    const again = await poll(c, "customer");
    expect(again.records).toBe(1);
    const rows = await t.db
      .select()
      .from(schema.inboxEvent)
      .where(and(eq(schema.inboxEvent.source, "ns-lag"), eq(schema.inboxEvent.externalId, late)));
    expect(rows).toHaveLength(1);
    expect((await cursorOf("ns-lag", "customer"))!.cursor).toEqual(cursor);
  });

  it("invoices are posted and paid through the invoice state machine; ERP figures that differ are a FINANCE exception", async () => {
    const c = new NetSuiteConnector({ name: "ns-inv", baseUrl, auth: { accessToken: token } });
    const applier = new Applier(t, { mappers: c.mappers });
    const { invoice, customerId } = await issuedInvoice(t.db);
    expect(invoice.status).toBe("ISSUED");
    const nsCustomer = sandbox.addCustomer({ companyname: "Posted Co", externalid: customerId });
    const nsInvoice = sandbox.addInvoice({
      entity: nsCustomer,
      externalid: invoice.id,
      tranid: "INV-NS-1",
      total: invoice.total,
      tax: invoice.tax,
    });
    await poll(c, "customer");
    await poll(c, "invoice");
    await applier.drain();
    let [row] = await t.db.select().from(schema.invoice).where(eq(schema.invoice.id, invoice.id));
    expect(row?.status).toBe("POSTED");
    expect(row?.erpNumber).toBe("INV-NS-1");
    const posted = await t.db.execute<{ n: number }>(
      sql`select count(*)::int as n from domain_event where entity_id = ${invoice.id} and type = 'invoice.status_changed' and payload->>'to' = 'POSTED'`,
    );
    expect(posted[0]?.n).toBe(1);
    // A partial payment, then the rest: PARTIALLY_PAID, then PAID.
    const half = fromCents(toCents(invoice.total) / 2n);
    sandbox.addPayment({ invoiceId: nsInvoice, amount: half, paidOn: "2026-02-10" });
    await poll(c, "customerpayment");
    await poll(c, "invoice");
    await applier.drain();
    [row] = await t.db.select().from(schema.invoice).where(eq(schema.invoice.id, invoice.id));
    expect(row?.status).toBe("PARTIALLY_PAID");
    expect(row?.amountPaid).toBe(half);
    const rest = subtractMoney(invoice.total, half);
    sandbox.addPayment({ invoiceId: nsInvoice, amount: rest, paidOn: "2026-02-20" });
    await poll(c, "customerpayment");
    await applier.drain();
    // Polling again reads the same payments (lookback): nothing is recorded twice.
    await poll(c, "customerpayment");
    await applier.drain();
    [row] = await t.db.select().from(schema.invoice).where(eq(schema.invoice.id, invoice.id));
    expect(row?.status).toBe("PAID");
    expect(row?.amountPaid).toBe(invoice.total);
    const payments = await t.db
      .select()
      .from(schema.payment)
      .where(eq(schema.payment.invoiceId, invoice.id));
    expect(payments).toHaveLength(2);

    // The ERP posts another invoice with a different tax: its figures win, FINANCE is told.
    const other = await issuedInvoice(t.db, "0.2000");
    const nsOther = sandbox.addCustomer({ companyname: "Tax Co", externalid: other.customerId });
    const erpTax = addMoney(other.invoice.tax, "1.00");
    const erpTotal = addMoney(other.invoice.total, "1.00");
    sandbox.addInvoice({
      entity: nsOther,
      externalid: other.invoice.id,
      tranid: "INV-NS-2",
      total: erpTotal,
      tax: erpTax,
    });
    await poll(c, "invoice");
    await applier.drain();
    const [o] = await t.db
      .select()
      .from(schema.invoice)
      .where(eq(schema.invoice.id, other.invoice.id));
    expect(o?.status).toBe("POSTED");
    expect(o?.tax).toBe(erpTax);
    expect(o?.total).toBe(erpTotal);
    const [ex] = await t.db
      .select()
      .from(schema.syncException)
      .where(
        and(
          eq(schema.syncException.entityId, other.invoice.id),
          eq(schema.syncException.code, "ERP_TOTALS_DIFFER"),
        ),
      );
    expect(ex?.owner).toBe("FINANCE");
    // An invoice the hub never issued is a FINANCE exception, not a new invoice.
    const stray = sandbox.addInvoice({
      entity: nsOther,
      tranid: "INV-NS-STRAY",
      total: "10.00",
      tax: "0.00",
    });
    await poll(c, "invoice");
    await applier.drain();
    const [strayRow] = await t.db
      .select()
      .from(schema.inboxEvent)
      .where(and(eq(schema.inboxEvent.source, "ns-inv"), eq(schema.inboxEvent.externalId, stray)));
    expect(strayRow?.status).toBe("FAILED");
    const [strayEx] = await t.db
      .select()
      .from(schema.syncException)
      .where(eq(schema.syncException.inboxEventId, strayRow!.id));
    expect(strayEx?.owner).toBe("FINANCE");
    expect(strayEx?.remediation).toMatch(/External ID/);
  });

  it("faults: 429 pauses the object, 503 and timeouts throw for backoff, the cursor stays", async () => {
    const c = new NetSuiteConnector({
      name: "ns-fault",
      baseUrl,
      auth: { accessToken: token },
      timeoutMs: 300,
    });
    sandbox.addCustomer({ companyname: "Fault Co" });
    sandbox.inject({ status: 429 });
    const paused = await poll(c, "customer");
    expect(paused.pausedUntil!.getTime()).toBeGreaterThan(Date.now());
    expect(await cursorOf("ns-fault", "customer")).toBeUndefined();
    sandbox.inject({ status: 503 });
    await expect(poll(c, "customer")).rejects.toMatchObject({
      status: 503,
      code: "SERVICE_UNAVAILABLE",
      transient: true,
    });
    sandbox.inject({ timeoutMs: 1000 });
    await expect(poll(c, "customer")).rejects.toMatchObject({ code: "TIMEOUT", transient: true });
    expect(await cursorOf("ns-fault", "customer")).toBeUndefined();
    const ok = await poll(c, "customer");
    expect(ok.records).toBeGreaterThan(0);
    // A refused query comes back as NetSuite's error body.
    const client = new NetSuiteClient({ baseUrl, auth: { accessToken: token } });
    const bad = await client.suiteql("SELECT nosuchfield FROM customer", 10, 0).catch((e) => e);
    expect(bad).toBeInstanceOf(NetSuiteError);
    expect(bad).toMatchObject({ status: 400, code: "INVALID_PARAMETER" });
    const wrongToken = await new NetSuiteClient({ baseUrl, auth: { accessToken: "nope" } })
      .suiteql("SELECT id FROM customer", 10, 0)
      .catch((e) => e);
    expect(wrongToken).toMatchObject({ status: 401, code: "INVALID_LOGIN" });
  });

  it("OAuth 2.0 client credentials: a signed JWT assertion buys a bearer token", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    sandbox.registerClient({
      clientId: "client-1",
      certificateId: "cert-1",
      publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      algorithm: "PS256",
    });
    const client = new NetSuiteClient({
      baseUrl,
      auth: {
        clientCredentials: {
          clientId: "client-1",
          certificateId: "cert-1",
          privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        },
      },
    });
    const page = await client.suiteql("SELECT c.id FROM customer c ORDER BY c.id", 5, 0);
    expect(page.items.length).toBeGreaterThan(0);
    // The claims as "The Request Token Structure" lists them: scope a comma-separated string.
    expect(sandbox.assertions.at(-1)).toMatchObject({
      iss: "client-1",
      scope: "rest_webservices",
      aud: `${baseUrl}/services/rest/auth/oauth2/v1/token`,
    });
    const claims = sandbox.assertions.at(-1) as { exp: number; iat: number };
    expect(claims.exp - claims.iat).toBeLessThanOrEqual(3600);
    // RS256 (RSA PKCS#1 v1.5) is not a documented algorithm: refused.
    const rs256 = new NetSuiteClient({
      baseUrl,
      auth: {
        clientCredentials: {
          clientId: "client-1",
          certificateId: "cert-1",
          algorithm: "RS256",
          privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        },
      },
    });
    await expect(rs256.suiteql("SELECT c.id FROM customer c", 5, 0)).rejects.toMatchObject({
      code: "TOKEN_REFUSED",
    });
    const wrong = new NetSuiteClient({
      baseUrl,
      auth: {
        clientCredentials: {
          clientId: "someone-else",
          certificateId: "cert-1",
          privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        },
      },
    });
    await expect(wrong.suiteql("SELECT c.id FROM customer c", 5, 0)).rejects.toMatchObject({
      code: "TOKEN_REFUSED",
    });
  });

  it("a bulk import: more rows share one lastmodifieddate than a poll reads, and polls still advance through them", async () => {
    const c = new NetSuiteConnector({
      name: "ns-bulk",
      baseUrl,
      auth: { accessToken: token },
      pageSize: 2,
      maxPagesPerPoll: 2,
    });
    // Fifteen customers stamped in one second, the newest rows of the account.
    const at = new Date("2027-01-01T00:00:00Z");
    const ids = Array.from({ length: 15 }, (_, i) =>
      sandbox.addCustomer({ companyname: `Bulk ${i}`, lastModified: at }),
    );
    const before = sandbox.requests.length;
    let polls = 0;
    for (; polls < 60; polls++) {
      const result = await poll(c, "customer");
      if (!result.more) break;
    }
    // Reading 4 rows a poll, a poll restarting at the cursor minus the lookback (offset 0) read the
    // same 4 rows of that second for ever; the keyset moves on.
    expect(polls).toBeLessThan(60);
    const inbox = await t.db
      .select({ externalId: schema.inboxEvent.externalId })
      .from(schema.inboxEvent)
      .where(eq(schema.inboxEvent.source, "ns-bulk"));
    const seen = new Set(inbox.map((r) => r.externalId));
    for (const id of ids) expect(seen.has(id)).toBe(true);
    const cursor = (await cursorOf("ns-bulk", "customer"))!.cursor;
    expect(cursor).toEqual({ lastModified: "2027-01-01 00:00:00", id: ids.at(-1) });
    // Every page was a keyset query at offset 0 within the documented limits.
    const pages = sandbox.requests.slice(before).filter((r) => r.q?.includes("FROM customer"));
    expect(pages.every((r) => r.offset === 0 && r.limit === 2)).toBe(true);
  });

  it("SuiteQL items as documented (strings, nulls omitted, a links list in each item) map; nulls and JSON numbers read the same", () => {
    const mapper = netsuiteMappers.find((m) => m.object === "invoice")!;
    // An item of POST /services/rest/query/v1/suiteql as NetSuite answers it ("Executing SuiteQL
    // Queries Through REST Web Services", "Collection Paging").
    const documented = {
      links: [],
      id: "2045",
      tranid: "INV10045",
      externalid: "6f1c9a56-3d4b-4b8e-9a4f-2b7d8e1c0a11",
      entity: "107",
      status: "A",
      voided: "F",
      foreigntotal: "1375.00",
      taxtotal: "125.00",
      currency: "USD",
      trandate: "2026-01-31",
      lastmodified: "2026-02-01 09:30:00",
    };
    const record = (fields: Record<string, unknown>) => ({
      system: "ERP" as const,
      object: "invoice",
      externalId: "2045",
      op: "UPSERT" as const,
      fields,
      dedupeKey: `invoice:2045:${JSON.stringify(fields)}`,
    });
    const a = mapper.parse(record(documented));
    expect(a.kind).toBe("changes");
    const typed = mapper.parse(
      record({ ...documented, foreigntotal: 1375, taxtotal: 125.5, voided: false, email: null }),
    );
    expect(typed.kind).toBe("changes");
    if (a.kind === "changes" && typed.kind === "changes") {
      expect(a.changes[0]!.fields).toMatchObject({ erpNumber: "INV10045" });
      expect(typed.changes[0]!.fields).toMatchObject({
        erpNumber: "INV10045",
        total: "1375.00",
        tax: "125.50",
      });
    }
  });
});

describe("NetSuite currency rates", () => {
  it("SuiteQL over currencyrate fills fx_rate exactly; a later sync reads from the lookback and changes only what differs", async () => {
    const client = new NetSuiteClient({ baseUrl, auth: { accessToken: token } });
    // The wire format: numbers as strings, dates as TO_CHAR gives them.
    const page = await client.suiteql(currencyRateQuery(), 1000, 0);
    expect(page.items[0]).toMatchObject({ basecurrency: "USD", exchangerate: expect.any(String) });
    const first = await syncCurrencyRates(client, t.db, { pageSize: 3 });
    expect(first).toEqual({ read: page.items.length, changed: page.items.length });
    const stored =
      await t.sql`select base_currency, currency, rate::text, effective_date::text, source, external_id
      from fx_rate where source = 'ERP' order by effective_date, currency`;
    // numeric(24, 10): the rate's digits exactly, padded to ten places.
    const ten = (v: unknown) => {
      const [i, f = ""] = String(v).split(".");
      return `${i}.${f.padEnd(10, "0")}`;
    };
    expect(
      stored.map(
        (r) => `${r.base_currency} ${r.currency} ${r.rate} ${r.effective_date} ${r.external_id}`,
      ),
    ).toEqual(
      page.items.map(
        (i) =>
          `${i.basecurrency} ${i.transactioncurrency} ${ten(i.exchangerate)} ${i.effectivedate} ${i.id}`,
      ),
    );
    expect(stored.every((r) => r.source === "ERP")).toBe(true);
    // A new rate and a corrected one inside the lookback window; one older than it is not read again.
    sandbox.addCurrencyRate({ currency: "EUR", rate: "1.0901", effectiveDate: "2026-11-15" });
    const q = sandbox.requests.length;
    const second = await syncCurrencyRates(client, t.db, { lookbackDays: 7 });
    // From 7 days before the newest stored rate (2026-11-01): the two of November 1st and the new one.
    expect(second).toEqual({ read: 3, changed: 1 });
    expect(sandbox.requests.slice(q).map((r) => r.q)).toEqual([currencyRateQuery("2026-10-25")]);
    const again = await syncCurrencyRates(client, t.db, { lookbackDays: 30 });
    expect(again).toEqual({ read: 3, changed: 0 });
    const [eur] =
      await t.sql`select rate::text from fx_rate where currency = 'EUR' and effective_date = '2026-11-15'`;
    expect(eur?.rate).toBe("1.0901000000");
  });
});
