/**
 * Live subscriptions end to end: every subgraph and two gateways in this process over one
 * real Postgres test database, the supergraph composed from subgraphs/<name>/sdl/*.graphql (with the
 * subscription SDL), events produced by the real lifecycle operations (db/src/lifecycle).
 *
 * - a federated entity selection across subgraphs arrives with the event;
 * - 1,000 rapid mutations: every event, once, in order, per-invoice transitions chained in commit
 *   order, while the outbox listener connection is killed mid-stream;
 * - two gateways on one database both deliver every event to their own subscribers.
 */
import type { Db } from "@pshub/db";
import { execute, operations } from "@pshub/db";
import {
  buildCustomerTree,
  type CustomerTree,
  createTestDatabase,
  type TestDatabase,
} from "@pshub/db/testing";
import {
  type AttachedSubscriptions,
  attachSubscriptions,
  compose,
  createGateway,
  type PshubGateway,
  readAllSubgraphSdl,
} from "@pshub/gateway";
import type { ExecutionResult } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningSubgraphs, startSubgraphs } from "./support/subgraphs.ts";

interface Gw {
  gateway: PshubGateway;
  subscriptions: AttachedSubscriptions;
  wsUrl: string;
}

let database: TestDatabase;
let subgraphs: RunningSubgraphs | undefined;
let gateways: Gw[] = [];
let tree: CustomerTree;
const clients: Client[] = [];

async function startGateway(supergraphSdl: string, urls: Record<string, string>): Promise<Gw> {
  const gateway = await createGateway({
    subgraphUrls: urls,
    supergraph: { sdl: supergraphSdl },
    ide: false,
  });
  const { port } = await gateway.listen({ port: 0 });
  const subscriptions = await attachSubscriptions(gateway, {
    sql: database.sql,
    url: database.url,
  });
  return { gateway, subscriptions, wsUrl: `ws://127.0.0.1:${port}/graphql` };
}

beforeAll(async () => {
  database = await createTestDatabase({ max: 20 });
  const db: Db = database.db;
  subgraphs = await startSubgraphs(db);
  const { urls } = subgraphs;
  const composed = compose(readAllSubgraphSdl(urls));
  if (!composed.ok) throw new Error(`composition failed: ${composed.errors.join("; ")}`);
  gateways = [
    await startGateway(composed.supergraphSdl, urls),
    await startGateway(composed.supergraphSdl, urls),
  ];
  tree = await buildCustomerTree(db, { invoices: 20, linesPerInvoice: 2, name: "Contoso Live" });
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  for (const gw of gateways) {
    await gw.subscriptions.close();
    await gw.gateway.close();
  }
  await subgraphs?.close();
  await database?.drop();
});

function client(wsUrl: string) {
  const c = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
  });
  clients.push(c);
  return c;
}

function collect(c: Client, query: string, variables: Record<string, unknown> = {}) {
  const results: ExecutionResult[] = [];
  const errors: unknown[] = [];
  const stop = c.subscribe(
    { query, variables },
    {
      next: (r) => void results.push(r as ExecutionResult),
      error: (e) => void errors.push(e),
      complete: () => {},
    },
  );
  return {
    results,
    errors,
    stop,
    async waitFor(n: number, ms = 30_000) {
      const deadline = Date.now() + ms;
      while (results.length < n && errors.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 25));
      return results;
    },
  };
}

const actor = { actor: "subscriptions-test" };

