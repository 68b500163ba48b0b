/**
 * The SOQL poller against the Salesforce sandbox over real HTTP, through real jsforce, recording
 * into a real Postgres inbox: full load (REST and Bulk API 2.0), incremental keyset paging with
 * tied timestamps, the lookback, deletes (recycle bin and delete log), a purged delete log,
 * API limits and session expiry.
 */
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type SalesforceSandbox, startSalesforceSandbox } from "../sandbox/salesforce/index.ts";
import { SalesforceClient } from "./client.ts";
import { ObjectPoller, type PollerOptions } from "./poller.ts";
import {
  hubView,
  pollUntilCaughtUp,
  setCursor,
  storedCursor,
  testIngest,
} from "./testing/inbox.ts";

let t: TestDatabase;
let sandbox: SalesforceSandbox;

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const sources: SalesforceSandbox[] = [];
afterEach(async () => {
  while (sources.length) await sources.pop()!.stop();
});

async function setup(
  sandboxOptions: Parameters<typeof startSalesforceSandbox>[0] = {},
  clientOptions: Partial<ConstructorParameters<typeof SalesforceClient>[0]> = {},
) {
  sandbox = await startSalesforceSandbox(sandboxOptions);
  sources.push(sandbox);
  const client = new SalesforceClient({
    auth: {
      kind: "password",
      loginUrl: sandbox.url,
      clientId: sandbox.options.clientId,
      clientSecret: sandbox.options.clientSecret,
      username: sandbox.options.username,
      password: sandbox.options.password,
    },
    apiVersion: "62.0",
    slowDownShare: 0.8,
    slowDownDelayMs: 0,
    limitPauseMs: 60_000,
    httpTimeoutMs: 10_000,
    clientName: "pshub",
    ...clientOptions,
  });
  return { client, org: sandbox.org };
}

let connectorSeq = 0;
let current = "";
function poller(client: SalesforceClient, object: string, options: Partial<PollerOptions> = {}) {
  current = `sf-test-${++connectorSeq}`;
  const p = new ObjectPoller(client, {
    connector: current,
    system: "SALESFORCE",
    object,
    fields: ["Name"],
    pageSize: 2000,
    bulkThreshold: 10_000,
    lookbackMs: 5 * 60_000,
    sweepEveryMs: 0,
    ...options,
  });
  const run = () => pollUntilCaughtUp(t.db, p.options.connector, object, (ctx) => p.pollOnce(ctx));
  return { p, run };
}

function sourceIds(org: SalesforceSandbox["org"], object: string): string[] {
  return [...org.table(object).values()]
    .filter((r) => !r.IsDeleted)
    .map((r) => r.Id)
    .sort();
}

async function hubIds(object: string): Promise<string[]> {
  return [...(await hubView(t.db, current, object)).keys()].sort();
}

describe("dedupe key", () => {
  // The key is the inbox's unique key: a new text for an unchanged version would record (and
  // apply) that version again, so these are the texts the key had before it was made cheaper.
  it("keeps its text: the same version gives one key whatever the column order, a same-second edit another", () => {
    const p = new ObjectPoller({} as SalesforceClient, {
      connector: "dedupe-key",
      system: "SALESFORCE",
      object: "Account",
      fields: ["Name", "BillingCity"],
      pageSize: 2000,
      bulkThreshold: 10_000,
      lookbackMs: 0,
      sweepEveryMs: 0,
    });
    const row = {
      Id: "001000000000001AAA",
      SystemModstamp: "2026-11-20T10:00:00.000+0000",
      LastModifiedById: "005000000000009AAA",
      Name: 'Acme "Ltd"',
      BillingCity: "",
    };
    const prefix = "Account:001000000000001AAA:2026-11-20T10:00:00.000Z";
    expect(p.toRecord(row, false).dedupeKey).toBe(`${prefix}:7fvRzAS7svDM`);
    // REST JSON order with attributes (Bulk CSV has the SELECT order and none).
    const rest = {
      attributes: {
        type: "Account",
        url: "/services/data/v62.0/sobjects/Account/001000000000001AAA",
      },
      BillingCity: null,
      Name: 'Acme "Ltd"',
      LastModifiedById: "005000000000009AAA",
      SystemModstamp: "2026-11-20T10:00:00.000+0000",
      Id: "001000000000001AAA",
    };
    expect(p.toRecord(rest, true).dedupeKey).toBe(`${prefix}:7fvRzAS7svDM`);
    expect(p.toRecord({ ...row, Name: "Acme Ltd" }, false).dedupeKey).toBe(
      `${prefix}:X0HiMuVM2f8q`,
    );
    // A row with a field beyond the selected ones: that field is part of the content too.
    expect(p.toRecord({ ...row, Extra__c: "x" }, false).dedupeKey).toBe(`${prefix}:cQ1PwKsFZ7gA`);
  });
});

