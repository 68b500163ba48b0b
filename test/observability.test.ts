/**
 * Observability across real processes, as `npm start` runs them: the five subgraphs, the gateway
 * and the cdc process (each its own entry, LOG_FORMAT=json, OTLP pointed at a receiver here).
 *
 * - every process's stdout is JSON lines of one schema (time, level, service, msg);
 * - a gateway request's correlation id is on the subgraphs' log lines for it;
 * - every service's /metrics has its named series, and they move (an operation's counter after
 *   a query, events delivered after an event, the hub's queues after rows are added);
 * - one trace id spans the gateway and the subgraphs it called (a real OTLP/HTTP receiver).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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

const SUBGRAPH_NAMES = ["customer", "project", "billing", "invoice", "ops"] as const;
type ServiceName = (typeof SUBGRAPH_NAMES)[number] | "gateway" | "cdc";

interface Service {
  name: ServiceName;
  port: number;
  child: Child;
  /** Every stdout line since the start (spawnTs keeps only the tail). */
  lines: string[];
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: { stringValue?: string; intValue?: string } }[];
}

let database: TestDatabase;
let tree: CustomerTree;
let receiver: Server;
/** Spans received, with the service.name of their resource. */
const spans: (OtlpSpan & { service: string })[] = [];
const services: Service[] = [];
let client: Client | undefined;

function service(name: ServiceName): Service {
  const found = services.find((s) => s.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
}

/** An OTLP/HTTP JSON trace receiver (what the exporter of @opentelemetry/exporter-trace-otlp-http sends). */
async function startReceiver(): Promise<string> {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.url === "/v1/traces") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: { spans: OtlpSpan[] }[];
          }[];
        };
        for (const rs of body.resourceSpans) {
          const name =
            rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
          for (const ss of rs.scopeSpans)
            for (const span of ss.spans) spans.push({ ...span, service: name });
        }
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}

function start(name: ServiceName, entry: string, port: number, env: Record<string, string>) {
  const child = spawnTs(name, entry, { ...env, PORT: String(port) });
  const lines: string[] = [];
  let partial = "";
  child.process.stdout?.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString("utf8");
    const parts = text.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts.filter((line) => line.length > 0));
  });
  services.push({ name, port, child, lines });
}

async function scrape(name: ServiceName): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${service(name).port}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** The value of the first series line matching every label given (undefined when absent). */
function value(
  text: string,
  metric: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

/** PromQL words that are not metric names (aggregations, functions, modifiers). */
const PROMQL_WORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
]);

/**
 * The metric names a PromQL expression reads: label matchers, strings, ranges and by/without
 * lists removed; then every identifier that is not a function call (followed by "(") or a word.
 */
function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, "");
  const names = new Set<string>();
  for (const m of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    if (m[2] || PROMQL_WORDS.has(m[1]!)) continue;
    names.add(m[1]!);
  }
  return [...names];
}

/** The series names a /metrics text declares (# TYPE), histograms with their _bucket/_sum/_count. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === "histogram" || m[2] === "summary")
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${m[1]}${suffix}`);
  }
  return names;
}

beforeAll(async () => {
  database = await createTestDatabase();
  tree = await buildCustomerTree(database.db, { invoices: 3, name: "Fabrikam Obs" });
  const otlp = await startReceiver();
  const ports = Object.fromEntries(
    await Promise.all(
      [...SUBGRAPH_NAMES, "gateway", "cdc"].map(async (name) => [name, await freePort()]),
    ),
  ) as Record<ServiceName, number>;
  const common = {
    DATABASE_URL: database.url,
    LOG_FORMAT: "json",
    LOG_LEVEL: "debug",
    NODE_ENV: "test",
    GATEWAY_SUBGRAPH_SECRET: randomBytes(32).toString("base64url"),
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
    OTEL_BSP_SCHEDULE_DELAY: "200",
    DB_POOL_MAX: "3",
  };
  for (const name of SUBGRAPH_NAMES)
    start(name, `subgraphs/${name}/src/main.ts`, ports[name], common);
  start("cdc", "cdc/main.ts", ports.cdc, { ...common, CDC_SANDBOX_ACTIVITY_MS: "0" });
  await Promise.all(
    services.map((s) => waitUntil(s.child, httpOk(`http://127.0.0.1:${s.port}/healthz`), 120_000)),
  );
  start("gateway", "gateway/src/main.ts", ports.gateway, {
    ...common,
    ...Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [
        `SUBGRAPH_${name.toUpperCase()}_URL`,
        `http://127.0.0.1:${ports[name]}/graphql`,
      ]),
    ),
  });
  await waitUntil(
    service("gateway").child,
    httpOk(`http://127.0.0.1:${ports.gateway}/healthz`),
    120_000,
  );
}, 300_000);

afterAll(async () => {
  await client?.dispose();
  await Promise.all(services.map((s) => s.child.stop()));
  await new Promise((resolve) => receiver?.close(resolve));
  await database?.drop();
});

const gatewayUrl = () => `http://127.0.0.1:${service("gateway").port}/graphql`;

async function gatewayQuery(
  query: string,
  correlationId: string,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(gatewayUrl(), {
    method: "POST",
    // Development mode: a caller without roles is a read-only analyst; the mutation needs finance.
    headers: {
      "content-type": "application/json",
      "x-correlation-id": correlationId,
      "x-pshub-principal": "obs@firm.test",
      "x-pshub-roles": "finance",
    },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: await response.json() };
}

const INVOICES = /* GraphQL */ `
  query ObsInvoices { invoices(first: 3) { totalCount nodes { number customer { name currency } } } }
`;

