/**
 * The graphql-ws server standalone: a plain HTTP server, a small API schema and a federated
 * executor stub (counting its calls), over a real Postgres outbox.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { EventFactsLoader, OutboxReader } from "@pshub/db/outbox";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { buildSchema, type DocumentNode, type ExecutionResult, execute } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createSubscriptionServer, type SubscriptionServer } from "./server.ts";

const SDL = /* GraphQL */ `
  scalar DateTime
  enum InvoiceStatus { DRAFT ISSUED POSTED PAID VOID }
  type Customer { id: ID! name: String! }
  type Invoice { id: ID! number: String! status: InvoiceStatus! customer: Customer! }
  enum ExceptionStatus { OPEN RETRYING RESOLVED IGNORED }
  type SyncException { id: ID! status: ExceptionStatus! }
  type Query { invoice(id: ID!): Invoice syncException(id: ID!): SyncException }
  type Subscription {
    invoiceStatusChanged(invoiceId: ID, customerId: ID, status: InvoiceStatus, afterEventId: ID): InvoiceEvent!
    invoiceEvents(customerId: ID, afterEventId: ID): InvoiceEvent!
    syncExceptionRaised(owner: String, afterEventId: ID): SyncExceptionEvent!
  }
  type SyncExceptionEvent {
    eventId: ID!
    type: String!
    previousStatus: ExceptionStatus
    status: ExceptionStatus
    syncException: SyncException
  }
  type InvoiceEvent {
    eventId: ID!
    type: String!
    occurredAt: DateTime!
    previousStatus: InvoiceStatus
    status: InvoiceStatus
    invoice: Invoice!
  }
`;
const apiSchema = buildSchema(SDL);
/** Without the Subscription fields: a reload that invalidates running subscriptions. */
const shrunkSchema = buildSchema(
  SDL.replace(/type Subscription \{[^}]*\}/, "type Subscription { other: String }"),
);

let t: TestDatabase;
let httpServer: Server;
let server: SubscriptionServer;
let reader: OutboxReader;
let wsUrl: string;
const federatedCalls: { query: DocumentNode; variables: Record<string, unknown> }[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  reader = new OutboxReader({ sql: t.sql, url: t.url, holeGraceMs: 50 });
  await reader.start();
  httpServer = createServer((_req, res) => res.end("http"));
  server = createSubscriptionServer({
    httpServer,
    schema: () => apiSchema,
    reader,
    facts: new EventFactsLoader(t.sql),
    maxSubscriptionsPerConnection: 3,
    maxRejectedSubscribes: 5,
    // Write turns on (fanout.ts): every test here runs through them.
    fanoutWriteTurn: 500,
    documentCacheBytes: 2_000_000,
    authenticate: async ({ token }) =>
      token === "bad"
        ? { ok: false, message: "bad token" }
        : {
            ok: true,
            principal: { id: String(token ?? "anonymous"), roles: [], method: "development" },
          },
    execute: async ({ query, variables }) => {
      federatedCalls.push({ query, variables });
      const id = String(variables.__id);
      const result = await execute({
        schema: apiSchema,
        document: query,
        variableValues: variables,
        rootValue: {
          invoice: () => ({
            id,
            number: `INV-${id.slice(0, 4)}`,
            status: "ISSUED",
            customer: { id: "c1", name: "Acme" },
          }),
          syncException: () => ({ id, status: "RESOLVED" }),
        },
      });
      return result as { data?: Record<string, unknown> | null };
    },
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  wsUrl = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  for (const client of clients) await client.dispose();
  await server?.close();
  await reader?.close();
  await new Promise<void>((resolve) =>
    httpServer ? httpServer.close(() => resolve()) : resolve(),
  );
  await t?.drop();
});

function client(connectionParams: Record<string, unknown> = {}) {
  const c = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
    connectionParams,
  });
  clients.push(c);
  return c;
}

interface Collector {
  results: ExecutionResult[];
  errors: unknown[];
  done: Promise<void>;
  waitFor(n: number, ms?: number): Promise<ExecutionResult[]>;
  stop(): void;
}

