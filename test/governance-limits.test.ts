/**
 * Limits and leaks through the gateway (issue 9 item 5), on one stack with trusted documents
 * enforced, introspection off and a per-principal rate limit:
 * - trusted documents: a registered document runs by `documentId` (HTTP POST and GET) and by its
 *   exact text, for any role; unregistered text is TRUSTED_DOCUMENT_REQUIRED (400, nothing run)
 *   except for the ad-hoc roles (admin, analyst: the IDE); an unknown id is
 *   PERSISTED_QUERY_NOT_FOUND; the same rules on the WebSocket;
 * - introspection off: `__schema` and `__type` are refused, ordinary queries run;
 * - the rate limit on the WebSocket: subscribes spend the principal's HTTP budget, and over it a
 *   subscribe gets RATE_LIMITED with retryAfterSeconds, while another principal goes on;
 * - the per-connection subscription cap: exactly `cap` subscriptions on one connection, the next
 *   is TOO_MANY_SUBSCRIPTIONS.
 */

import type { AttachedSubscriptions } from "@pshub/gateway";
import { attachSubscriptions, buildManifest } from "@pshub/gateway";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Stack, startStack } from "./support/stack.ts";

const RATE_POINTS = 4;
const CAP = 3;

let stack: Stack;
let subscriptions: AttachedSubscriptions;
let wsUrl: string;
const clients: Client[] = [];

beforeAll(async () => {
  stack = await startStack({
    gateway: {
      trustedDocuments: { mode: "enforce" },
      introspection: false,
      rateLimit: { points: RATE_POINTS, windowSeconds: 60 },
    },
  });
  subscriptions = await attachSubscriptions(stack.gateway, {
    sql: stack.database.sql,
    url: stack.database.url,
    maxSubscriptionsPerConnection: CAP,
  });
  wsUrl = stack.url.replace(/^http/, "ws");
}, 120_000);
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await subscriptions?.close();
  await stack?.stop();
});

const manifest = buildManifest();
const deep = manifest.operations.find((op) => op.name === "DeepInvoices")!;
const as = (principal: string, roles: string) => ({
  "x-pshub-principal": principal,
  "x-pshub-roles": roles,
});