describe("full load", () => {
  it("loads below the threshold with REST query + nextRecordsUrl, then syncs incrementally", async () => {
    const { client, org } = await setup({ queryBatchSize: 25 });
    for (let i = 0; i < 120; i++)
      org.create("Account", { Name: `Acct ${i}`, CurrencyIsoCode: "USD" }, { silent: true });
    const { p, run } = poller(client, "Account", {
      fields: ["Name", "CurrencyIsoCode", "ParentId"],
    });
    await run();
    expect(await hubIds("Account")).toEqual(sourceIds(org, "Account"));
    const paths = sandbox.requests.map((r) => r.path);
    expect(paths.filter((x) => /\/query\/01g/.test(x)).length).toBeGreaterThanOrEqual(4); // 120 / 25 pages
    expect(paths.some((x) => x.includes("/jobs/query"))).toBe(false);
    const cursor = await storedCursor(t.db, p.options.connector, "Account");
    expect(cursor.phase).toBe("incremental");

    // Incremental: updates and creates after the load.
    org.advanceClock(2000);
    const ids = sourceIds(org, "Account");
    org.update("Account", ids[3]!, { Name: "Renamed" });
    const child = org.create("Account", {
      Name: "Child",
      ParentId: ids[0],
      CurrencyIsoCode: "USD",
    });
    await run();
    const view = await hubView(t.db, current, "Account");
    expect(view.get(ids[3]!)?.Name).toBe("Renamed");
    expect(view.get(child.Id)?.ParentId).toBe(ids[0]);
    expect(view.size).toBe(121);
  });

  it("fetches the next REST page while one is ingested", async () => {
    const { client, org } = await setup({ queryBatchSize: 25 });
    for (let i = 0; i < 100; i++)
      org.create("Account", { Name: `Ahead ${i}`, CurrencyIsoCode: "USD" }, { silent: true });
    const { p } = poller(client, "Account");
    const ingest = testIngest(t.db, current);
    const morePages = () => sandbox.requests.filter((r) => /\/query\/01g/.test(r.path)).length;
    let pages = 0;
    const aheadAtIngest: boolean[] = [];
    for (let i = 0; i < 50; i++) {
      const cursor = await storedCursor(t.db, current, "Account");
      const r = await p.pollOnce({
        cursor,
        ingest: async (records, update) => {
          if (records.length > 0 && pages < 3) {
            // The page after this one is requested before this one is recorded.
            const until = Date.now() + 2000;
            while (morePages() < pages + 1 && Date.now() < until)
              await new Promise((r) => setTimeout(r, 5));
            aheadAtIngest.push(morePages() >= pages + 1);
          }
          if (records.length > 0) pages++;
          return ingest(records, update);
        },
        signal: new AbortController().signal,
      });
      if (!r.more) break;
    }
    expect(aheadAtIngest).toEqual([true, true, true]); // pages 1–3 of 4
    expect(await hubIds("Account")).toEqual(sourceIds(org, "Account"));
  });

  it("starts the incremental after the rows stamped with the load's high-water mark", async () => {
    const { client, org } = await setup({ queryBatchSize: 10 });
    org.freezeClock(true);
    for (let i = 0; i < 35; i++)
      org.create("Account", { Name: `Tied ${i}`, CurrencyIsoCode: "USD" }, { silent: true });
    org.freezeClock(false);
    const { p, run } = poller(client, "Account", { sweepEveryMs: 3_600_000 });
    const ingest = testIngest(t.db, current);
    let read = 0;
    for (let more = true; more; ) {
      const cursor = await storedCursor(t.db, current, "Account");
      const r = await p.pollOnce({
        cursor,
        ingest: (records, update) => {
          read += records.length;
          return ingest(records, update);
        },
        signal: new AbortController().signal,
      });
      more = r.more;
    }
    // Caught up without reading the 35 rows of that one second a second time.
    expect(read).toBe(35);
    expect(await storedCursor(t.db, current, "Account")).toMatchObject({
      phase: "incremental",
      id: sourceIds(org, "Account").at(-1),
    });
    org.advanceClock(2000);
    const later = org.create("Account", { Name: "Later", CurrencyIsoCode: "USD" });
    await run();
    expect((await hubView(t.db, current, "Account")).get(later.Id)?.Name).toBe("Later");
    expect((await hubView(t.db, current, "Account")).size).toBe(36);
  });

  it("loads above the threshold with a Bulk API 2.0 query job, paged by Sforce-Locator", async () => {
    const { client, org } = await setup();
    for (let i = 0; i < 95; i++)
      org.create(
        "Contact",
        { LastName: `Person ${i}`, Email: `p${i}@x.example` },
        { silent: true },
      );
    const { run } = poller(client, "Contact", {
      fields: ["LastName", "Email"],
      bulkThreshold: 50,
      pageSize: 30,
    });
    await run();
    expect(await hubIds("Contact")).toEqual(sourceIds(org, "Contact"));
    const results = sandbox.requests.filter((r) => /\/jobs\/query\/750\w+\/results$/.test(r.path));
    expect(results.length).toBe(4); // 30 + 30 + 30 + 5
    const view = await hubView(t.db, current, "Contact");
    // CSV values: "" is null, not an empty string.
    expect([...view.values()].every((r) => r.Email !== "" && r.LastName !== "")).toBe(true);
  });

  it("a Bulk 2.0 results page updates the API budget from its Sforce-Limit-Info", async () => {
    const { client, org } = await setup();
    for (let i = 0; i < 60; i++) org.create("Contact", { LastName: `B${i}` }, { silent: true });
    const { p } = poller(client, "Contact", {
      fields: ["LastName"],
      bulkThreshold: 10,
      pageSize: 25,
    });
    const ingest = testIngest(t.db, current);
    for (let i = 0; i < 100; i++) {
      const cursor = await storedCursor(t.db, current, "Contact");
      const r = await p.pollOnce({ cursor, ingest, signal: new AbortController().signal });
      if (r.records > 0) break;
    }
    // The last request was the results page: the budget is the one it reported.
    expect(sandbox.requests.at(-1)!.path).toMatch(/\/results$/);
    expect(client.apiUsage?.used).toBe(sandbox.apiRequestsUsed);
  });

  it("counts exactly: the loaded count equals SELECT COUNT() of the source", async () => {
    const { client, org } = await setup({ queryBatchSize: 10 });
    for (let i = 0; i < 33; i++)
      org.create(
        "Opportunity",
        { Name: `Deal ${i}`, StageName: "Prospecting", CloseDate: "2026-12-01" },
        { silent: true },
      );
    const { p, run } = poller(client, "Opportunity");
    await run();
    expect(await p.count("")).toBe(33);
    expect((await hubView(t.db, current, "Opportunity")).size).toBe(33);
  });
});