function subscribe(c: Client, query: string, variables: Record<string, unknown> = {}): Collector {
  const results: ExecutionResult[] = [];
  const errors: unknown[] = [];
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const waiters: (() => void)[] = [];
  const stop = c.subscribe(
    { query, variables },
    {
      next: (r) => {
        results.push(r as ExecutionResult);
        for (const w of waiters.splice(0)) w();
      },
      error: (e) => {
        errors.push(e);
        finish();
        for (const w of waiters.splice(0)) w();
      },
      complete: () => finish(),
    },
  );
  return {
    results,
    errors,
    done,
    stop,
    async waitFor(n, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (results.length < n && errors.length === 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return results;
    },
  };
}

async function insertEvent(payload: Record<string, unknown>, entityId = randomUUID()) {
  const [row] = await t.sql<{ id: string }[]>`
    insert into domain_event (type, entity_type, entity_id, actor, payload)
    values ('invoice.status_changed', 'invoice', ${entityId}, 'test', ${JSON.stringify(payload)}::jsonb)
    returning id`;
  return Number(row!.id);
}

/** The eventId of an invoiceEvents result. */
const eventIdOf = (r: ExecutionResult | undefined) =>
  (r?.data as { invoiceEvents?: { eventId: string } } | undefined)?.invoiceEvents?.eventId;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the server has registered `n` running subscriptions. */
async function subscribed(n: number) {
  const deadline = Date.now() + 5000;
  while (server.stats().subscriptions < n && Date.now() < deadline) await sleep(20);
  await sleep(30);
}

describe("subscriptions over graphql-ws (standalone)", () => {
  it("keeps parsed documents within documentCacheBytes, however many distinct ones arrive", async () => {
    for (let i = 0; i < 40; i++) {
      const c = client();
      // ~3 KB each, every one distinct; invalid, so each is rejected (and still cached).
      const sub = subscribe(c, `subscription { nope${i} } # ${String(i).repeat(3000)}`);
      await sub.done;
      expect(JSON.stringify(sub.errors)).toContain("GRAPHQL_VALIDATION_FAILED");
      await c.dispose();
    }
    const { cachedDocuments, cachedDocumentBytes } = server.stats();
    expect(cachedDocumentBytes).toBeGreaterThan(0);
    expect(cachedDocumentBytes).toBeLessThanOrEqual(2_000_000);
    expect(cachedDocuments).toBeLessThan(40);
  });

  it("applies the document limits before validation", async () => {
    const c = client();
    const sub = subscribe(
      c,
      `subscription { invoiceEvents { eventId ${"__typename ".repeat(600)}} }`,
    );
    await sub.done;
    expect(JSON.stringify(sub.errors)).toContain("QUERY_TOO_COMPLEX");
    expect(JSON.stringify(sub.errors)).not.toContain('"http"');
  });

  it("filters events and resolves the entity selection (aliases, fragments, variables, @include/@skip)", async () => {
    const c = client();
    const customer = randomUUID();
    const sub = subscribe(
      c,
      /* GraphQL */ `
        subscription S($customer: ID, $withCustomer: Boolean!, $skipNumber: Boolean!) {
          e: invoiceStatusChanged(customerId: $customer, status: POSTED) {
            eventId
            kind: type
            previousStatus
            status
            inv: invoice {
              ...Ids
              n: number @skip(if: $skipNumber)
              customer @include(if: $withCustomer) { name }
            }
          }
        }
        fragment Ids on Invoice { id }
      `,
      { customer, withCustomer: true, skipNumber: false },
    );
    await subscribed(1);
    const before = server.stats().subscriptions;
    expect(before).toBeGreaterThanOrEqual(1);
    const invoiceId = randomUUID();
    await insertEvent({ from: "ISSUED", to: "POSTED", customerId: randomUUID() }); // other customer
    await insertEvent({ from: "DRAFT", to: "ISSUED", customerId: customer }); // other status
    const wanted = await insertEvent(
      { from: "ISSUED", to: "POSTED", customerId: customer },
      invoiceId,
    );
    const [result] = await sub.waitFor(1);
    expect(result).toEqual({
      data: {
        e: {
          eventId: String(wanted),
          kind: "invoice.status_changed",
          previousStatus: "ISSUED",
          status: "POSTED",
          inv: { id: invoiceId, n: `INV-${invoiceId.slice(0, 4)}`, customer: { name: "Acme" } },
        },
      },
    });
    await sleep(200);
    expect(sub.results).toHaveLength(1);
    sub.stop();
  });

  it("syncExceptionRaised sees an exception raised and every move of it (status_changed), narrowed by owner", async () => {
    const c = client();
    const sub = subscribe(
      c,
      `subscription { syncExceptionRaised(owner: "FINANCE") { type previousStatus status syncException { id } } }`,
    );
    await subscribed(1);
    const exceptionId = randomUUID();
    const insert = (type: string, owner: string, payload: Record<string, unknown>) =>
      t.sql`insert into domain_event (type, entity_type, entity_id, actor, payload)
        values (${type}, 'sync_exception', ${exceptionId}, 'test',
                ${JSON.stringify({ owner, ...payload })}::jsonb)`;
    await insert("sync_exception.raised", "SALES_OPS", {}); // another team's queue
    await insert("sync_exception.raised", "FINANCE", {});
    await insert("sync_exception.status_changed", "FINANCE", { from: "OPEN", to: "RETRYING" });
    await insert("sync_exception.status_changed", "FINANCE", { from: "RETRYING", to: "RESOLVED" });
    const results = await sub.waitFor(3);
    expect(results.map((r) => r.data?.syncExceptionRaised)).toEqual([
      {
        type: "sync_exception.raised",
        previousStatus: null,
        status: "OPEN",
        syncException: { id: exceptionId },
      },
      {
        type: "sync_exception.status_changed",
        previousStatus: "OPEN",
        status: "RETRYING",
        syncException: { id: exceptionId },
      },
      {
        type: "sync_exception.status_changed",
        previousStatus: "RETRYING",
        status: "RESOLVED",
        syncException: { id: exceptionId },
      },
    ]);
    sub.stop();
  });

  it("does identical (event, selection, scope) work once for all subscribers", async () => {
    const query = /* GraphQL */ `subscription { invoiceEvents { eventId invoice { id number } } }`;
    const subs = Array.from({ length: 12 }, () => subscribe(client({ token: "same" }), query));
    // Another scope: its own execution, but still one per event.
    const other = subscribe(client({ token: "other" }), query);
    await subscribed(13);
    const callsBefore = federatedCalls.length;
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await insertEvent({ from: "DRAFT", to: "ISSUED" }));
    for (const s of [...subs, other]) {
      const got = await s.waitFor(5);
      expect(
        got.map((r) => (r.data as { invoiceEvents: { eventId: string } }).invoiceEvents.eventId),
      ).toEqual(ids.map(String));
    }
    // 5 events × 2 scopes, not 5 × 13 subscribers.
    expect(federatedCalls.length - callsBefore).toBe(10);
    for (const s of [...subs, other]) s.stop();
  });

  it("a group bigger than one write turn gets every event once and in order, events committed while a batch goes out included", async () => {
    // 1,100 identical subscribers: the fan-out writes them 500 at a time with turns of the event
    // loop between (fanout.ts), and reads and resolves the next events while a batch goes out.
    const query = /* GraphQL */ `subscription { invoiceEvents { eventId } }`;
    const sockets: WebSocket[] = [];
    const seen: string[][] = [];
    try {
      await Promise.all(
        Array.from({ length: 1100 }, async (_, k) => {
          const socket = new WebSocket(wsUrl, "graphql-transport-ws", { perMessageDeflate: false });
          sockets.push(socket);
          seen[k] = [];
          socket.on("message", (data) => {
            const text = String(data);
            if (text.startsWith('{"type":"connection_ack"'))
              socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query } }));
            else seen[k]?.push(/"eventId":"(\d+)"/.exec(text)?.[1] ?? text);
          });
          await new Promise<void>((resolve) =>
            socket.on("open", () => {
              socket.send(JSON.stringify({ type: "connection_init", payload: { token: "group" } }));
              resolve();
            }),
          );
        }),
      );
      await subscribed(1100);
      const ids: number[] = [];
      for (let i = 0; i < 20; i++) ids.push(await insertEvent({ to: "ISSUED" }));
      const deadline = Date.now() + 20_000;
      while (seen.some((got) => got.length < ids.length) && Date.now() < deadline) await sleep(50);
      await sleep(100);
      const wanted = ids.map(String);
      const wrong = seen.filter((got) => got.join() !== wanted.join());
      expect(wrong.length).toBe(0);
      expect(seen.length).toBe(1100);
    } finally {
      for (const socket of sockets) socket.terminate();
    }
  });

  it("resumes from afterEventId after a disconnect: every missed event once, in order", async () => {
    const query = /* GraphQL */ `subscription($after: ID) { invoiceEvents(afterEventId: $after) { eventId } }`;
    const first = client();
    const sub = subscribe(first, query);
    await subscribed(1);
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await insertEvent({ to: "ISSUED" }));
    const seen = (await sub.waitFor(5)).map(
      (r) => (r.data as { invoiceEvents: { eventId: string } }).invoiceEvents.eventId,
    );
    expect(seen).toEqual(ids.map(String));
    await first.dispose(); // forced disconnect
    for (let i = 0; i < 5; i++) ids.push(await insertEvent({ to: "PAID" }));
    const resumed = subscribe(client(), query, { after: seen[2] });
    await subscribed(1);
    ids.push(await insertEvent({ to: "VOID" }));
    const got = (await resumed.waitFor(8)).map(
      (r) => (r.data as { invoiceEvents: { eventId: string } }).invoiceEvents.eventId,
    );
    expect(got).toEqual(ids.slice(3).map(String));
    resumed.stop();
  });

  it("answers bad input with clear errors and stays up for everyone else", async () => {
    const c = client();
    const unknown = subscribe(c, `subscription { noSuchField { eventId } }`);
    await unknown.done;
    expect(String((unknown.errors[0] as { message: string }[])[0]?.message)).toMatch(
      /Cannot query field "noSuchField"/,
    );
    const query = subscribe(c, `query { invoice(id: "1") { id } }`);
    await query.done;
    expect((query.errors[0] as { extensions: { code: string } }[])[0]?.extensions.code).toBe(
      "OPERATION_NOT_SUPPORTED",
    );
    const badVars = subscribe(
      c,
      `subscription($s: InvoiceStatus) { invoiceStatusChanged(status: $s) { eventId } }`,
      { s: "NOT_A_STATUS" },
    );
    await badVars.done;
    expect((badVars.errors[0] as { extensions: { code: string } }[])[0]?.extensions.code).toBe(
      "BAD_USER_INPUT",
    );
    const badAfter = subscribe(c, `subscription { invoiceEvents(afterEventId: "x1") { eventId } }`);
    await badAfter.done;
    expect(String((badAfter.errors[0] as { message: string }[])[0]?.message)).toMatch(
      /afterEventId/,
    );

    // A flood: over the per-connection cap, then closed once it keeps going.
    const flooder = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    clients.push(flooder);
    const closed = new Promise<number>((resolve) =>
      flooder.on("closed", (e) => resolve((e as CloseEvent).code)),
    );
    const flood = Array.from({ length: 40 }, () =>
      subscribe(flooder, `subscription { invoiceEvents { eventId } }`),
    );
    expect(await closed).toBe(4429);
    await Promise.all(flood.map((s) => s.done));
    const codes = flood.flatMap((s) =>
      s.errors.flatMap((e) => (Array.isArray(e) ? e.map((x) => x.extensions?.code) : [])),
    );
    expect(codes).toContain("TOO_MANY_SUBSCRIPTIONS");

    // Everyone else is fine.
    const healthy = subscribe(client(), `subscription { invoiceEvents { eventId } }`);
    await subscribed(1);
    const id = await insertEvent({ to: "ISSUED" });
    const [r] = await healthy.waitFor(1);
    expect(eventIdOf(r)).toBe(String(id));
    healthy.stop();
  });

  it("refuses a connection whose connection_init does not authenticate (4401)", async () => {
    const c = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
      connectionParams: { token: "bad" },
    });
    clients.push(c);
    const code = await new Promise<number>((resolve) =>
      c.on("closed", (e) => resolve((e as CloseEvent).code)),
    );
    expect(code).toBe(4401);
  });

  it("on a schema reload keeps valid subscriptions and ends invalid ones with a retryable error", async () => {
    const sub = subscribe(client(), `subscription { invoiceEvents { eventId } }`);
    await subscribed(1);
    server.schemaChanged(apiSchema); // same fields: goes on
    const id = await insertEvent({ to: "ISSUED" });
    expect((await sub.waitFor(1)).length).toBe(1);
    expect(eventIdOf(sub.results[0])).toBe(String(id));
    server.schemaChanged(shrunkSchema);
    await sub.done;
    const [error] = sub.errors[0] as { extensions: { code: string; retryable: boolean } }[];
    expect(error?.extensions).toMatchObject({ code: "SCHEMA_CHANGED", retryable: true });
  });

  it("close() ends every connection with 1001 (going away) so clients reconnect and resume", async () => {
    const c = client();
    subscribe(c, `subscription { invoiceEvents { eventId } }`);
    await subscribed(1);
    const code = new Promise<number>((resolve) =>
      c.on("closed", (e) => resolve((e as CloseEvent).code)),
    );
    await server.close();
    expect(await code).toBe(1001);
    expect(server.stats().subscriptions).toBe(0);
  });
});

