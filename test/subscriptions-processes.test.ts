/**
 * Two gateway processes (gateway/src/main.ts, as `npm start` runs it) on one database: each
 * delivers every event to its own subscribers, in order; SIGTERM closes their sockets cleanly
 * (1001, going away) so clients reconnect elsewhere and resume.
 */
import type { Db } from "@pshub/db";
import { execute, operations } from "@pshub/db";
import {
  buildCustomerTree,
  type CustomerTree,
  createTestDatabase,
  type TestDatabase,
} from "@pshub/db/testing";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Child, freePort, httpOk, spawnTs, waitUntil } from "../bench/support/processes.ts";
import { type RunningSubgraphs, startSubgraphs } from "./support/subgraphs.ts";

let database: TestDatabase;
let subgraphs: RunningSubgraphs | undefined;
const gateways: { child: Child; port: number }[] = [];
let tree: CustomerTree;
const clients: Client[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const db: Db = database.db;
  subgraphs = await startSubgraphs(db);
  tree = await buildCustomerTree(db, { invoices: 4, name: "Contoso Twin" });
  for (const name of ["gateway-a", "gateway-b"]) {
    const port = await freePort();
    const child = spawnTs(name, "gateway/src/main.ts", {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
      ...subgraphs.env,
      NODE_ENV: "test",
    });
    gateways.push({ child, port });
  }
  await Promise.all(
    gateways.map(({ child, port }) =>
      waitUntil(child, httpOk(`http://127.0.0.1:${port}/healthz`), 90_000),
    ),
  );
}, 150_000);

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await Promise.all(gateways.map(({ child }) => child.stop()));
  await subgraphs?.close();
  await database?.drop();
});

function subscribe(port: number) {
  const client = createClient({
    url: `ws://127.0.0.1:${port}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
  });
  clients.push(client);
  const ids: string[] = [];
  const errors: unknown[] = [];
  let closeCode: number | undefined;
  client.on("closed", (event) => {
    closeCode = (event as CloseEvent).code;
  });
  client.subscribe(
    {
      query: /* GraphQL */ `
        subscription($customerId: ID) {
          invoiceStatusChanged(customerId: $customerId) { eventId status invoice { number } }
        }
      `,
      variables: { customerId: tree.customerId },
    },
    {
      next: (result) => {
        const data = result.data as { invoiceStatusChanged?: { eventId: string } } | undefined;
        if (result.errors || !data?.invoiceStatusChanged) errors.push(result.errors);
        else ids.push(data.invoiceStatusChanged.eventId);
      },
      error: (error) => void errors.push(error),
      complete: () => {},
    },
  );
  return { ids, errors, closeCode: () => closeCode };
}

const actor = { actor: "two-gateways-test" };

describe("two gateway processes on one database", () => {
  it("both deliver every event to their own subscribers, in order, and close cleanly", async () => {
    const subs = gateways.map(({ port }) => subscribe(port));
    // Subscribed on both: an event reaches both before the measured ones are sent. A
    // subscription starts at the stream's head once the server has it, so a probe sent while a
    // socket is still connecting is missed: probe (dispute, resolve) until both have seen one.
    const probe = tree.invoiceIds[3]!;
    const deadline = Date.now() + 20_000;
    while (!subs.every((s) => s.ids.length >= 1)) {
      expect(Date.now()).toBeLessThan(deadline);
      const { dispute } = await execute(database.db, operations.disputeInvoice, actor, {
        invoiceId: probe,
        reason: "probe",
      });
      await execute(database.db, operations.resolveDispute, actor, {
        disputeId: dispute.id,
        resolution: "probe",
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const [top] = await database.sql<{ max: string | null }[]>`
      select max(id)::text as max from domain_event`;

    for (let round = 0; round < 10; round++) {
      for (const invoiceId of tree.invoiceIds.slice(0, 2)) {
        const { dispute } = await execute(database.db, operations.disputeInvoice, actor, {
          invoiceId,
          reason: `round ${round}`,
        });
        await execute(database.db, operations.resolveDispute, actor, {
          disputeId: dispute.id,
          resolution: "ok",
        });
      }
    }
    const expected = (
      await database.sql<{ event_id: string }[]>`
        select id::text as event_id from domain_event
        where id > ${top?.max ?? "0"} and type = 'invoice.status_changed' order by id`
    ).map((r) => r.event_id);
    expect(expected).toHaveLength(40);
    for (const sub of subs) {
      await expect
        .poll(() => sub.ids.filter((id) => BigInt(id) > BigInt(top?.max ?? "0")).length, {
          timeout: 30_000,
        })
        .toBe(40);
      expect(sub.ids.filter((id) => BigInt(id) > BigInt(top?.max ?? "0"))).toEqual(expected);
      expect(sub.errors).toEqual([]);
    }

    // SIGTERM: the subscriptions are closed with 1001 before the process exits.
    await Promise.all(gateways.map(({ child }) => child.stop()));
    await expect
      .poll(() => subs.map((s) => s.closeCode()), { timeout: 10_000 })
      .toEqual([1001, 1001]);
    // …and the gateway then exits 0 (a clean shutdown, not 128+SIGTERM).
    for (const { child } of gateways) expect(child.process.exitCode).toBe(0);
  });
});
