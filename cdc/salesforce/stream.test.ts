/**
 * Change Data Capture through jsforce's streaming client (faye, long-polling) against the
 * sandbox's CometD endpoint, recorded in a real Postgres inbox with the replay id as cursor:
 * partial UPDATE merge, gap and overflow events, duplicate and out-of-order deliveries, replay
 * resume after a restart, an expired replay id, and an expired session.
 */
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type SalesforceSandbox, startSalesforceSandbox } from "../sandbox/salesforce/index.ts";
import { SalesforceClient } from "./client.ts";
import { ObjectPoller } from "./poller.ts";
import { type CdcMessage, ChangeStream, changedFieldsOf, changeOriginClient } from "./stream.ts";
import { hubView, storedCursor, testIngest } from "./testing/inbox.ts";

let t: TestDatabase;
let sandbox: SalesforceSandbox;
const running: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});
afterEach(async () => {
  while (running.length) await running.pop()!.stop();
});

let seq = 0;
let connector = "";

async function setup() {
  sandbox = await startSalesforceSandbox({ cometdTimeoutSeconds: 2 });
  running.push(sandbox);
  connector = `cdc-test-${++seq}`;
  return sandbox.org;
}

function newClient() {
  return new SalesforceClient({
    auth: {
      kind: "password",
      loginUrl: sandbox.url,
      clientId: sandbox.options.clientId,
      clientSecret: sandbox.options.clientSecret,
      username: sandbox.options.username,
      password: sandbox.options.password,
    },
    apiVersion: "62.0",
    slowDownShare: 0.9,
    slowDownDelayMs: 0,
    limitPauseMs: 60_000,
    httpTimeoutMs: 10_000,
    clientName: "pshub",
  });
}

async function startStream(options: { start?: boolean } = {}) {
  const client = newClient();
  const pollers = new Map(
    ["Account", "Opportunity"].map((object) => [
      object,
      {
        system: "SALESFORCE" as const,
        poller: new ObjectPoller(client, {
          connector,
          system: "SALESFORCE",
          object,
          fields:
            object === "Account"
              ? ["Name", "Tax_Jurisdiction__c", "CurrencyIsoCode"]
              : ["Name", "StageName", "Amount"],
          pageSize: 2000,
          bulkThreshold: 10_000,
          lookbackMs: 60_000,
          sweepEveryMs: 0,
        }),
      },
    ]),
  );
  const stream = new ChangeStream(client, {
    connector,
    channel: "/data/ChangeEvents",
    pollers,
    lookbackMs: 60_000,
    clientName: "pshub",
    ownUserId: () => client.userId,
    readCursor: async (c, o) => storedCursor(t.db, c, o),
    log: process.env.CDC_DEBUG ? (m, d) => console.log("[cdc]", m, d) : undefined,
  });
  if (options.start === false) return { stream, client };
  await stream.start(testIngest(t.db, connector));
  running.push(stream);
  return { stream, client };
}

async function until(check: () => Promise<boolean> | boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not met in time");
}

const view = (object = "Account") => hubView(t.db, connector, object);
const replayOf = async () =>
  (await storedCursor(t.db, connector, "/data/ChangeEvents")).replayId as number;