describe("a client that does not read", () => {
  it("is ended with SUBSCRIPTION_LAGGING (counted) while an identical subscriber gets every event", async () => {
    // Its own server: a low buffer limit and big results, so a paused socket fills up quickly.
    const http = createServer((_req, res) => res.end("http"));
    const big = "x".repeat(100_000);
    const own = createSubscriptionServer({
      httpServer: http,
      schema: () => apiSchema,
      reader,
      facts: new EventFactsLoader(t.sql),
      maxBufferedBytes: 500_000,
      authenticate: async () => ({
        ok: true,
        principal: { id: "same", roles: [], method: "development" },
      }),
      execute: async ({ variables }) => ({
        data: { __entity: { __typename: "Invoice", id: String(variables.__id), number: big } },
      }),
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`;
    const query = /* GraphQL */ `subscription { invoiceEvents { eventId invoice { number } } }`;
    const slow = new WebSocket(url, "graphql-transport-ws");
    const slowMessages: string[] = [];
    slow.on("message", (data) => slowMessages.push(String(data)));
    await new Promise<void>((resolve) => {
      slow.on("open", () => slow.send(JSON.stringify({ type: "connection_init" })));
      slow.once("message", () => {
        slow.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query } }));
        resolve();
      });
    });
    const reading = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    try {
      const fast = subscribe(reading, query);
      const deadline = Date.now() + 5000;
      while (own.stats().subscriptions < 2 && Date.now() < deadline) await sleep(20);
      // The slow client stops reading: its socket's buffers fill, then the gateway's.
      (slow as unknown as { _socket: { pause(): void } })._socket.pause();
      const ids: number[] = [];
      for (let i = 0; i < 150; i++) ids.push(await insertEvent({ to: "ISSUED" }));
      const got = (await fast.waitFor(150, 30_000)).map(
        (r) => (r.data as { invoiceEvents: { eventId: string } }).invoiceEvents.eventId,
      );
      expect(got).toEqual(ids.map(String));
      expect(fast.errors).toEqual([]);
      expect(own.stats().lagging).toBe(1);
      expect(own.stats().subscriptions).toBe(1);
      // Reading again, the slow client finds the events that were sent, then the error.
      (slow as unknown as { _socket: { resume(): void } })._socket.resume();
      const until = Date.now() + 10_000;
      while (!slowMessages.some((m) => m.includes('"type":"error"')) && Date.now() < until)
        await sleep(50);
      const error = slowMessages.find((m) => m.includes('"type":"error"'));
      expect(error).toContain("SUBSCRIPTION_LAGGING");
      expect(slowMessages.filter((m) => m.includes('"type":"next"')).length).toBeLessThan(150);
      fast.stop();
    } finally {
      slow.terminate();
      await reading.dispose();
      await own.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});