describe("incremental sync", () => {
  it("does not skip records sharing a SystemModstamp across a page boundary", async () => {
    const { client, org } = await setup();
    const { p, run } = poller(client, "Account", { pageSize: 7 });
    await run(); // empty org: full load done
    org.advanceClock(5000);
    org.freezeClock(true);
    for (let i = 0; i < 30; i++)
      org.create("Account", { Name: `Tied ${i}`, CurrencyIsoCode: "EUR" });
    org.freezeClock(false);
    const polls = await run();
    expect(polls).toBeGreaterThanOrEqual(5); // 30 / 7 pages at one timestamp
    expect(await hubIds("Account")).toEqual(sourceIds(org, "Account"));
    const stamps = new Set([...org.table("Account").values()].map((r) => r.SystemModstamp));
    expect(stamps.size).toBe(1);
    const cursor = await storedCursor(t.db, p.options.connector, "Account");
    expect(cursor.id).toBe(sourceIds(org, "Account").at(-1));
  });

  it("finds a commit-lag record (a stamp older than the cursor) with the lookback sweep", async () => {
    const { client, org } = await setup();
    const { p, run } = poller(client, "Account", { lookbackMs: 120_000 });
    org.create("Account", { Name: "First", CurrencyIsoCode: "USD" });
    await run();
    org.advanceClock(10_000);
    org.create("Account", { Name: "Second", CurrencyIsoCode: "USD" });
    await run();
    const before = await storedCursor(t.db, p.options.connector, "Account");
    // A transaction that started 30 s ago commits now: its stamp is behind the cursor.
    const late = org.create(
      "Account",
      { Name: "Late", CurrencyIsoCode: "USD" },
      { commitLagSeconds: 30 },
    );
    expect(Date.parse(String(late.SystemModstamp).replace("+0000", "Z"))).toBeLessThan(
      Date.parse(String(before.ts)),
    );
    await run();
    expect((await hubView(t.db, current, "Account")).has(late.Id)).toBe(true);
  });

  it("records deletes from the recycle bin (queryAll IsDeleted) and the delete log (deleted())", async () => {
    const { client, org } = await setup();
    const { p, run } = poller(client, "Contract", { fields: ["Status"] });
    const a = org.create("Account", { Name: "A", CurrencyIsoCode: "USD" });
    const ids = [0, 1, 2, 3].map(
      () => org.create("Contract", { AccountId: a.Id, Status: "Draft" }).Id,
    );
    await run();
    expect(await hubIds("Contract")).toEqual(ids.sort());
    org.delete("Contract", ids[0]!);
    await run();
    expect(await hubIds("Contract")).toEqual(ids.slice(1));
    // Deleted and emptied from the recycle bin: only the delete log knows.
    org.delete("Contract", ids[1]!);
    org.emptyRecycleBin("Contract");
    const cursor = await storedCursor(t.db, p.options.connector, "Contract");
    await setCursor(t.db, p.options.connector, "Contract", {
      ...cursor,
      deletedCheckedUntil: new Date(Date.now() - 5 * 60_000).toISOString(),
    });
    await run();
    expect(await hubIds("Contract")).toEqual(ids.slice(2));
    expect(sandbox.requests.some((r) => r.path.endsWith("/sobjects/Contract/deleted"))).toBe(true);
  });

  it("reconciles every id when the delete log was purged (INVALID_REPLICATION_DATE)", async () => {
    const { client, org } = await setup();
    const ids = [0, 1, 2, 3, 4].map(
      (i) => org.create("Account", { Name: `R${i}`, CurrencyIsoCode: "USD" }).Id,
    );
    const { p, run } = poller(client, "Account", {
      knownExternalIds: async () => hubIds("Account"),
    });
    await run();
    org.delete("Account", ids[2]!);
    org.delete("Account", ids[4]!);
    org.purgeDeleteLog("Account"); // the log and the recycle bin are gone
    const cursor = await storedCursor(t.db, p.options.connector, "Account");
    await setCursor(t.db, p.options.connector, "Account", {
      ...cursor,
      deletedCheckedUntil: new Date(Date.now() - 10 * 60_000).toISOString(),
    });
    await run();
    expect(
      sandbox.requests.some(
        (r) => r.path.endsWith("/sobjects/Account/deleted") && r.status === 400,
      ),
    ).toBe(true);
    expect(await hubIds("Account")).toEqual([ids[0]!, ids[1]!, ids[3]!].sort());
  });
});

