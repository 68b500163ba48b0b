/**
 * The sync engine as the ops subgraph shows it: syncStatus per connector and object, inboxEvents
 * with the reason of each outcome, and resyncEntity carried out by the CDC process (the request
 * row + NOTIFY → fetchOne → inbox → applied). Real Postgres, the NetSuite sandbox over HTTP.
 */
import { createLogger, execute, operations, sync } from "@pshub/db";
import {
  createTestDatabase,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { createOpsSubgraph } from "@pshub/subgraph-ops";
import { afterAll, beforeAll, expect, it } from "vitest";
import { NetSuiteConnector } from "../netsuite/connector.ts";
import { NetSuiteSandbox } from "../sandbox/netsuite/server.ts";
import { SyncEngine } from "./engine.ts";

let t: TestDatabase;
let sandbox: NetSuiteSandbox;
let baseUrl: string;
beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = new NetSuiteSandbox({ accessToken: "tok" });
  baseUrl = await sandbox.listen(0);
});
afterAll(async () => {
  await sandbox?.close();
  await t?.drop();
});

const waitFor = async <T>(
  check: () => Promise<T | undefined>,
  ms = 15_000,
  what = "condition",
): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

it("syncStatus, inboxEvents reasons and resyncEntity through the ops subgraph", async () => {
  const ops = createOpsSubgraph(t.db);
  const basics = await seedBasics(t.db);
  const nsId = sandbox.addCustomer({
    companyname: "Renamed in NetSuite",
    externalid: basics.customerId,
  });
  sandbox.addCustomer({ companyname: "Nobody knows me" });
  const connector = new NetSuiteConnector({
    baseUrl,
    auth: { accessToken: "tok" },
    pollIntervalMs: 200,
  });
  const engine = new SyncEngine({
    client: t,
    databaseUrl: t.url,
    connectors: [connector],
    logger: createLogger("test", "silent"),
    applyIntervalMs: 100,
    processName: "ops-test",
  });
  await engine.start();
  try {
    const status = await waitFor(async () => {
      const r = await ops.execute(
        `{ syncStatus(connector: "netsuite") { connector object leader recordsIn recordsOut errors ignoredFields pending waiting cursor lastSuccessAt apiBudgetUsed pausedUntil } }`,
      );
      const customer = r.data?.syncStatus.find((s: { object: string }) => s.object === "customer");
      // Every object polled once (they start in order: customer, invoice, customerpayment).
      return customer &&
        customer.errors >= 1 &&
        customer.ignoredFields >= 1 &&
        r.data!.syncStatus.length >= 3
        ? r.data!.syncStatus
        : undefined;
    });
    const customer = status.find((s: { object: string }) => s.object === "customer");
    expect(customer).toMatchObject({
      connector: "netsuite",
      leader: "ops-test",
      recordsIn: 2,
      recordsOut: 0,
      errors: 1,
      ignoredFields: 1,
      pending: 0,
      waiting: 0,
    });
    expect(JSON.parse(customer.cursor)).toHaveProperty("lastModified");
    expect(customer.lastSuccessAt).toBeTruthy();
    expect(status.map((s: { object: string }) => s.object).sort()).toEqual([
      "customer",
      "customerpayment",
      "invoice",
    ]);

    const events = await ops.execute(
      `{ inboxEvents(filter: { source: "netsuite" }) { nodes { externalId status reason ignoredFields entityType entityId } } }`,
    );
    const nodes = events.data!.inboxEvents.nodes;
    const linked = nodes.find((n: { externalId: string }) => n.externalId === nsId);
    expect(linked).toMatchObject({
      status: "SKIPPED",
      ignoredFields: ["name"],
      entityType: "customer",
      entityId: basics.customerId,
    });
    expect(linked.reason).toMatch(
      /linked to existing customer by id; ignored \(not owned by ERP\): name/,
    );
    const failed = nodes.find((n: { status: string }) => n.status === "FAILED");
    expect(failed.reason).toMatch(/matches no customer in the hub/);

    // resyncEntity: a request row + NOTIFY; the CDC process fetches the record and ingests it.
    const asked = await ops.execute(
      `mutation($id: ID!) { resyncEntity(entityType: "customer", id: $id) { id state system object externalId } }`,
      { id: basics.customerId },
    );
    expect(asked.errors).toBeUndefined();
    const [request] = asked.data!.resyncEntity;
    expect(request).toMatchObject({
      state: "PENDING",
      system: "ERP",
      object: "customer",
      externalId: nsId,
    });
    let last = "";
    const done = await waitFor(
      async () => {
        const r = await ops.execute(
          `query($id: ID!) { resyncRequest(id: $id) { state result inboxEventId } }`,
          { id: request.id },
        );
        last = JSON.stringify(r);
        return r.data?.resyncRequest.state === "DONE" ? r.data.resyncRequest : undefined;
      },
      15_000,
      "the resync",
    ).catch((e) => {
      throw new Error(`${e.message}: ${last}`);
    });
    expect(done.inboxEventId).toBeTruthy();
    const after = await waitFor(async () => {
      const r = await ops.execute(
        `{ inboxEvents(filter: { source: "netsuite" }) { nodes { id status reason } } }`,
      );
      const row = r.data?.inboxEvents.nodes.find((n: { id: string }) => n.id === done.inboxEventId);
      return row && row.status !== "RECEIVED" ? row : undefined;
    });
    expect(after.status).toBe("SKIPPED");

    // An entity no source knows: a coded error, nothing queued.
    const opportunityId = await wonOpportunity(t.db, basics);
    const { project } = await execute(
      t.db,
      operations.convertOpportunity,
      { actor: "t" },
      { opportunityId },
    );
    const none = await ops.execute(
      `mutation($id: ID!) { resyncEntity(entityType: "project", id: $id) { id } }`,
      { id: project.id },
    );
    expect(none.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const bad = await ops.execute(
      `mutation { resyncEntity(entityType: "spaceship", id: "x") { id } }`,
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(sync.RESYNC_CHANNEL).toBe("pshub_resync");
  } finally {
    await engine.stop();
  }
});