describe("trusted documents (enforced)", () => {
  it("the manifest is the repo's operations: the IDE's tabs and test/operations", () => {
    expect(manifest.operations.map((op) => op.name)).toEqual(
      expect.arrayContaining(["OpenInvoices", "DeepInvoices"]),
    );
    for (const op of manifest.operations) expect(op.id).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a registered document runs by documentId (POST and GET) and by its exact text, for a role without ad-hoc rights (finance)", async () => {
    const byId = await stack.post(
      { documentId: `sha256:${deep.id}`, variables: { first: 2 } },
      as("td-finance-1@firm.test", "finance"),
    );
    expect(byId.json.errors, JSON.stringify(byId.json)).toBeUndefined();
    expect(typeof byId.json.data.invoices.totalCount).toBe("number");

    const params = new URLSearchParams({ documentId: deep.id, variables: '{"first":1}' });
    const get = await fetch(`${stack.url}?${params}`, {
      headers: { accept: "application/json", ...as("td-finance-2@firm.test", "finance") },
    });
    const getJson = await get.json();
    expect(get.status, JSON.stringify(getJson)).toBe(200);
    expect(getJson.data.invoices.nodes.length).toBeLessThanOrEqual(1);

    const byText = await stack.query(
      deep.body,
      { first: 1 },
      as("td-finance-3@firm.test", "finance"),
    );
    expect(byText.json.errors).toBeUndefined();
  });

  it("unregistered text is refused (400, TRUSTED_DOCUMENT_REQUIRED) for other roles, runs for admin and analyst", async () => {
    const adhoc = `{ invoices(first: 1) { totalCount } }`;
    const refused = await stack.query(adhoc, {}, as("td-fin@firm.test", "finance"));
    expect(refused.status).toBe(400);
    expect(refused.json.errors[0].extensions.code).toBe("TRUSTED_DOCUMENT_REQUIRED");
    expect(refused.json.data).toBeUndefined();
    // A mutation sent as text by a non-ad-hoc role is refused before anything runs: no audit row.
    const before = await stack.database.sql`select count(*)::int as n from audit_log`;
    const mutation = await stack.query(
      `mutation { voidInvoice(invoiceId: "00000000-0000-4000-8000-000000000000", reason: "x") { id } }`,
      {},
      as("td-fin-2@firm.test", "finance"),
    );
    expect(mutation.json.errors[0].extensions.code).toBe("TRUSTED_DOCUMENT_REQUIRED");
    const after = await stack.database.sql`select count(*)::int as n from audit_log`;
    expect(after[0]!.n).toBe(before[0]!.n);

    for (const [principal, role] of [
      ["td-admin@firm.test", "admin"],
      ["td-analyst@firm.test", "analyst"],
    ] as const) {
      const ok = await stack.query(adhoc, {}, as(principal, role));
      expect(ok.json.errors, `${role}: ${JSON.stringify(ok.json)}`).toBeUndefined();
      expect(typeof ok.json.data.invoices.totalCount).toBe("number");
    }
  });

  it("an unknown id is PERSISTED_QUERY_NOT_FOUND, by documentId and by APQ hash", async () => {
    const unknown = "0".repeat(64);
    const byId = await stack.post({ documentId: unknown }, as("td-u1@firm.test", "admin"));
    expect(byId.status).toBe(400);
    expect(byId.json.errors[0].extensions.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    const byHash = await stack.post(
      { extensions: { persistedQuery: { version: 1, sha256Hash: unknown } } },
      as("td-u2@firm.test", "sales"),
    );
    expect(byHash.json.errors[0].extensions.code).toBe("PERSISTED_QUERY_NOT_FOUND");
  });
});

describe("introspection off", () => {
  it("__schema and __type are refused; ordinary queries run", async () => {
    const schema = await stack.query(
      `{ __schema { types { name } } }`,
      {},
      as("in-1@firm.test", "admin"),
    );
    expect(schema.json.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(schema.json.errors[0].message).toMatch(/introspection/i);
    expect(schema.json.data).toBeUndefined();
    const type = await stack.query(
      `{ __type(name: "Invoice") { name } }`,
      {},
      as("in-2@firm.test", "admin"),
    );
    expect(type.json.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const ok = await stack.query(
      `{ invoices(first: 1) { totalCount } }`,
      {},
      as("in-3@firm.test", "admin"),
    );
    expect(ok.json.errors).toBeUndefined();
  });
});

/** Subscribes and collects what comes back (errors, or the first event) for up to `ms`. */
function subscribe(
  client: Client,
  payload: { query: string; extensions?: Record<string, unknown> },
) {
  const errors: unknown[] = [];
  let completed = false;
  const done = new Promise<void>((resolve) => {
    client.subscribe(payload, {
      next: () => {},
      error: (e) => {
        errors.push(e);
        resolve();
      },
      complete: () => {
        completed = true;
        resolve();
      },
    });
  });
  return { errors, done, completed: () => completed };
}

const codesOf = (errors: unknown[]) =>
  errors.flatMap((e) =>
    Array.isArray(e) ? e.map((x: { extensions?: { code?: string } }) => x.extensions?.code) : [],
  );

function client(principal: string, roles: string): Client {
  const c = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    connectionParams: as(principal, roles),
  });
  clients.push(c);
  return c;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("WebSocket", () => {
  it("trusted documents apply to subscribes: unregistered text refused for finance, run for admin", async () => {
    const query = `subscription { invoiceEvents { eventId } }`;
    const refused = subscribe(client("ws-td-fin@firm.test", "finance"), { query });
    await refused.done;
    expect(codesOf(refused.errors)).toEqual(["TRUSTED_DOCUMENT_REQUIRED"]);
    const running = subscribe(client("ws-td-admin@firm.test", "admin"), { query });
    await settle(500);
    expect(running.errors).toEqual([]);
  });

  it("a registered subscription runs by its hash (empty query + persistedQuery) for finance", async () => {
    const registered = manifest.operations.find((op) => op.type === "subscription")!;
    const before = subscriptions.stats().subscriptions;
    const byId = subscribe(client("ws-td-fin-2@firm.test", "finance"), {
      query: "",
      extensions: { persistedQuery: { version: 1, sha256Hash: registered.id } },
    });
    await settle(500);
    expect(byId.errors).toEqual([]);
    expect(subscriptions.stats().subscriptions - before).toBe(1);
  });

  it("subscribes spend the principal's rate-limit budget: over it RATE_LIMITED with retryAfterSeconds; another principal goes on", async () => {
    const query = `subscription { invoiceEvents { eventId } }`;
    // Two connections of one principal: the budget is the principal's, not a connection's.
    const connections = [
      client("ws-rate@firm.test", "admin"),
      client("ws-rate@firm.test", "admin"),
    ];
    // One HTTP request first: the same budget.
    const http = await stack.query(
      `{ invoices(first: 1) { totalCount } }`,
      {},
      as("ws-rate@firm.test", "admin"),
    );
    expect(http.json.errors).toBeUndefined();
    const subs: ReturnType<typeof subscribe>[] = [];
    for (let i = 0; i < RATE_POINTS; i++) {
      subs.push(subscribe(connections[i % 2]!, { query }));
      await settle(50);
    }
    await Promise.race([Promise.all(subs.map((s) => s.done)), settle(3000)]);
    const codes = subs.flatMap((s) => codesOf(s.errors));
    // 1 HTTP + RATE_POINTS subscribes = one over the budget.
    expect(codes).toEqual(["RATE_LIMITED"]);
    const error = subs.flatMap((s) => s.errors).flat()[0] as {
      extensions: { retryAfterSeconds: number };
    };
    expect(error.extensions.retryAfterSeconds).toBeGreaterThan(0);
    expect(error.extensions.retryAfterSeconds).toBeLessThanOrEqual(60);
    const over = await stack.query(
      `{ invoices(first: 1) { totalCount } }`,
      {},
      as("ws-rate@firm.test", "admin"),
    );
    expect(over.status).toBe(429);
    const other = subscribe(client("ws-rate-other@firm.test", "admin"), { query });
    await settle(500);
    expect(other.errors).toEqual([]);
  });

  it(`the per-connection cap: ${CAP} subscriptions on one connection, the next is TOO_MANY_SUBSCRIPTIONS`, async () => {
    const query = `subscription { invoiceEvents { eventId } }`;
    const before = subscriptions.stats().subscriptions;
    const c = client("ws-cap@firm.test", "admin");
    const subs: ReturnType<typeof subscribe>[] = [];
    for (let i = 0; i < CAP; i++) {
      subs.push(subscribe(c, { query }));
      await settle(100);
    }
    await settle(300);
    expect(subs.flatMap((s) => s.errors)).toEqual([]);
    expect(subscriptions.stats().subscriptions - before).toBe(CAP);
    const over = subscribe(c, { query });
    await Promise.race([over.done, settle(3000)]);
    expect(codesOf(over.errors)).toEqual(["TOO_MANY_SUBSCRIPTIONS"]);
    expect(subscriptions.stats().subscriptions - before).toBe(CAP);
  });
});