describe("observability across the processes", () => {
  it("every process writes JSON lines of one schema", () => {
    for (const s of services) {
      expect(s.lines.length, s.name).toBeGreaterThan(0);
      for (const line of s.lines) {
        const record = JSON.parse(line) as Record<string, unknown>;
        expect(typeof record.time, line).toBe("string");
        expect(Number.isNaN(Date.parse(record.time as string)), line).toBe(false);
        expect(["trace", "debug", "info", "warn", "error", "fatal"], line).toContain(record.level);
        expect(record.service, line).toBe(s.name);
        expect(typeof record.msg, line).toBe("string");
      }
    }
  });

  it("a gateway request's correlation id is on the subgraphs' log lines, and its counters move", async () => {
    const before = {
      gateway: await scrape("gateway"),
      invoice: await scrape("invoice"),
      customer: await scrape("customer"),
    };
    const correlationId = randomUUID();
    const { status, body } = await gatewayQuery(INVOICES, correlationId);
    expect(status).toBe(200);
    expect(body).toMatchObject({ data: { invoices: { totalCount: 3 } } });

    // The subgraphs the plan called logged the request under the client's correlation id.
    const tagged = (name: ServiceName) =>
      service(name)
        .lines.map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((record) => record.correlationId === correlationId);
    await expect.poll(() => tagged("invoice").length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => tagged("customer").length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => tagged("gateway").length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(tagged("invoice")[0]).toMatchObject({ service: "invoice", operationType: "query" });
    expect(tagged("gateway")[0]).toMatchObject({ operationName: "ObsInvoices", outcome: "ok" });

    const after = {
      gateway: await scrape("gateway"),
      invoice: await scrape("invoice"),
      customer: await scrape("customer"),
    };
    const ops = (text: string, labels: Record<string, string>) =>
      value(text, "pshub_graphql_operations_total", labels) ?? 0;
    const named = { operation_name: "ObsInvoices", operation_type: "query", outcome: "ok" };
    expect(ops(after.gateway, named) - ops(before.gateway, named)).toBe(1);
    // The gateway names its subgraph operations after the client's (ObsInvoices__invoice__0).
    const sub = (text: string, name: string) =>
      text
        .split("\n")
        .filter(
          (l) =>
            l.startsWith("pshub_graphql_operations_total{") &&
            l.includes(`operation_name="ObsInvoices__${name}__`),
        )
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
    expect(sub(after.invoice, "invoice") - sub(before.invoice, "invoice")).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      sub(after.customer, "customer") - sub(before.customer, "customer"),
    ).toBeGreaterThanOrEqual(1);
    const posts = (text: string) =>
      value(text, "pshub_http_requests_total", {
        route: "/graphql",
        method: "POST",
        status: "200",
      }) ?? 0;
    expect(posts(after.gateway) - posts(before.gateway)).toBe(1);
    expect(posts(after.invoice) - posts(before.invoice)).toBeGreaterThanOrEqual(1);
    const statements = (text: string) =>
      value(text, "pshub_db_statements_total", { outcome: "ok" }) ?? 0;
    expect(statements(after.invoice)).toBeGreaterThan(statements(before.invoice));

    // A client's mistake is counted by its code.
    await gatewayQuery("query ObsBroken { invoices(first: 1) { noSuchField } }", randomUUID());
    const rejected = await scrape("gateway");
    expect(
      value(rejected, "pshub_graphql_errors_total", {
        operation_name: "ObsBroken",
        code: "GRAPHQL_VALIDATION_FAILED",
      }),
    ).toBe(1);
  });

  it("a mutation's request id is on its log lines, its domain events (causation_id) and its audit row", async () => {
    const correlationId = randomUUID();
    const { status, body } = await gatewayQuery(
      `mutation ObsDispute { disputeInvoice(invoiceId: "${tree.invoiceIds[2]}", reason: "obs") { invoice { status } } }`,
      correlationId,
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({ data: { disputeInvoice: { invoice: { status: "DISPUTED" } } } });
    const line = () =>
      service("invoice")
        .lines.map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((r) => r.correlationId === correlationId && r.operationType === "mutation");
    await expect.poll(() => line() !== undefined, { timeout: 10_000 }).toBe(true);
    expect(line()).toMatchObject({ level: "info", service: "invoice", outcome: "ok" });
    const events = await database.sql<{ type: string }[]>`
      select type from domain_event where causation_id = ${correlationId}`;
    expect(events.map((e) => e.type)).toContain("invoice.status_changed");
    const audit = await database.sql<{ operation: string }[]>`
      select operation from audit_log where request_id = ${correlationId}`;
    expect(audit.map((a) => a.operation)).toEqual(["disputeInvoice"]);
  });

  it("every service serves its named series on /metrics", async () => {
    const everywhere = [
      "pshub_http_requests_total",
      "pshub_http_request_duration_seconds_bucket",
      "pshub_db_pool_max",
      "pshub_db_pool_in_use",
      "pshub_db_statements_total",
      "pshub_process_resident_memory_bytes",
      "pshub_nodejs_eventloop_lag_seconds",
    ];
    const graphql = [
      "pshub_graphql_operations_total",
      "pshub_graphql_operation_duration_seconds",
      "pshub_graphql_errors_total",
    ];
    for (const s of services) {
      const text = await scrape(s.name);
      // A labelled series shows once it has a value; its TYPE line is there from the start.
      if (s.name !== "cdc")
        for (const metric of graphql)
          expect(text, `${s.name} ${metric}`).toContain(`# TYPE ${metric} `);
      for (const metric of everywhere)
        expect(text, `${s.name} ${metric}`).toMatch(new RegExp(`^${metric}[{ ]`, "m"));
      expect(text).toContain(`service="${s.name}"`);
    }
    const gateway = await scrape("gateway");
    for (const metric of [
      "pshub_subscriptions_active",
      "pshub_subscription_connections",
      "pshub_subscription_events_delivered_total",
      "pshub_outbox_frontier_event_id",
    ])
      expect(gateway, metric).toMatch(new RegExp(`^${metric}[{ ]`, "m"));
  });

  it("the Grafana dashboard (grafana/pshub-dashboard.json) names only series the services export", async () => {
    const dashboard = JSON.parse(
      readFileSync(new URL("../grafana/pshub-dashboard.json", import.meta.url), "utf8"),
    ) as { panels: { type: string; title: string; targets?: { expr: string }[] }[] };
    // The extractor itself: a name no service exports is found, so a wrong panel would fail.
    expect(
      metricNamesOf(
        'histogram_quantile(0.95, sum by (le) (rate(pshub_nope_seconds_bucket{a="b"}[5m])))',
      ),
    ).toEqual(["pshub_nope_seconds_bucket"]);
    const exported = new Set<string>();
    for (const s of services)
      for (const name of exportedNames(await scrape(s.name))) exported.add(name);
    expect(exported.has("pshub_nope_seconds_bucket")).toBe(false);
    const panels = dashboard.panels.filter((p) => p.type !== "row");
    expect(panels.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const panel of panels) {
      const names = (panel.targets ?? []).flatMap((t) => metricNamesOf(t.expr));
      if (names.length === 0) missing.push(`${panel.title}: names no metric`);
      for (const name of names) if (!exported.has(name)) missing.push(`${panel.title}: ${name}`);
    }
    expect(missing).toEqual([]);
  });

  it("the cdc process reports sync lag, the inbox and outbound queues and open exceptions from the hub's tables", async () => {
    const sql = database.sql;
    await sql`insert into sync_cursor (connector, object, lag_ms, last_success_at)
              values ('obs-test', 'Thing', 12500, now() - interval '30 seconds')`;
    await sql`insert into inbox_event (source, dedupe_key, object, payload, status, received_at)
              values ('obs-test', ${randomUUID()}, 'Thing', '{}', 'FAILED', now() - interval '2 minutes')`;
    await sql`insert into outbound_command (target, kind, idempotency_key, entity_type, entity_id, created_at)
              values ('ERP', 'obs.test', ${randomUUID()}, 'invoice', ${tree.invoiceIds[0]!}, now() - interval '5 minutes')`;
    for (const [created, due] of [
      ["2 hours", "1 hour"],
      ["1 minute", "-1 day"],
    ] as const)
      await sql`insert into sync_exception (owner, code, message, remediation, due_at, created_at)
                values ('FINANCE', 'OBS_TEST', 'test', 'none', now() - ${due}::interval,
                        now() - ${created}::interval)`;
    // The figures are read at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const text = await scrape("cdc");
    expect(value(text, "pshub_hub_state_up")).toBe(1);
    expect(value(text, "pshub_sync_lag_seconds", { connector: "obs-test", object: "Thing" })).toBe(
      12.5,
    );
    expect(
      value(text, "pshub_sync_last_success_age_seconds", {
        connector: "obs-test",
        object: "Thing",
      }),
    ).toBeGreaterThanOrEqual(30);
    expect(value(text, "pshub_inbox_events", { source: "obs-test", status: "FAILED" })).toBe(1);
    expect(
      value(text, "pshub_inbox_oldest_age_seconds", { source: "obs-test", status: "FAILED" }),
    ).toBeGreaterThanOrEqual(120);
    expect(value(text, "pshub_outbound_commands", { target: "ERP", state: "PENDING" })).toBe(1);
    expect(
      value(text, "pshub_outbound_oldest_age_seconds", { target: "ERP", state: "PENDING" }),
    ).toBeGreaterThanOrEqual(300);
    expect(value(text, "pshub_exceptions_open", { owner: "FINANCE", age: "1h_1d" })).toBe(1);
    expect(value(text, "pshub_exceptions_open", { owner: "FINANCE", age: "lt_1h" })).toBe(1);
    expect(value(text, "pshub_exceptions_overdue", { owner: "FINANCE" })).toBe(1);
    expect(
      value(text, "pshub_exceptions_oldest_open_age_seconds", { owner: "FINANCE" }),
    ).toBeGreaterThanOrEqual(7200);
  });

  it("counts active subscriptions and the events delivered to them", async () => {
    const before = value(await scrape("gateway"), "pshub_subscription_events_delivered_total") ?? 0;
    const received: string[] = [];
    client = createClient({
      url: `ws://127.0.0.1:${service("gateway").port}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    client.subscribe(
      {
        query: `subscription($customerId: ID) { invoiceStatusChanged(customerId: $customerId) { eventId status } }`,
        variables: { customerId: tree.customerId },
      },
      {
        next: (result) => {
          const event = (result.data as { invoiceStatusChanged?: { eventId: string } } | undefined)
            ?.invoiceStatusChanged;
          if (event) received.push(event.eventId);
        },
        error: () => {},
        complete: () => {},
      },
    );
    await expect
      .poll(async () => value(await scrape("gateway"), "pshub_subscriptions_active"), {
        timeout: 10_000,
      })
      .toBe(1);
    await execute(
      database.db,
      operations.disputeInvoice,
      { actor: "obs-test" },
      {
        invoiceId: tree.invoiceIds[1]!,
        reason: "metrics",
      },
    );
    await expect.poll(() => received.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    const after = value(await scrape("gateway"), "pshub_subscription_events_delivered_total") ?? 0;
    expect(after - before).toBe(received.length);
  });

  it("one trace spans the gateway and the subgraphs it called (OTLP)", async () => {
    const correlationId = randomUUID();
    expect((await gatewayQuery(INVOICES, correlationId)).status).toBe(200);
    const attribute = (span: OtlpSpan, key: string) =>
      span.attributes?.find((a) => a.key === key)?.value.stringValue;
    const root = () =>
      spans.find(
        (s) =>
          s.service === "pshub-gateway" && attribute(s, "pshub.correlation_id") === correlationId,
      );
    await expect.poll(() => root() !== undefined, { timeout: 20_000 }).toBe(true);
    const traceId = root()!.traceId;
    expect(attribute(root()!, "graphql.operation.name")).toBe("ObsInvoices");
    const inTrace = () => spans.filter((s) => s.traceId === traceId);
    await expect
      .poll(() => new Set(inTrace().map((s) => s.service)), { timeout: 20_000 })
      .toEqual(new Set(["pshub-gateway", "pshub-invoice", "pshub-customer"]));
    // The subgraph's server span is a child of a gateway span (Apollo's gateway.fetch).
    const gatewayIds = new Set(
      inTrace()
        .filter((s) => s.service === "pshub-gateway")
        .map((s) => s.spanId),
    );
    const invoiceServer = inTrace().find(
      (s) => s.service === "pshub-invoice" && s.name === "invoice POST /graphql",
    );
    expect(invoiceServer).toBeDefined();
    expect(gatewayIds.has(invoiceServer!.parentSpanId ?? "")).toBe(true);
    expect(inTrace().some((s) => s.name === "gateway.fetch")).toBe(true);
    expect(inTrace().some((s) => s.service === "pshub-invoice" && s.name.startsWith("db."))).toBe(
      true,
    );
  });
});