describe("API limits and sessions", () => {
  it("pauses on REQUEST_LIMIT_EXCEEDED and resumes later", async () => {
    const { client, org } = await setup({ apiDailyLimit: 1000 }, { limitPauseMs: 400 });
    const { p, run } = poller(client, "Account");
    await run();
    org.advanceClock(2000);
    org.create("Account", { Name: "During the pause", CurrencyIsoCode: "USD" });
    sandbox.setApiUsage(1000);
    const ingest = testIngest(t.db, p.options.connector);
    const ctx = async () => ({
      cursor: await storedCursor(t.db, p.options.connector, "Account"),
      ingest,
      signal: new AbortController().signal,
    });
    const paused = await p.pollOnce(await ctx());
    expect(paused.pausedUntil).toBeInstanceOf(Date);
    expect(client.apiUsage).toEqual({ used: 1001, limit: 1000 });
    const before = sandbox.requests.length;
    const again = await p.pollOnce(await ctx());
    expect(again.pausedUntil).toBeInstanceOf(Date);
    expect(sandbox.requests.length).toBe(before); // paused: nothing sent
    sandbox.setApiUsage(0); // the next day
    await new Promise((r) => setTimeout(r, 450));
    await run();
    expect(
      [...(await hubView(t.db, current, "Account")).values()].some(
        (r) => r.Name === "During the pause",
      ),
    ).toBe(true);
  });

  it("slows down above the configured share of the daily limit (Sforce-Limit-Info)", async () => {
    const { client } = await setup(
      { apiDailyLimit: 1000 },
      { slowDownShare: 0.5, slowDownDelayMs: 300 },
    );
    await client.call((c) => c.query("SELECT Id FROM Account"));
    let start = Date.now();
    await client.call((c) => c.query("SELECT Id FROM Account"));
    expect(Date.now() - start).toBeLessThan(250);
    sandbox.setApiUsage(700);
    await client.call((c) => c.query("SELECT Id FROM Account")); // reads 701/1000
    start = Date.now();
    await client.call((c) => c.query("SELECT Id FROM Account"));
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);
  });

  it("re-authenticates once on INVALID_SESSION_ID and retries", async () => {
    const { client, org } = await setup();
    org.create("Account", { Name: "S", CurrencyIsoCode: "USD" });
    const { run } = poller(client, "Account");
    await run();
    sandbox.expireSessions();
    org.advanceClock(2000);
    org.create("Account", { Name: "After expiry", CurrencyIsoCode: "USD" });
    await run();
    expect(client.reauthentications).toBe(1);
    expect(sandbox.requests.some((r) => r.status === 401)).toBe(true);
    expect((await hubView(t.db, current, "Account")).size).toBe(2);
  });

  it("a given access token that expired before the start is renewed with the refresh token", async () => {
    const { org } = await setup();
    const { accessToken, refreshToken } = sandbox.issueSession();
    sandbox.expireSessions();
    const tokenClient = (refresh?: string) =>
      new SalesforceClient({
        auth: {
          kind: "token",
          instanceUrl: sandbox.url,
          accessToken,
          ...(refresh
            ? {
                refreshToken: refresh,
                loginUrl: sandbox.url,
                clientId: sandbox.options.clientId,
                clientSecret: sandbox.options.clientSecret,
              }
            : {}),
        },
        apiVersion: "62.0",
        slowDownShare: 0.8,
        slowDownDelayMs: 0,
        limitPauseMs: 60_000,
        httpTimeoutMs: 10_000,
        clientName: "pshub",
      });
    // UserInfo refuses the stale token with 403 Bad_OAuth_Token (the identity endpoints' format).
    const renewed = tokenClient(refreshToken);
    await renewed.connect();
    expect(renewed.userId).toBe(org.integrationUserId);
    expect(renewed.conn.accessToken).not.toBe(accessToken);
    expect(sandbox.requests.some((r) => r.status === 403)).toBe(true);
    await renewed.call((c) => c.query("SELECT Id FROM Account"));
    // Without a refresh token the start fails, saying why.
    await expect(tokenClient().connect()).rejects.toThrow(
      /SALESFORCE_ACCESS_TOKEN is refused .* no refresh token/,
    );
  });

  it("fails clearly when re-authentication itself is refused", async () => {
    const { client } = await setup();
    await client.call((c) => c.query("SELECT Id FROM Account"));
    sandbox.expireSessions();
    (sandbox.options as { password: string }).password = "rotated";
    await expect(client.call((c) => c.query("SELECT Id FROM Account"))).rejects.toThrow(
      /authentication failure/,
    );
  });

  it("QUERY_TIMEOUT: a REST full load goes on as a Bulk 2.0 job; an incremental page is halved", async () => {
    const { client, org } = await setup();
    for (let i = 0; i < 5; i++) org.create("Account", { Name: `T${i}`, CurrencyIsoCode: "USD" });
    const { p, run } = poller(client, "Account", { pageSize: 800 });
    // The error body as REST API documents it for a query that runs too long.
    const timeout = {
      errorCode: "QUERY_TIMEOUT",
      message: "Your query request was running for too long.",
    };
    // The full load's query (WHERE SystemModstamp <= the high-water mark), once.
    sandbox.failNext(400, { ...timeout, match: /LastModifiedById.*SystemModstamp(\+|%20)%3C%3D/ });
    await run();
    expect(
      sandbox.requests.some((r) => r.path.endsWith("/jobs/query") && r.method === "POST"),
    ).toBe(true);
    expect((await hubView(t.db, current, "Account")).size).toBe(5);
    org.advanceClock(2000);
    org.create("Account", { Name: "Late", CurrencyIsoCode: "USD" });
    sandbox.failNext(400, { ...timeout, match: /LIMIT(\+|%20)800/ });
    await run();
    expect(p.pageLimit).toBe(400);
    expect((await hubView(t.db, current, "Account")).size).toBe(6);
  });

  it("rides out 503s on reads (jsforce retries with backoff)", async () => {
    const { client } = await setup();
    sandbox.failNext(503, { times: 2 });
    const res = await client.call((c) => c.query("SELECT Id FROM Account"));
    expect(res.totalSize).toBe(0);
    expect(sandbox.requests.filter((r) => r.status === 503).length).toBe(2);
  });

  it("answers errors in Salesforce's body format", async () => {
    const { client } = await setup();
    await expect(client.call((c) => c.query("SELECT Nope__c FROM Account"))).rejects.toMatchObject({
      errorCode: "INVALID_FIELD",
    });
    await expect(client.call((c) => c.query("SELECT Id FROM Nope__c"))).rejects.toMatchObject({
      errorCode: "INVALID_TYPE",
    });
    await expect(client.call((c) => c.query("SELEKT Id FROM Account"))).rejects.toMatchObject({
      errorCode: "MALFORMED_QUERY",
    });
  });
});
