/**
 * Hostile documents against a real gateway process (gateway/src/main.ts, as `npm start` runs
 * it) and straight against a subgraph: each is refused quickly, before validation, while the
 * gateway keeps answering others, and the gateway's memory stays flat — over HTTP and over the
 * WebSocket.
 *
 * - 24 fragments each spreading the next twice (2^24 fields once expanded; ~1 KB of text);
 * - 10,000 directives on one field;
 * - 10,000 `id` fields in one selection set, and 3,000 (under the token limit, over the field
 *   limit: refused by the field count, never validated — validation would take seconds);
 * - 5,000 one-field fragments spread side by side (~210 KB);
 * - 30 distinct ~900 KB subscription documents; subscribe messages under and over the body limit.
 */
import type { Db } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { createCustomerSubgraph } from "@pshub/subgraph-customer";
import { listen, type RunningSubgraph } from "@pshub/subgraph-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Child, freePort, httpOk, spawnTs, waitUntil } from "../bench/support/processes.ts";

const doubling = `{ customers(first: 1) { nodes { ...F0 } } } ${Array.from(
  { length: 24 },
  (_, i) =>
    i === 23
      ? `fragment F${i} on Customer { id name }`
      : `fragment F${i} on Customer { ...F${i + 1} ...F${i + 1} }`,
).join(" ")}`;
const directives = `{ __typename ${"@skip(if: false) ".repeat(10_000)}}`;
const ids = (n: number) => `{ customers(first: 1) { nodes { ${"id ".repeat(n)}} } }`;
const fragments = `{ customers(first: 1) { nodes { ${Array.from(
  { length: 5000 },
  (_, i) => `...F${i}`,
).join(
  " ",
)} } } } ${Array.from({ length: 5000 }, (_, i) => `fragment F${i} on Customer { id }`).join(" ")}`;

const HOSTILE: [name: string, document: string, code: string][] = [
  ["24 doubling fragments", doubling, "QUERY_TOO_COMPLEX"],
  ["10,000 directives", directives, "TOO_MANY_TOKENS"],
  ["10,000 id fields", ids(10_000), "TOO_MANY_TOKENS"],
  ["3,000 id fields", ids(3_000), "QUERY_TOO_COMPLEX"],
  ["5,000 one-field fragments", fragments, "TOO_MANY_TOKENS"],
];

let database: TestDatabase;
let customer: RunningSubgraph;
let gateway: Child;
let origin: string;

beforeAll(async () => {
  database = await createTestDatabase();
  const db: Db = database.db;
  customer = await listen(createCustomerSubgraph(db), { port: 0, host: "127.0.0.1" });
  const port = await freePort();
  gateway = spawnTs(
    "gateway",
    "gateway/src/main.ts",
    {
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
      // Only the customer subgraph runs: the others' health does not matter here.
      SUBGRAPH_CUSTOMER_URL: customer.url,
      SUBGRAPH_PROJECT_URL: customer.url,
      SUBGRAPH_BILLING_URL: customer.url,
      SUBGRAPH_INVOICE_URL: customer.url,
      // Above the WebSocket's old fixed 1 MB: subscribe messages must follow this limit.
      GATEWAY_MAX_BODY_BYTES: "2000000",
      // The inspector (on a free loopback port) lets the test force a garbage collection, so
      // memory is measured as what the gateway keeps, not as garbage V8 has not collected yet.
    },
    ["--inspect=127.0.0.1:0"],
  );
  origin = `http://127.0.0.1:${port}`;
  await waitUntil(gateway, httpOk(`${origin}/readyz`), 90_000);
}, 150_000);

afterAll(async () => {
  await gateway?.stop();
  await customer?.close();
  await database?.drop();
});

const post = async (url: string, query: string) => {
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json" },
    body: JSON.stringify({ query }),
  });
  const json = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
  return { status: response.status, json, ms: performance.now() - started };
};

const timed = async (url: string) => {
  const started = performance.now();
  const response = await fetch(url);
  await response.arrayBuffer();
  return performance.now() - started;
};

/** A full garbage collection in the gateway process, through its inspector. */
async function collectGarbage(): Promise<void> {
  const url = /ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+/.exec(gateway.output())?.[0];
  if (!url) throw new Error(`no inspector URL in the gateway's output:\n${gateway.output()}`);
  const inspector = new WebSocket(url);
  try {
    await new Promise((resolve, reject) => {
      inspector.once("open", resolve);
      inspector.once("error", reject);
    });
    await new Promise<void>((resolve) => {
      inspector.on("message", (data) => {
        if ((JSON.parse(String(data)) as { id?: number }).id === 1) resolve();
      });
      inspector.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" }));
    });
  } finally {
    inspector.close();
  }
}

/** The gateway process's resident memory after a full collection, from its own /metrics. */
async function gatewayRss(): Promise<number> {
  await collectGarbage();
  const text = await (await fetch(`${origin}/metrics`)).text();
  const match = /^pshub_process_resident_memory_bytes\{[^}]*\} (\d+)/m.exec(text);
  if (!match?.[1]) throw new Error("no resident memory metric");
  return Number(match[1]);
}

