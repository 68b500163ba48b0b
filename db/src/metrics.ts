/**
 * Prometheus metrics (prom-client) for every pshub process: one registry per service, the HTTP
 * series every server records, the database pool, and the hub's state read from its own tables
 * (sync lag, inbox and outbound queues, open exceptions). The GraphQL series are recorded by the
 * kit's Apollo plugin (subgraphs/kit/src/observability.ts) into the same registry.
 *
 * Who may scrape: a caller on loopback, or one sending `Authorization: Bearer <METRICS_TOKEN>`
 * ({@link mayScrape}); anyone else gets 403. The series name no customer data, only operation
 * names, routes, connectors and owners; the token keeps a remote scraper's view of the hub's
 * volume private all the same.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { DbClient, Sql } from "./client.ts";

export { Counter, Gauge, Histogram, Registry };

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface ServiceMetrics {
  service: string;
  registry: Registry;
  /** Records one HTTP request when its response ends; `route` is the matched route or "other". */
  observeHttp(req: IncomingMessage, res: ServerResponse, routes: readonly string[]): void;
  /** GET /metrics: the exposition text, or 403 for a caller that may not scrape. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export interface ServiceMetricsOptions {
  /** Process metrics (CPU, memory, event loop, GC) as `pshub_process_*` / `pshub_nodejs_*`. */
  defaultMetrics?: boolean;
  /** METRICS_TOKEN: a remote scraper's bearer token (loopback callers need none). */
  token?: string;
}