async function subscribedOn(gw: Gw, n: number) {
  const deadline = Date.now() + 5000;
  while (gw.subscriptions.stats().subscriptions < n && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
}

/** Dispute then resolve: two invoice.status_changed events (→ DISPUTED, → back). */
async function disputeAndResolve(invoiceId: string) {
  const { dispute } = await execute(database.db, operations.disputeInvoice, actor, {
    invoiceId,
    reason: "wrong rate",
  });
  await execute(database.db, operations.resolveDispute, actor, {
    disputeId: dispute.id,
    resolution: "explained",
  });
}

describe("subscriptions through the gateway", () => {
  it("delivers the event with its entity resolved across subgraphs (one gateway query)", async () => {
    const gw = gateways[0]!;
    const sub = collect(
      client(gw.wsUrl),
      /* GraphQL */ `
        subscription Live($customerId: ID) {
          invoiceStatusChanged(customerId: $customerId, status: DISPUTED) {
            eventId
            type
            occurredAt
            previousStatus
            status
            invoice {
              number
              status
              total { amount currency }
              customer { name parent { name } }
              contract { billingModel }
              lines(first: 5) { nodes { billingEvent { project { name } } } }
            }
          }
        }
      `,
      { customerId: tree.customerId },
    );
    await subscribedOn(gw, 1);
    await disputeAndResolve(tree.invoiceIds[0]!);
    const [result] = await sub.waitFor(1);
    expect(result?.errors).toBeUndefined();
    const event = (result?.data as { invoiceStatusChanged?: Record<string, unknown> } | undefined)
      ?.invoiceStatusChanged as Record<string, unknown>;
    expect(event).toMatchObject({
      type: "invoice.status_changed",
      previousStatus: "PARTIALLY_PAID",
      status: "DISPUTED",
      invoice: {
        status: expect.any(String),
        total: { amount: expect.stringMatching(/^\d+\.\d{2}$/), currency: expect.any(String) },
        customer: { name: "Contoso Live", parent: { name: expect.any(String) } },
        contract: { billingModel: expect.any(String) },
        lines: { nodes: [expect.anything(), expect.anything()] },
      },
    });
    expect(
      (event.invoice as { lines: { nodes: { billingEvent: { project: { name: string } } }[] } })
        .lines.nodes[0]?.billingEvent.project.name,
    ).toEqual(expect.any(String));
    // The resolve (DISPUTED → PARTIALLY_PAID) did not match status: DISPUTED.
    await new Promise((r) => setTimeout(r, 300));
    expect(sub.results).toHaveLength(1);
    sub.stop();
  });

  it("1,000 rapid mutations: every event once, in commit order, on two gateways, surviving a killed listener", async () => {
    const query = /* GraphQL */ `
      subscription($customerId: ID) {
        invoiceStatusChanged(customerId: $customerId) { eventId previousStatus status invoice { id } }
      }
    `;
    const [a, b] = gateways as [Gw, Gw];
    const onA = collect(client(a.wsUrl), query, { customerId: tree.customerId });
    const onB = collect(client(b.wsUrl), query, { customerId: tree.customerId });
    await subscribedOn(a, 1);
    await subscribedOn(b, 1);
    const [top] = await database.sql<{ max: string | null }[]>`
      select max(id)::text as max from domain_event`;
    const before = top?.max ?? "0";

    // 20 invoices, one worker each (an invoice's own mutations are sequential; the invoices run
    // concurrently): 25 dispute/resolve rounds each = 1,000 mutations, 1,000 status changes.
    const invoices = tree.invoiceIds.slice(0, 20);
    let killed = false;
    let done = 0;
    await Promise.all(
      invoices.map(async (invoiceId) => {
        for (let round = 0; round < 25; round++) {
          await disputeAndResolve(invoiceId);
          done += 2;
          if (!killed && done >= 400) {
            killed = true;
            const rows = await database.sql`
              select pg_terminate_backend(pid) from pg_stat_activity
              where application_name = 'pshub-outbox-listener' and datname = current_database()`;
            expect(rows.length).toBe(2); // one listener per gateway
          }
        }
      }),
    );
    const expected = await database.sql<{ event_id: string; entity_id: string }[]>`
      select id::text as event_id, entity_id from domain_event
      where id > ${before} and type = 'invoice.status_changed' order by id`;
    expect(expected).toHaveLength(1000);

    for (const sub of [onA, onB]) {
      const got = await sub.waitFor(1000, 60_000);
      expect(sub.errors).toEqual([]);
      const events = got.map(
        (r) =>
          (
            r.data as {
              invoiceStatusChanged: {
                eventId: string;
                previousStatus: string;
                status: string;
                invoice: { id: string };
              };
            }
          ).invoiceStatusChanged,
      );
      expect(events.map((e) => e.eventId)).toEqual(expected.map((e) => e.event_id));
      // Per invoice, each transition starts where the previous one ended: commit order.
      const last = new Map<string, string>();
      for (const e of events) {
        const previous = last.get(e.invoice.id);
        if (previous) expect(e.previousStatus).toBe(previous);
        last.set(e.invoice.id, e.status);
      }
      sub.stop();
    }
    for (const gw of gateways) {
      expect(gw.subscriptions.reader.statistics.listenerReconnects).toBeGreaterThanOrEqual(1);
    }
  });

  it("resumes through the gateway after a forced disconnect: no gaps, no duplicates", async () => {
    const gw = gateways[1]!;
    const query = /* GraphQL */ `
      subscription($customerId: ID, $after: ID) {
        invoiceEvents(customerId: $customerId, afterEventId: $after) { eventId type invoice { number } }
      }
    `;
    const first = client(gw.wsUrl);
    const sub = collect(first, query, { customerId: tree.customerId });
    await subscribedOn(gw, 1);
    const invoiceId = tree.invoiceIds[5]!;
    await disputeAndResolve(invoiceId);
    const seen = await sub.waitFor(4); // status changes and dispute events
    const lastSeen = String(
      (seen[1]?.data as { invoiceEvents?: { eventId: string } } | undefined)?.invoiceEvents
        ?.eventId,
    );
    await first.dispose(); // forced disconnect after processing two
    await disputeAndResolve(invoiceId);
    const resumed = collect(client(gw.wsUrl), query, {
      customerId: tree.customerId,
      after: lastSeen,
    });
    const expected = await database.sql<{ event_id: string }[]>`
      select id::text as event_id from domain_event
      where id > ${lastSeen} and type in ('invoice.status_changed', 'dispute.opened', 'dispute.resolved', 'payment.recorded', 'invoice.created')
      order by id`;
    const got = await resumed.waitFor(expected.length);
    expect(
      got.map((r) => (r.data as { invoiceEvents: { eventId: string } }).invoiceEvents.eventId),
    ).toEqual(expected.map((e) => e.event_id));
    resumed.stop();
  });
});