/**
 * The best of up to ten tries: the machine is shared (tests run in parallel on two cores), so a
 * slow sample may be another process's doing; what is measured is whether the gateway CAN answer
 * in time (before the fix, the doubling document took ~50 s and 10,000 fields ~12 s every time).
 */
async function bestOf<T extends { ms: number }>(attempt: () => Promise<T>): Promise<T> {
  let best: T | undefined;
  for (let i = 0; i < 10; i++) {
    const result = await attempt();
    if (!best || result.ms < best.ms) best = result;
    if (best.ms < 100) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return best as T;
}

describe("hostile documents at the gateway (HTTP)", () => {
  it("refuses each in < 100 ms while a concurrent /healthz answers in < 100 ms, memory flat", async () => {
    for (const [name, document, code] of HOSTILE) {
      const result = await bestOf(async () => {
        const refused = post(`${origin}/graphql`, document);
        // Sent while the gateway handles the document: it must not wait for it.
        const health = timed(`${origin}/healthz`);
        const [answer, healthMs] = await Promise.all([refused, health]);
        return { ...answer, healthMs, ms: Math.max(answer.ms, healthMs) };
      });
      expect([name, result.status, result.json.errors?.[0]?.extensions?.code]).toEqual([
        name,
        400,
        code,
      ]);
      expect([name, result.ms < 100, result.healthMs < 100]).toEqual([name, true, true]);
    }
    // Each again a few times: nothing is kept for documents that were refused (measured after
    // the first round, so the heap's own growth to its working size does not count).
    const before = await gatewayRss();
    for (let round = 0; round < 3; round++) {
      for (const [, document] of HOSTILE) await post(`${origin}/graphql`, document);
    }
    const after = await gatewayRss();
    expect(Math.abs(after - before)).toBeLessThan(50_000_000);
  });

  it("still runs ordinary queries", async () => {
    const ok = await post(`${origin}/graphql`, "{ customers(first: 2) { nodes { id name } } }");
    expect(ok.status).toBe(200);
    expect(ok.json.errors).toBeUndefined();
  });
});

describe("hostile documents straight at a subgraph", () => {
  it("refuses each before validation: < 100 ms, memory flat", async () => {
    const before = process.memoryUsage().rss;
    for (const [name, document] of HOSTILE) {
      const result = await bestOf(() => post(customer.url, document));
      expect([name, result.status]).toEqual([name, 400]);
      expect([name, result.json.errors?.[0]?.extensions?.code]).toEqual([
        name,
        expect.stringMatching(/^(QUERY_TOO_COMPLEX|TOO_MANY_TOKENS|TOO_MANY_FRAGMENTS)$/),
      ]);
      expect([name, result.ms < 100]).toEqual([name, true]);
    }
    expect(process.memoryUsage().rss - before).toBeLessThan(50_000_000);
  });
});

/** One graphql-ws exchange on a fresh socket: connection_init, one subscribe, then close. */
function subscribeOnce(
  query: string,
): Promise<{ error?: { extensions?: { code?: string } }; closeCode?: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(
      `ws://127.0.0.1:${new URL(origin).port}/graphql`,
      "graphql-transport-ws",
    );
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error("no answer to subscribe"));
    }, 20_000);
    let error: { extensions?: { code?: string } } | undefined;
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: {} })));
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: unknown };
      if (message.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query } }));
      } else if (message.type === "error") {
        error = (message.payload as { extensions?: { code?: string } }[])[0];
        socket.close(1000);
      }
    });
    socket.on("close", (code) => {
      clearTimeout(timer);
      resolve({ error, closeCode: code });
    });
    socket.on("error", () => {});
  });
}

describe("hostile subscription documents at the gateway (WebSocket)", () => {
  it("distinct ~900 KB documents are refused and leave memory flat after the sockets close", async () => {
    const round = async (from: number) => {
      for (let i = from; i < from + 30; i++) {
        // Token-dense: before the fix each took ~43 MB of AST, kept in the document cache.
        const document = `subscription { invoiceEvents { eventId ${"__typename ".repeat(80_000)}} } # ${i}`;
        expect(document.length).toBeGreaterThan(850_000);
        const { error } = await subscribeOnce(document);
        expect(error?.extensions?.code).toBe("TOO_MANY_TOKENS");
      }
    };
    // Before the fix: about +1.3 GB for 30 of them, still held after every socket closed.
    const before = await gatewayRss();
    await round(0);
    await round(30);
    expect((await gatewayRss()) - before).toBeLessThan(50_000_000);
  });

  it("subscribe messages have the HTTP body limit (GATEWAY_MAX_BODY_BYTES): over it the socket closes with 1009", async () => {
    const padded = (bytes: number) => `subscription { nope } # ${"x".repeat(bytes)}`;
    const httpStatus = async (query: string) =>
      (
        await fetch(`${origin}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query }),
        })
      ).status;
    // 1.5 MB: within the limit on both doors, so the document is read (and found invalid).
    const within = await subscribeOnce(padded(1_500_000));
    expect(within.error?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(await httpStatus(padded(1_500_000))).not.toBe(413);
    // 2.1 MB: over it on both.
    const over = await subscribeOnce(padded(2_100_000));
    expect(over.closeCode).toBe(1009);
    expect(await httpStatus(padded(2_100_000))).toBe(413);
  });
});