/** One service's registry: every series carries `service="<name>"`. */
export function createServiceMetrics(
  service: string,
  options: ServiceMetricsOptions = {},
): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: "pshub_" });
  const requests = new Counter({
    name: "pshub_http_requests_total",
    help: "HTTP requests by route, method and status code",
    labelNames: ["route", "method", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "pshub_http_request_duration_seconds",
    help: "Time from receiving an HTTP request to the end of its response",
    labelNames: ["route", "method"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return {
    service,
    registry,
    observeHttp(req, res, routes) {
      const started = performance.now();
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const route = routes.includes(path) ? path : "other";
      // A method a client made up must not become a label value of its own.
      const method = /^(GET|POST|HEAD|OPTIONS|PUT|DELETE|PATCH)$/.test(req.method ?? "")
        ? (req.method as string)
        : "other";
      res.once("close", () => {
        requests.inc({ route, method, status: String(res.statusCode) });
        duration.observe({ route, method }, (performance.now() - started) / 1000);
      });
    },
    async serve(req, res) {
      if (!mayScrape(req, options.token)) {
        res.writeHead(403, { "content-type": "text/plain; charset=utf-8" });
        res.end(
          "metrics are served to loopback callers, or with Authorization: Bearer <METRICS_TOKEN>\n",
        );
        return;
      }
      const text = await registry.metrics();
      res.writeHead(200, { "content-type": registry.contentType });
      res.end(text);
    },
  };
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 addresses. */
function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return v4 === "::1" || /^127\.\d+\.\d+\.\d+$/.test(v4);
}

/** The scrape rule: loopback, or the METRICS_TOKEN as a bearer token (compared in constant time). */
export function mayScrape(req: IncomingMessage, token?: string): boolean {
  if (isLoopbackAddress(req.socket.remoteAddress)) return true;
  if (!token) return false;
  const sent = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
  const a = Buffer.from(sent);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The connection pool of one process: its size, the transactions and single statements holding
 * a connection now (above the size, they wait for one), and how long statements outside a
 * transaction take. postgres.js keeps its queues private; these come from the client's own
 * counters (client.ts `stats`).
 */
export function registerDbPoolMetrics(registry: Registry, client: DbClient): void {
  new Gauge({
    name: "pshub_db_pool_max",
    help: "Connections the pool may open",
    registers: [registry],
    collect() {
      this.set(client.stats().max);
    },
  });
  new Gauge({
    name: "pshub_db_pool_in_use",
    help: "Transactions and single statements running or waiting for a connection; above pshub_db_pool_max they wait",
    labelNames: ["kind"] as const,
    registers: [registry],
    collect() {
      const stats = client.stats();
      this.set({ kind: "transaction" }, stats.transactionsInFlight);
      this.set({ kind: "statement" }, stats.statementsInFlight);
    },
  });
  let seen = { statements: 0, errors: 0 };
  const statements = new Counter({
    name: "pshub_db_statements_total",
    help: "Statements and transactions sent, by outcome (error: failed after the client's retries)",
    labelNames: ["outcome"] as const,
    registers: [registry],
    collect() {
      const stats = client.stats();
      statements.inc({ outcome: "ok" }, stats.completed - stats.failed - seen.statements);
      statements.inc({ outcome: "error" }, stats.failed - seen.errors);
      seen = { statements: stats.completed - stats.failed, errors: stats.failed };
    },
  });
}

interface HubState {
  up: number;
  sync: { connector: string; object: string; lag_s: number | null; success_age_s: number | null }[];
  inbox: { source: string; status: string; n: number; oldest_s: number }[];
  outbound: { target: string; state: string; n: number; oldest_s: number }[];
  exceptions: { owner: string; age: string; n: number; overdue: number; oldest_s: number }[];
}

/** Reads the hub's queues and cursors: four small statements, at most once a second. */
function hubStateReader(sql: Sql): () => Promise<HubState> {
  let cached: { at: number; state: Promise<HubState> } | undefined;
  const read = async (): Promise<HubState> => {
    try {
      const [sync, inbox, outbound, exceptions] = await Promise.all([
        sql`select connector, object, (lag_ms / 1000.0)::float8 as lag_s,
                   extract(epoch from now() - last_success_at)::float8 as success_age_s
              from sync_cursor`,
        sql`select source, status::text, count(*)::int as n,
                   coalesce(extract(epoch from now() - min(received_at)), 0)::float8 as oldest_s
              from inbox_event where status in ('RECEIVED', 'FAILED') group by 1, 2`,
        sql`select target::text, state::text, count(*)::int as n,
                   coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as oldest_s
              from outbound_command where state in ('PENDING', 'RUNNING', 'FAILED') group by 1, 2`,
        sql`select owner::text,
                   case when now() - created_at < interval '1 hour' then 'lt_1h'
                        when now() - created_at < interval '1 day' then '1h_1d'
                        when now() - created_at < interval '7 days' then '1d_7d'
                        else 'ge_7d' end as age,
                   count(*)::int as n, count(*) filter (where due_at < now())::int as overdue,
                   extract(epoch from now() - min(created_at))::float8 as oldest_s
              from sync_exception where status in ('OPEN', 'RETRYING') group by 1, 2`,
      ]);
      return {
        up: 1,
        sync: sync as unknown as HubState["sync"],
        inbox: inbox as unknown as HubState["inbox"],
        outbound: outbound as unknown as HubState["outbound"],
        exceptions: exceptions as unknown as HubState["exceptions"],
      };
    } catch {
      // The database is down: pshub_hub_state_up 0, and no stale queue figures.
      return { up: 0, sync: [], inbox: [], outbound: [], exceptions: [] };
    }
  };
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > 1000) cached = { at: now, state: read() };
    return cached.state;
  };
}

/**
 * The hub's state from its own tables, for the process that runs the sync (cdc): sync lag per
 * connector and object, inbox and outbound queue depth and age, open exceptions by owner and
 * age. They describe the database, not the process: with several cdc processes, aggregate with
 * max(), not sum().
 */
export function registerHubStateMetrics(registry: Registry, sql: Sql): void {
  const state = hubStateReader(sql);
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (g: Gauge<L>, s: HubState) => void,
  ) =>
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await state();
        this.reset();
        fill(this, s);
      },
    });
  gauge("pshub_hub_state_up", "1 when the hub's tables could be read at this scrape", [], (g, s) =>
    g.set(s.up),
  );
  gauge(
    "pshub_sync_lag_seconds",
    "How far behind its source a connector's object is (sync_cursor.lag_ms)",
    ["connector", "object"],
    (g, s) => {
      for (const r of s.sync)
        if (r.lag_s !== null) g.set({ connector: r.connector, object: r.object }, Number(r.lag_s));
    },
  );
  gauge(
    "pshub_sync_last_success_age_seconds",
    "Seconds since a connector's object last synced successfully",
    ["connector", "object"],
    (g, s) => {
      for (const r of s.sync)
        if (r.success_age_s !== null)
          g.set({ connector: r.connector, object: r.object }, r.success_age_s);
    },
  );
  gauge(
    "pshub_inbox_events",
    "Inbound changes not yet applied (RECEIVED) or failed, by source",
    ["source", "status"],
    (g, s) => {
      for (const r of s.inbox) g.set({ source: r.source, status: r.status }, r.n);
    },
  );
  gauge(
    "pshub_inbox_oldest_age_seconds",
    "Age of the oldest inbound change in each state, by source",
    ["source", "status"],
    (g, s) => {
      for (const r of s.inbox) g.set({ source: r.source, status: r.status }, r.oldest_s);
    },
  );
  gauge(
    "pshub_outbound_commands",
    "Outbound commands queued (PENDING), running or failed, by target",
    ["target", "state"],
    (g, s) => {
      for (const r of s.outbound) g.set({ target: r.target, state: r.state }, r.n);
    },
  );
  gauge(
    "pshub_outbound_oldest_age_seconds",
    "Age of the oldest outbound command in each state, by target",
    ["target", "state"],
    (g, s) => {
      for (const r of s.outbound) g.set({ target: r.target, state: r.state }, r.oldest_s);
    },
  );
  gauge(
    "pshub_exceptions_open",
    "Open (OPEN or RETRYING) sync exceptions by owner and age (lt_1h, 1h_1d, 1d_7d, ge_7d)",
    ["owner", "age"],
    (g, s) => {
      for (const r of s.exceptions) g.set({ owner: r.owner, age: r.age }, r.n);
    },
  );
  gauge(
    "pshub_exceptions_overdue",
    "Open sync exceptions past their due time, by owner",
    ["owner"],
    (g, s) => {
      const by = new Map<string, number>();
      for (const r of s.exceptions) by.set(r.owner, (by.get(r.owner) ?? 0) + r.overdue);
      for (const [owner, n] of by) g.set({ owner }, n);
    },
  );
  gauge(
    "pshub_exceptions_oldest_open_age_seconds",
    "Age of the oldest open sync exception, by owner",
    ["owner"],
    (g, s) => {
      const by = new Map<string, number>();
      for (const r of s.exceptions) by.set(r.owner, Math.max(by.get(r.owner) ?? 0, r.oldest_s));
      for (const [owner, age] of by) g.set({ owner }, age);
    },
  );
}