describe("Change Data Capture", () => {
  it("merges UPDATE events (only changed fields; nulls are explicit) and stores the replay id with them", async () => {
    const org = await setup();
    const { stream } = await startStream();
    const a = org.create("Account", {
      Name: "Acme",
      Tax_Jurisdiction__c: "US-NY",
      CurrencyIsoCode: "USD",
    });
    org.update("Account", a.Id, { Name: "Acme Corp" });
    await until(async () => (await view()).get(a.Id)?.Name === "Acme Corp");
    await stream.drain();
    const merged = (await view()).get(a.Id)!;
    expect(merged.Tax_Jurisdiction__c).toBe("US-NY"); // not in the UPDATE: kept
    expect(await replayOf()).toBe(org.latestReplayId);
    org.update("Account", a.Id, { Tax_Jurisdiction__c: null });
    await until(async () => (await view()).get(a.Id)?.Tax_Jurisdiction__c === null);
    expect((await view()).get(a.Id)?.Name).toBe("Acme Corp");
  });

  it("takes the source time from the commit (commitTimestamp), and measures the channel's lag from it", async () => {
    const org = await setup();
    await startStream();
    const a = org.create("Account", { Name: "Late", CurrencyIsoCode: "USD" });
    // A save that began 30 s before it committed: LastModifiedDate / SystemModstamp are 30 s old,
    // the change became visible (and its event was sent) only now.
    const before = Date.now();
    org.update("Account", a.Id, { Name: "Late Corp" }, { commitLagSeconds: 30 });
    await until(async () => (await view()).get(a.Id)?.Name === "Late Corp");
    const [row] = await t.sql<{ at: string; modified: string; lag: number | null }[]>`
      select payload->>'sourceModifiedAt' as at, payload->'fields'->>'LastModifiedDate' as modified,
        (select lag_ms from sync_cursor where connector = ${connector} and object = '/data/ChangeEvents') as lag
      from inbox_event where source = ${connector} and payload->>'externalId' = ${a.Id}
        and payload->'fields'->>'Name' = 'Late Corp'`;
    expect(Date.parse(row!.modified)).toBeLessThan(before - 20_000);
    expect(Date.parse(row!.at)).toBeGreaterThanOrEqual(before);
    // Measured from that commit: at most the time since the update, not the record's 30 s.
    expect(row!.lag).not.toBeNull();
    expect(row!.lag!).toBeLessThanOrEqual(Date.now() - before);
  });

  it("re-fetches the records of a gap event, and an object's recent changes on overflow", async () => {
    const org = await setup();
    const { stream } = await startStream();
    const a = org.create("Account", { Name: "Gap Co", CurrencyIsoCode: "USD" }, { silent: true });
    org.emitGap("Account", [a.Id]);
    await until(async () => (await view()).get(a.Id)?.Name === "Gap Co");
    const b = org.create(
      "Opportunity",
      { Name: "Overflowed", StageName: "Prospecting", Amount: 10, CloseDate: "2026-12-01" },
      { silent: true },
    );
    org.emitOverflow("Opportunity");
    await until(async () => (await view("Opportunity")).get(b.Id)?.Name === "Overflowed");
    expect(stream.gaps).toBe(2);
  });

  it("ignores duplicate deliveries and never moves the replay id backwards", async () => {
    const org = await setup();
    const { stream } = await startStream();
    sandbox.duplicateNextEvents(2);
    sandbox.reorderNextEvent();
    const a = org.create("Account", { Name: "One", CurrencyIsoCode: "USD" });
    const b = org.create("Account", { Name: "Two", CurrencyIsoCode: "USD" });
    const c = org.create("Account", { Name: "Three", CurrencyIsoCode: "USD" });
    await until(async () => (await view()).size === 3);
    await stream.drain();
    expect(stream.events).toBeGreaterThanOrEqual(4); // duplicates delivered
    const { rows } =
      await t.sql`select count(*)::int as n from inbox_event where source = ${connector}`.then(
        (r) => ({ rows: r }),
      );
    expect(rows[0]!.n).toBe(3); // recorded once each
    expect(await replayOf()).toBe(org.latestReplayId);
    expect([...(await view()).keys()].sort()).toEqual([a.Id, b.Id, c.Id].sort());
  });

  it("resumes from the stored replay id after a restart", async () => {
    const org = await setup();
    const first = await startStream();
    const a = org.create("Account", { Name: "Before", CurrencyIsoCode: "USD" });
    await until(async () => (await view()).has(a.Id));
    await first.stream.stop();
    const missed = org.create("Account", { Name: "While down", CurrencyIsoCode: "USD" });
    org.update("Account", a.Id, { Name: "Renamed while down" });
    await startStream();
    await until(
      async () =>
        (await view()).get(a.Id)?.Name === "Renamed while down" && (await view()).has(missed.Id),
    );
    expect(await replayOf()).toBe(org.latestReplayId);
  });

  it("re-fetches when the stored replay id has expired, then follows new events", async () => {
    const org = await setup();
    const first = await startStream();
    const a = org.create("Account", { Name: "Seen", CurrencyIsoCode: "USD" });
    await until(async () => (await view()).has(a.Id));
    await first.stream.stop();
    const missed = org.create("Account", { Name: "Lost event", CurrencyIsoCode: "USD" });
    org.expireEvents(); // retention passed: the stored replay id is too old
    const { stream } = await startStream();
    await until(async () => (await view()).has(missed.Id));
    expect(stream.resubscribes).toBe(1);
    const later = org.create("Account", { Name: "New event", CurrencyIsoCode: "USD" });
    await until(async () => (await view()).has(later.Id));
  });

  it("reconnects with a new session when the session expires", async () => {
    const org = await setup();
    const { stream, client } = await startStream();
    sandbox.expireSessions();
    await until(() => client.reauthentications >= 1 && stream.resubscribes >= 1, 15_000);
    const a = org.create("Account", { Name: "After expiry", CurrencyIsoCode: "USD" });
    await until(async () => (await view()).has(a.Id), 15_000);
  });

  it("marks pshub's own changes (commitUser / changeOrigin) for loop prevention", async () => {
    const org = await setup();
    const { stream, client } = await startStream();
    const own = org.create(
      "Account",
      { Name: "Written by pshub", CurrencyIsoCode: "USD" },
      { userId: org.integrationUserId, client: "pshub" },
    );
    const theirs = org.create("Account", { Name: "Written by sales", CurrencyIsoCode: "USD" });
    await until(async () => (await view()).size === 2);
    await stream.drain();
    const rows = await t.sql<
      { payload: { externalId: string; modifiedBy?: string } }[]
    >`select payload from inbox_event where source = ${connector}`;
    const by = new Map(rows.map((r) => [r.payload.externalId, r.payload.modifiedBy]));
    expect(by.get(own.Id)).toBe(client.userId);
    expect(by.get(theirs.Id)).toBe(org.adminUserId);
  });
});

/**
 * Change events written from Salesforce's documentation (Change Data Capture Developer Guide:
 * "Change Event Message Structure", "ChangeEventHeader Fields", "Change Event Body Fields",
 * "Get Compound Fields in Change Events"), not from the sandbox's output.
 */
describe("change events as documented", () => {
  const header = {
    entityName: "Account",
    changeOrigin: "com/salesforce/api/soap/60.0;client=SfdcInternalAPI/",
    transactionKey: "00006bec-ce66-0611-9018-30a98446c9f2",
    sequenceNumber: 1,
    commitTimestamp: 1714156685000,
    commitNumber: 1100670838951,
    commitUser: "0055f000005mc66AAA",
    diffFields: [] as string[],
  };

  it("an UPDATE takes only changedFields (unchanged fields sent empty are not nulls), for every record id", async () => {
    await setup();
    const { stream } = await startStream({ start: false });
    // One event for two records with the same change (recordIds holds both); the body carries
    // the unchanged CurrencyIsoCode empty, as Pub/Sub API and enriched events do.
    const message: CdcMessage = {
      payload: {
        ChangeEventHeader: {
          ...header,
          recordIds: ["0015f00002JUXA8AAP", "0015f00002JUXA9AAP"],
          changeType: "UPDATE",
          changedFields: ["Name", "Tax_Jurisdiction__c", "LastModifiedDate"],
          nulledFields: ["Tax_Jurisdiction__c"],
        },
        Name: "Acme Corp",
        Tax_Jurisdiction__c: null,
        CurrencyIsoCode: null,
        LastModifiedDate: "2024-04-26T18:38:05.000Z",
      },
      event: { replayId: 42 },
    };
    const records = await stream.recordsOf(message);
    expect(records.map((r) => r.externalId)).toEqual(["0015f00002JUXA8AAP", "0015f00002JUXA9AAP"]);
    for (const r of records) {
      expect(r).toMatchObject({ op: "UPSERT", partial: true });
      expect(r.fields).toEqual({
        Id: r.externalId,
        Name: "Acme Corp",
        Tax_Jurisdiction__c: null,
        LastModifiedDate: "2024-04-26T18:38:05.000Z",
      });
      expect(r.sourceModifiedAt).toBe(new Date(header.commitTimestamp).toISOString());
    }
  });

  it("the source time is the header's commitTimestamp, not the body's LastModifiedDate", async () => {
    await setup();
    const { stream } = await startStream({ start: false });
    const records = await stream.recordsOf({
      payload: {
        ChangeEventHeader: {
          ...header,
          // Committed 2.25 s after the save stamped LastModifiedDate.
          commitTimestamp: 1714156687250,
          recordIds: ["0015f00002JUXA8AAP"],
          changeType: "UPDATE",
          changedFields: ["Name", "LastModifiedDate"],
        },
        Name: "Acme Corp",
        LastModifiedDate: "2024-04-26T18:38:05.000Z",
      },
      event: { replayId: 44 },
    });
    expect(records.map((r) => r.sourceModifiedAt)).toEqual(["2024-04-26T18:38:07.250Z"]);
  });

  it("a compound field's component (Name.LastName) comes from its nested structure", () => {
    expect(
      changedFieldsOf(
        {
          Name: { Salutation: null, FirstName: null, LastName: "Smith" },
          Email: null,
          LastModifiedDate: "2024-04-26T18:40:00.000Z",
        },
        { changedFields: ["Name.LastName", "LastModifiedDate"], nulledFields: [] },
      ),
    ).toEqual({ LastName: "Smith", LastModifiedDate: "2024-04-26T18:40:00.000Z" });
    // Without a changedFields list (CometD before API 47.0) the body is the change.
    expect(changedFieldsOf({ Title: "CFO", Name: { FirstName: "Ann" } }, {})).toEqual({
      Title: "CFO",
      FirstName: "Ann",
    });
  });

  it("a wildcard record id (001*: a field type conversion) re-fetches the object's recent changes", async () => {
    const org = await setup();
    const { stream } = await startStream({ start: false });
    const a = org.create(
      "Account",
      { Name: "Converted", CurrencyIsoCode: "EUR" },
      { silent: true },
    );
    const records = await stream.recordsOf({
      payload: {
        ChangeEventHeader: {
          ...header,
          commitTimestamp: Date.now(),
          recordIds: ["001*"],
          changeType: "UPDATE",
          changedFields: ["Tax_Jurisdiction__c"],
        },
        Tax_Jurisdiction__c: null,
      },
      event: { replayId: 43 },
    });
    expect(records.map((r) => [r.externalId, r.fields.Name])).toContainEqual([a.Id, "Converted"]);
    expect(records.every((r) => !r.partial)).toBe(true);
    expect(stream.gaps).toBe(1);
  });

  it("changeOrigin names the client exactly (com/salesforce/api/<api>/<version>;client=<id>)", () => {
    expect(changeOriginClient("com/salesforce/api/rest/62.0;client=pshub")).toBe("pshub");
    expect(changeOriginClient("com/salesforce/api/soap/60.0;client=SfdcInternalAPI/")).toBe(
      "SfdcInternalAPI",
    );
    expect(changeOriginClient("com/salesforce/api/rest/62.0;client=pshub-etl")).toBe("pshub-etl");
    expect(changeOriginClient("")).toBeUndefined();
  });
});
