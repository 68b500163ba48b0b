/**
 * `npm run bench -- subscriptions [--runs 100:1,1000:1,5000:1,10000:1,1000:10,1000:100,10000:1:40]
 *   [--rate 10] [--duration 5] [--windows 5] [--client-processes 4] [--client raw|ws] [--quick]
 *   [--no-record]`
 *
 * A run `N:D` (or `N:D:R`, at R events/s instead of --rate; `N:D:R:ws`, with that client instead
 * of --client; `N:D:R:turn500`, on a gateway that writes 500 sockets per
 * event-loop turn, see useGateway: A/Bs in one run) is N subscribers spread over D distinct (selection, scope) pairs: D = 1 is every
 * subscriber with the same selection and no customer filter (the best case for sharing); with
 * D = 10 or 100 each pair has its own field selection (a different subset of event, invoice and
 * customer fields) and half of them are narrowed to one of 10 customers (events are spread over
 * those customers' invoices), so the gateway has D different documents to resolve per event.
 * Each run measures `windows` windows of `duration` s on the same connections (median and min–max
 * over the windows).
 *
 * One gateway process (gateway/src/main.ts, subscriptions attached) over the four subgraph
 * processes and a fresh seeded database; N graphql-ws clients spread over up to 4 client processes
 * (this file, `--role clients`; at most one per 500 subscribers), so the bench measures the
 * gateway rather than its own client; all subscribed to the same invoiceStatusChanged selection across subgraphs
 * (invoice number, total, customer name). Events are driven at a fixed rate by lifecycle
 * mutations (disputeInvoice / resolveDispute, the operations the GraphQL mutations run),
 * committed by this process; each commit time is taken when its COMMIT returns.
 *
 * Reported per N: commit-to-client latency p50 / p99 / max over every delivery, deliveries per
 * second, deliveries missing, gateway CPU (% of one core) and RSS during the driven window, and
 * federated fetches per event (the gateway's own `pshub_graphql_operations_total{operation_type="query"}`
 * delta: the entity queries it ran; mutations do not go through it). Also per window, to tell
 * who is the limit: the clients' error and close codes and their busiest event loop, the gateway's
 * main thread running or waiting for a CPU (/proc schedstat: near 100 % it is saturated), its own
 * count of messages sent per CPU second (the saturation run, `10000:1:40`, asks for more than it
 * can send, so that figure is measured at saturation, not extrapolated), the subscriptions it
 * ended as lagging. Appends to RESULTS.md.
 */
import { type ChildProcess, fork } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    role: { type: "string", default: "driver" },
    runs: { type: "string", default: "100:1,1000:1,5000:1,10000:1,1000:10,1000:100,10000:1:40" },
    rate: { type: "string", default: "10" },
    duration: { type: "string", default: "5" },
    windows: { type: "string", default: "5" },
    /** Client processes the subscribers are spread over (at most one per 500 subscribers). */
    "client-processes": { type: "string", default: "4" },
    /** The clients' WebSocket implementation: raw (bench/support/raw-ws.ts) or ws (see runClients). */
    client: { type: "string", default: "raw" },
    /** Small runs (100:1, 1000:10), 2 s windows: a smoke run. */
    quick: { type: "boolean", default: false },
    "no-record": { type: "boolean", default: false },
  },
  allowPositionals: true,
});

const now = () => performance.timeOrigin + performance.now();

// =============================================================================== client processes
type ToClients =
  | {
      cmd: "connect";
      url: string;
      /** The subscribers this process holds: subscriber j subscribes with pairs[j mod pairs.length]. */
      subscribers: number[];
      pairs: { query: string; customerId: string | null }[];
      /** The client implementation (see runClients). */
      client: Client;
    }
  | { cmd: "counts" }
  | { cmd: "reset" }
  | { cmd: "progress"; commits: Record<string, { at: number; customerId: string }> }
  | { cmd: "report"; commits: Record<string, { at: number; customerId: string }> }
  | { cmd: "close" };

type Client = "raw" | "ws";
/** The gateway's fan-out: its default (""), or N sockets per write turn ("turn500", see useGateway). */
type Turn = string;

/** What one client process saw in a window. */
interface ClientReport {
  delivered: number;
  expected: number;
  latencies: number[];
  /** Error messages and results with errors, by extensions.code. */
  errorCodes: Record<string, number>;
  /** Sockets closed by the gateway, by close code. */
  closeCodes: Record<string, number>;
  /** Event-loop utilisation of this client process over the window (1 = saturated). */
  elu: number;
  /** CPU (user + system) this client process used over the window, ms. */
  cpuMs: number;
  /** This client process's event-loop delay over the window, p99, ms: its own queueing. */
  loopDelayP99Ms: number;
  /** Per event id: its first receipt here (ms since the epoch). */
  first: Record<string, number>;
}

async function runClients() {
  // Raw graphql-transport-ws, reading only the eventId from the frame's bytes: the clients should
  // cost as little as possible, since they share the machine with the gateway. `raw` (the
  // default): bench/support/raw-ws.ts, frames read straight off the TCP socket into one shared
  // buffer; `ws`: the `ws` package's client with its defaults (per message: a stream chunk, ws's
  // Receiver, UTF-8 validation, a 'message' event), as every run before 2026-12-01 20:30 used.
  const { default: WebSocket } = await import("ws");
  const { openRawWebSocket } = await import("./support/raw-ws.ts");
  const sockets: { close(code: number): void }[] = [];
  let arrivals = new Map<string, number[]>();
  let perClient: number[] = [];
  /** Per subscriber: its subscribe went out (connection acknowledged); only those are expected. */
  let subscribed: boolean[] = [];
  let errorCodes: Record<string, number> = {};
  let closeCodes: Record<string, number> = {};
  let closing = false;
  let eluStart = performance.eventLoopUtilization();
  let cpuStart = process.cpuUsage();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  // Subscribers without a customer filter, and per customer those narrowed to it.
  let everyone = 0;
  let perCustomer = new Map<string, number>();
  const send = (message: unknown) => process.send?.(message);
  const EVENT_ID = Buffer.from('"eventId":"');
  const ERRORS = Buffer.from('"errors"');
  const CODE = /"code":"([A-Z_]+)"/;
  const countError = (data: Buffer) => {
    const code = CODE.exec(data.toString())?.[1] ?? "NO_CODE";
    errorCodes[code] = (errorCodes[code] ?? 0) + 1;
  };
  const expectedFor = (commits: Record<string, { at: number; customerId: string }>) => {
    let expected = 0;
    for (const { customerId } of Object.values(commits))
      expected += everyone + (perCustomer.get(customerId) ?? 0);
    return expected;
  };

  process.on("message", async (message: ToClients) => {
    if (message.cmd === "connect") {
      const n = message.subscribers.length;
      perClient = new Array(n).fill(0);
      subscribed = new Array(n).fill(false);
      const subscribes = message.pairs.map((pair) =>
        JSON.stringify({
          id: "1",
          type: "subscribe",
          payload: { query: pair.query, variables: { customerId: pair.customerId } },
        }),
      );
      everyone = 0;
      perCustomer = new Map();
      for (let i = 0; i < n; i += 250) {
        const batch = [];
        for (let k = i; k < Math.min(n, i + 250); k++) {
          const j = message.subscribers[k] ?? 0;
          const subscribe = subscribes[j % subscribes.length] ?? "";
          batch.push(
            new Promise<void>((resolve) => {
              let socket: { send(text: string): void; close(code: number): void };
              const opened = () => socket.send('{"type":"connection_init","payload":{}}');
              const failed = () => {
                errorCodes.SOCKET_ERROR = (errorCodes.SOCKET_ERROR ?? 0) + 1;
                resolve();
              };
              const closed = (code: number) => {
                if (!closing) closeCodes[code] = (closeCodes[code] ?? 0) + 1;
                resolve();
              };
              /** One text message, data[start, end), read at `at`. */
              const received = (whole: Buffer, start: number, end: number, at: number) => {
                const data =
                  start === 0 && end === whole.length ? whole : whole.subarray(start, end);
                const eventAt = data.indexOf(EVENT_ID);
                if (eventAt < 0) {
                  const text = data.toString();
                  if (text.startsWith('{"type":"connection_ack"')) {
                    socket.send(subscribe);
                    // Expected from now on: a subscriber that never connects is not "missing".
                    subscribed[k] = true;
                    const scope = message.pairs[j % message.pairs.length]?.customerId ?? null;
                    if (scope === null) everyone++;
                    else perCustomer.set(scope, (perCustomer.get(scope) ?? 0) + 1);
                    resolve();
                  } else if (text.includes('"type":"ping"')) socket.send('{"type":"pong"}');
                  else if (text.includes('"type":"complete"'))
                    errorCodes.COMPLETE = (errorCodes.COMPLETE ?? 0) + 1;
                  else if (text.includes('"type":"error"') || text.includes('"errors"'))
                    countError(data);
                  return;
                }
                if (data.indexOf(ERRORS) >= 0) countError(data);
                const from = eventAt + EVENT_ID.length;
                const id = data.toString("latin1", from, data.indexOf(34, from));
                perClient[k] = (perClient[k] ?? 0) + 1;
                let list = arrivals.get(id);
                if (!list) {
                  list = [];
                  arrivals.set(id, list);
                }
                list.push(at);
              };
              if (message.client === "ws") {
                const ws = new WebSocket(message.url, "graphql-transport-ws");
                socket = ws;
                ws.on("open", opened);
                ws.on("error", failed);
                ws.on("close", closed);
                ws.on("message", (data: Buffer) => received(data, 0, data.length, now()));
              } else {
                socket = openRawWebSocket(
                  message.url,
                  "graphql-transport-ws",
                  { open: opened, message: received, close: closed, error: failed },
                  now,
                );
              }
              sockets.push(socket);
            }),
          );
        }
        await Promise.all(batch);
      }
      send({ connected: subscribed.filter(Boolean).length });
    } else if (message.cmd === "counts") {
      let min = Number.POSITIVE_INFINITY;
      perClient.forEach((count, k) => {
        if (subscribed[k]) min = Math.min(min, count);
      });
      send({ min: Number.isFinite(min) ? min : 0 });
    } else if (message.cmd === "reset") {
      arrivals = new Map();
      perClient = perClient.map(() => 0);
      errorCodes = {};
      closeCodes = {};
      eluStart = performance.eventLoopUtilization();
      cpuStart = process.cpuUsage();
      loopDelay.reset();
      send({ ok: true });
    } else if (message.cmd === "progress") {
      let delivered = 0;
      for (const id of Object.keys(message.commits)) delivered += arrivals.get(id)?.length ?? 0;
      send({ delivered, expected: expectedFor(message.commits) });
    } else if (message.cmd === "report") {
      const latencies: number[] = [];
      const first: Record<string, number> = {};
      for (const [id, { at: committedAt }] of Object.entries(message.commits)) {
        const list = arrivals.get(id) ?? [];
        for (const at of list) latencies.push(at - committedAt);
        if (list[0] !== undefined) first[id] = list[0];
      }
      const cpu = process.cpuUsage(cpuStart);
      const report: ClientReport = {
        delivered: latencies.length,
        expected: expectedFor(message.commits),
        latencies,
        errorCodes,
        closeCodes,
        elu: performance.eventLoopUtilization(eluStart).utilization,
        cpuMs: (cpu.user + cpu.system) / 1000,
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
        first,
      };
      send(report);
    } else if (message.cmd === "close") {
      closing = true;
      for (const socket of sockets) socket.close(1000);
      send({ closed: true });
      process.exit(0);
    }
  });
  send({ up: true });
}

// =============================================================================== driver
/**
 * The i-th distinct selection: eventId, then the subset of eight optional fields given by the
 * bits of (37 i + 11) mod 255 + 1 (a bijection on 0…254, so every i below 255 gives a different
 * document, and small i already mix event, invoice and customer fields).
 */
function selection(i: number): string {
  const top = ["type", "occurredAt", "previousStatus", "status"];
  const invoice = ["number", "total { amount currency }", "dueOn", "customer { name }"];
  const bits = ((37 * i + 11) % 255) + 1;
  const fields = top.filter((_, b) => bits & (1 << b));
  const invoiceFields = invoice.filter((_, b) => bits & (1 << (b + top.length)));
  const invoicePart = invoiceFields.length ? ` invoice { ${invoiceFields.join(" ")} }` : "";
  return `subscription Bench${i}($customerId: ID) {
  invoiceStatusChanged(customerId: $customerId) { eventId ${fields.join(" ")}${invoicePart} }
}`;
}

/** The default single selection: status change, invoice number and total, customer name. */
const FULL = `subscription Bench($customerId: ID) {
  invoiceStatusChanged(customerId: $customerId) {
    eventId previousStatus status invoice { number total { amount currency } customer { name } }
  }
}`;

async function runDriver() {
  const { createDbClient, createLogger, recreateDatabase, resolveDatabaseUrl } = await import(
    "@pshub/db"
  );
  const { SUBGRAPHS } = await import("@pshub/gateway");
  const { buildCustomerTree } = await import("@pshub/db/testing");
  const { execute, operations } = await import("@pshub/db");
  const { freePort, httpOk, REPO_ROOT, spawnTs, waitUntil } = await import(
    "./support/processes.ts"
  );
  const { median, spread } = await import("./support/stats.ts");
  type Child = Awaited<ReturnType<typeof spawnTs>>;

  const defaultRate = Number(args.rate);
  const clientOf = (name: string | undefined): Client => {
    if (name === "raw" || name === "ws") return name;
    throw new Error(`--client is raw or ws, got ${name}`);
  };
  const defaultClient = clientOf(args.client);
  const runs = (args.quick ? "100:1,1000:10" : String(args.runs)).split(",").map((run) => {
    const [n, d, r, ...rest] = run.split(":");
    const c = rest.find((token) => !token.startsWith("turn"));
    return {
      n: Number(n ?? 0),
      distinct: Number(d ?? 1),
      rate: r ? Number(r) : defaultRate,
      client: c ? clientOf(c) : defaultClient,
      turn: rest.find((token) => /^turn\d+$/.test(token)) ?? "",
    };
  });
  const duration = args.quick ? 2 : Number(args.duration);
  const windows = Math.max(1, Number(args.windows));
  const clientProcesses = Math.max(1, Number(args["client-processes"]));
  const log = createLogger("bench-subscriptions");
  const children: Child[] = [];
  let clientsProcesses: ChildProcess[] = [];
  const stopAll = async () => {
    for (const proc of clientsProcesses) proc.kill("SIGKILL");
    // A profiled gateway writes its profile on exit: give it time.
    const grace = process.env.BENCH_GATEWAY_NODE_ARGS ? 120_000 : 5000;
    await Promise.all(children.map((c) => c.stop(grace)));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.on(signal, () => void stopAll().finally(() => process.exit(130)));
  const loads: number[] = [];
  const sampleLoad = () => {
    const value = loadavg()[0] ?? Number.NaN;
    loads.push(value);
    return value;
  };

  try {
    sampleLoad();
    // ------------------------------------------------------------ database: fresh and seeded
    const server = await resolveDatabaseUrl(log);
    const databaseUrl = await recreateDatabase(server.url, "pshub_bench_subscriptions");
    const db = createDbClient(databaseUrl, { max: 4 });
    const trees: Awaited<ReturnType<typeof buildCustomerTree>>[] = [];
    for (let i = 0; i < 10; i++) {
      trees.push(
        await buildCustomerTree(db.db, { invoices: 12, linesPerInvoice: 2, name: `Live ${i + 1}` }),
      );
    }

    // ------------------------------------------------------------ subgraphs and the gateway
    const subgraphEnv: Record<string, string> = {};
    const health: Promise<void>[] = [];
    for (const subgraph of SUBGRAPHS) {
      const port = await freePort();
      subgraphEnv[subgraph.urlEnv] = `http://127.0.0.1:${port}/graphql`;
      const child = spawnTs(`subgraph-${subgraph.name}`, `subgraphs/${subgraph.name}/src/main.ts`, {
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: databaseUrl,
      });
      children.push(child);
      health.push(waitUntil(child, httpOk(`http://127.0.0.1:${port}/healthz`)));
    }
    await Promise.all(health);
    /**
     * The gateway a row measures, started when a row first asks for it: the default one, or
     * (`turnN` in the row) one with GATEWAY_SUBSCRIPTION_WRITE_TURN=N, N sockets written per turn
     * of the event loop while the next batch is read and resolved (the default, 0, writes a whole
     * batch per turn), so the two compare in one run. All run over the same database and subgraphs.
     */
    const gateways = new Map<Turn, { pid: number; port: number }>();
    let gatewayPid = 0;
    let gatewayPort = 0;
    let wsUrl = "";
    const useGateway = async (turn: Turn) => {
      let started = gateways.get(turn);
      if (!started) {
        const port = await freePort();
        const gateway = spawnTs(
          turn ? `gateway-${turn}` : "gateway",
          "gateway/src/main.ts",
          {
            PORT: String(port),
            HOST: "127.0.0.1",
            DATABASE_URL: databaseUrl,
            ...subgraphEnv,
            ...(turn ? { GATEWAY_SUBSCRIPTION_WRITE_TURN: turn.slice("turn".length) } : {}),
          },
          // e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the gateway.
          process.env.BENCH_GATEWAY_NODE_ARGS?.split(" ").filter(Boolean) ?? [],
        );
        children.push(gateway);
        await waitUntil(gateway, httpOk(`http://127.0.0.1:${port}/healthz`));
        started = { pid: gateway.process.pid ?? 0, port };
        gateways.set(turn, started);
      }
      gatewayPid = started.pid;
      gatewayPort = started.port;
      wsUrl = `ws://127.0.0.1:${started.port}/graphql`;
    };

    const procStat = () => {
      const stat = readFileSync(`/proc/${gatewayPid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
      const status = readFileSync(`/proc/${gatewayPid}/status`, "utf8");
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      // The main (JavaScript) thread's time on a CPU and waiting for one, in ns: run + wait near
      // the window's length means the gateway's event loop was never idle (saturated), whatever
      // share of a core the machine's load left it.
      const [runNs, waitNs] = readFileSync(`/proc/${gatewayPid}/schedstat`, "utf8")
        .split(" ")
        .map(Number);
      return {
        cpuMs: ticks * 10,
        rssMb: rssKb / 1024,
        runMs: (runNs ?? 0) / 1e6,
        waitMs: (waitNs ?? 0) / 1e6,
      };
    };
    /** The whole machine's CPU time, busy and in all (/proc/stat, in ticks). */
    const machineCpu = () => {
      const fields = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "")
        .trim()
        .split(/\s+/)
        .slice(1, 9)
        .map(Number);
      const total = fields.reduce((a, v) => a + v, 0);
      const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
      return { busy: total - idle, total };
    };
    /** The gateway's fan-out histogram (pshub_subscription_fanout_seconds) for one phase. */
    const fanoutHistogram = (text: string, phase: string) => {
      const buckets: { le: number; count: number }[] = [];
      let sum = 0;
      let count = 0;
      for (const line of text.split("\n")) {
        if (
          !line.startsWith("pshub_subscription_fanout_seconds") ||
          !line.includes(`phase="${phase}"`)
        )
          continue;
        const value = Number(line.split(" ").at(-1));
        if (line.startsWith("pshub_subscription_fanout_seconds_bucket")) {
          const le = /le="([^"]+)"/.exec(line)?.[1] ?? "+Inf";
          buckets.push({ le: le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le), count: value });
        } else if (line.startsWith("pshub_subscription_fanout_seconds_sum")) sum = value;
        else if (line.startsWith("pshub_subscription_fanout_seconds_count")) count = value;
      }
      return { buckets, sum, count };
    };
    type Fanout = ReturnType<typeof fanoutHistogram>;
    /** Mean ms per batch and the bucket bound (ms) the 99th batch fell under, between two reads. */
    const fanoutBetween = (a: Fanout, b: Fanout) => {
      const count = b.count - a.count;
      const mean = count > 0 ? ((b.sum - a.sum) / count) * 1000 : Number.NaN;
      let p99 = Number.NaN;
      for (const bucket of b.buckets) {
        const before = a.buckets.find((x) => x.le === bucket.le)?.count ?? 0;
        if (bucket.count - before >= 0.99 * count) {
          p99 = bucket.le * 1000;
          break;
        }
      }
      return { mean, p99 };
    };
    const entityQueries = async () => {
      const text = await (await fetch(`http://127.0.0.1:${gatewayPort}/metrics`)).text();
      let sum = 0;
      for (const line of text.split("\n"))
        if (
          line.startsWith("pshub_graphql_operations_total{") &&
          line.includes('operation_type="query"')
        )
          sum += Number(line.split(" ").at(-1));
      return sum;
    };

    /** The gateway's subscriptions open now and its event-loop lag (max since the last scrape). */
    const gatewayMetrics = async () => {
      const text = await (await fetch(`http://127.0.0.1:${gatewayPort}/metrics`)).text();
      const metric = (name: string) =>
        Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
      return {
        write: fanoutHistogram(text, "write"),
        resolve: fanoutHistogram(text, "resolve"),
        subscriptions: metric("pshub_subscriptions_active"),
        delivered: metric("pshub_subscription_events_delivered_total"),
        lagging: metric("pshub_subscriptions_lagging_total"),
        loopLagMaxMs: metric("pshub_nodejs_eventloop_lag_max_seconds") * 1000,
      };
    };

    /** Waits (at most 60 s) until the gateway has sent nothing more for a second: no backlog. */
    const drained = async () => {
      let last = -1;
      for (const until = now() + 60_000; now() < until; ) {
        const delivered = (await gatewayMetrics()).delivered;
        if (delivered === last) return;
        last = delivered;
        await new Promise((r) => setTimeout(r, 1000));
      }
    };

    // ------------------------------------------------------------ events: dispute / resolve
    // Round robin over the customers' invoices, so every customer filter sees events.
    const invoices = trees.flatMap((tree, c) =>
      tree.invoiceIds.map((invoiceId, i) => ({
        invoiceId,
        customerId: tree.customerId,
        order: i * 10 + c,
      })),
    );
    invoices.sort((a, b) => a.order - b.order);
    const disputes = new Map<string, string>();
    let next = 0;
    const mutate = async () => {
      const { invoiceId, customerId } = invoices[
        next++ % invoices.length
      ] as (typeof invoices)[number];
      const open = disputes.get(invoiceId);
      if (open) {
        await execute(
          db.db,
          operations.resolveDispute,
          { actor: "bench" },
          { disputeId: open, resolution: "explained" },
        );
        disputes.delete(invoiceId);
      } else {
        const { dispute } = await execute(
          db.db,
          operations.disputeInvoice,
          { actor: "bench" },
          { invoiceId, reason: "bench" },
        );
        disputes.set(invoiceId, dispute.id);
      }
      const committedAt = now();
      const [row] = await db.sql<{ id: string }[]>`
        select max(id)::text as id from domain_event
        where entity_id = ${invoiceId} and type = 'invoice.status_changed'`;
      return { eventId: String(row?.id), committedAt, customerId };
    };

    interface Window {
      p50: number;
      p99: number;
      max: number;
      deliveriesPerS: number;
      missing: number;
      cpu: number;
      rssMb: number;
      fetchesPerEvent: number;
      load: number;
      /** The busiest client process's event-loop utilisation (near 1: the clients are the limit). */
      clientElu: number;
      loopLagMaxMs: number;
      /** The gateway's main thread running or runnable (waiting for a CPU), % of the window. */
      busy: number;
      subscriptions: number;
      errors: number;
      closes: number;
      /** Events committed per second (below `rate` when the mutations cannot keep up). */
      drivenRate: number;
      /** Messages the gateway sent in the window (its own counter) and the CPU seconds it used. */
      sent: number;
      cpuS: number;
      /** Subscriptions the gateway ended as SUBSCRIPTION_LAGGING in the window. */
      laggingEnded: number;
      /** The whole machine's CPU busy over the window, % of all its cores. */
      machineBusy: number;
      /** The client processes' CPU together, % of one core, and in ms. */
      clientsCpu: number;
      clientsCpuMs: number;
      /** Deliveries the clients received in the window. */
      delivered: number;
      /** The busiest client process's event-loop delay p99, ms. */
      clientLoopDelayP99: number;
      /** Per event, commit → its first receipt at any client, ms: the median over the events. */
      firstP50: number;
      /** The gateway's fan-out per batch: mean and p99 (bucket bound) ms, resolve then write. */
      resolveMean: number;
      resolveP99: number;
      writeMean: number;
      writeP99: number;
    }
    const rows: string[] = [];
    /** The second table: where each row's latency goes. */
    const whereRows: string[] = [];
    for (const { n, distinct, rate, client, turn } of runs) {
      log.warn({ subscribers: n, distinct, rate, client, turn }, "run");
      await useGateway(turn);
      const pairs =
        distinct === 1
          ? [{ query: FULL, customerId: null }]
          : Array.from({ length: distinct }, (_, j) => ({
              query: selection(j),
              customerId: j % 2 === 0 ? null : (trees[(j >> 1) % trees.length]?.customerId ?? null),
            }));
      // The subscribers spread over several client processes, so the clients are not the limit.
      const processes = Math.max(1, Math.min(clientProcesses, Math.ceil(n / 500)));
      const clients = Array.from({ length: processes }, () =>
        fork(join(REPO_ROOT, "bench", "subscriptions.ts"), ["--role", "clients"], {
          // e.g. BENCH_CLIENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the clients.
          execArgv: [
            ...(process.env.BENCH_CLIENT_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
            "--import",
            "tsx",
          ],
          cwd: REPO_ROOT,
          stdio: ["ignore", "inherit", "inherit", "ipc"],
        }),
      );
      clientsProcesses = clients;
      const askOne = <T>(proc: ChildProcess, message: ToClients | null): Promise<T> =>
        new Promise((resolve) => {
          proc.once("message", (reply) => resolve(reply as T));
          if (message) proc.send(message);
        });
      const ask = <T>(message: ToClients | null): Promise<T[]> =>
        Promise.all(clients.map((proc) => askOne<T>(proc, message)));
      await ask<{ up: boolean }>(null);
      const started = now();
      const connected = (
        await Promise.all(
          clients.map((proc, p) =>
            askOne<{ connected: number }>(proc, {
              cmd: "connect",
              url: wsUrl,
              subscribers: Array.from({ length: n }, (_, j) => j).filter(
                (j) => j % processes === p,
              ),
              pairs,
              client,
            }),
          ),
        )
      ).reduce((sum, r) => sum + r.connected, 0);
      const connectMs = now() - started;
      // Warm up until every subscriber has received an event (all subscribed): one event, then
      // time for it to reach everyone, before another (each one is N deliveries to drain).
      const everyoneHasOne = async () =>
        Math.min(...(await ask<{ min: number }>({ cmd: "counts" })).map((c) => c.min)) > 0;
      warmup: for (let i = 0; i < 30; i++) {
        await mutate();
        for (const until = now() + 3000; now() < until; ) {
          await new Promise((r) => setTimeout(r, 200));
          if (await everyoneHasOne()) break warmup;
        }
      }
      await drained();

      const measured: Window[] = [];
      for (let w = 0; w < windows; w++) {
        await ask({ cmd: "reset" });
        const load = sampleLoad();
        const fetchesBefore = await entityQueries();
        const gatewayBefore = await gatewayMetrics();
        const before = procStat();
        const machineBefore = machineCpu();
        const windowStart = now();
        // The machine's monotonic clock in µs, the clock of --cpu-prof timestamps: the window's
        // span for bench/support/profile-summary.ts --between.
        const spanStart = process.hrtime.bigint() / 1000n;
        const commits: Record<string, { at: number; customerId: string }> = {};
        const total = Math.round(rate * duration);
        for (let i = 0; i < total; i++) {
          const due = windowStart + (i * 1000) / rate;
          const wait = due - now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          const { eventId, committedAt, customerId } = await mutate();
          commits[eventId] = { at: committedAt, customerId };
        }
        const drivenMs = now() - windowStart;
        // Let the tail arrive.
        const deadline = now() + 20_000;
        let progress: { delivered: number; expected: number };
        do {
          await new Promise((r) => setTimeout(r, 200));
          const parts = await ask<{ delivered: number; expected: number }>({
            cmd: "progress",
            commits,
          });
          progress = parts.reduce(
            (sum, part) => ({
              delivered: sum.delivered + part.delivered,
              expected: sum.expected + part.expected,
            }),
            { delivered: 0, expected: 0 },
          );
        } while (progress.delivered < progress.expected && now() < deadline);
        const windowMs = now() - windowStart;
        const span = `${spanStart}-${process.hrtime.bigint() / 1000n}`;
        const after = procStat();
        const machineAfter = machineCpu();
        const fetches = (await entityQueries()) - fetchesBefore;
        const gatewayNow = await gatewayMetrics();
        const parts = await ask<ClientReport>({ cmd: "report", commits });
        const latencies = parts.flatMap((part) => part.latencies).sort((x, y) => x - y);
        const pick = (q: number) =>
          latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
        const sum = (records: Record<string, number>[]) => {
          const out: Record<string, number> = {};
          for (const record of records)
            for (const [key, count] of Object.entries(record)) out[key] = (out[key] ?? 0) + count;
          return out;
        };
        const errorCodes = sum(parts.map((part) => part.errorCodes));
        const closeCodes = sum(parts.map((part) => part.closeCodes));
        const delivered = latencies.length;
        const expected = parts.reduce((total, part) => total + part.expected, 0);
        const firsts = Object.entries(commits)
          .map(
            ([id, { at }]) =>
              Math.min(...parts.map((part) => part.first[id] ?? Number.POSITIVE_INFINITY)) - at,
          )
          .filter(Number.isFinite);
        const write = fanoutBetween(gatewayBefore.write, gatewayNow.write);
        const resolve = fanoutBetween(gatewayBefore.resolve, gatewayNow.resolve);
        const result: Window = {
          p50: pick(0.5),
          p99: pick(0.99),
          max: latencies.at(-1) ?? Number.NaN,
          deliveriesPerS: delivered / (windowMs / 1000),
          missing: expected - delivered,
          cpu: ((after.cpuMs - before.cpuMs) / windowMs) * 100,
          busy: ((after.runMs - before.runMs + after.waitMs - before.waitMs) / windowMs) * 100,
          rssMb: after.rssMb,
          fetchesPerEvent: fetches / total,
          load,
          clientElu: Math.max(...parts.map((part) => part.elu)),
          loopLagMaxMs: gatewayNow.loopLagMaxMs,
          subscriptions: gatewayNow.subscriptions,
          errors: Object.values(errorCodes).reduce((a, c) => a + c, 0),
          closes: Object.values(closeCodes).reduce((a, c) => a + c, 0),
          drivenRate: total / (drivenMs / 1000),
          sent: gatewayNow.delivered - gatewayBefore.delivered,
          cpuS: (after.cpuMs - before.cpuMs) / 1000,
          laggingEnded: gatewayNow.lagging - gatewayBefore.lagging,
          machineBusy:
            ((machineAfter.busy - machineBefore.busy) /
              (machineAfter.total - machineBefore.total)) *
            100,
          clientsCpu: (parts.reduce((a, part) => a + part.cpuMs, 0) / windowMs) * 100,
          clientsCpuMs: parts.reduce((a, part) => a + part.cpuMs, 0),
          delivered,
          clientLoopDelayP99: Math.max(...parts.map((part) => part.loopDelayP99Ms)),
          firstP50: median(firsts),
          resolveMean: resolve.mean,
          resolveP99: resolve.p99,
          writeMean: write.mean,
          writeP99: write.p99,
        };
        measured.push(result);
        const codes = (record: Record<string, number>) =>
          Object.entries(record)
            .map(([code, count]) => `${code} ${count}`)
            .join(", ") || "none";
        process.stdout.write(
          `N=${n} D=${distinct} ${client}${turn ? ` ${turn}` : ""} window ${w + 1}/${windows}: p50 ${result.p50.toFixed(1)} p99 ${result.p99.toFixed(1)} ms, ${result.deliveriesPerS.toFixed(0)} deliveries/s, missing ${result.missing}, CPU ${result.cpu.toFixed(0)}% (main thread running or runnable ${result.busy.toFixed(0)}%), fetches/event ${result.fetchesPerEvent.toFixed(2)}, driven ${result.drivenRate.toFixed(1)} events/s, load ${load.toFixed(1)}; clients ${processes} (max event-loop use ${(result.clientElu * 100).toFixed(0)}%), errors: ${codes(errorCodes)}, closed: ${codes(closeCodes)}; gateway subscriptions ${result.subscriptions}, sent ${result.sent} in ${result.cpuS.toFixed(1)} CPU s (${(result.sent / result.cpuS).toFixed(0)}/CPU s), lagging ended ${result.laggingEnded}, event-loop lag max ${result.loopLagMaxMs.toFixed(0)} ms; machine CPU busy ${result.machineBusy.toFixed(0)}%, clients CPU ${result.clientsCpu.toFixed(0)}% of a core (loop delay p99 ${result.clientLoopDelayP99.toFixed(0)} ms), first receipt p50 ${result.firstP50.toFixed(1)} ms, gateway per batch: resolve ${result.resolveMean.toFixed(1)} (p99 ≤ ${result.resolveP99}) ms, write ${result.writeMean.toFixed(1)} (p99 ≤ ${result.writeP99}) ms; span ${span} (µs, monotonic: profile-summary.ts --between)\n`,
        );
        await new Promise((r) => setTimeout(r, 500));
      }
      await ask({ cmd: "close" });
      clientsProcesses = [];

      const f1 = (v: number) => v.toFixed(1);
      const f0 = (v: number) => v.toFixed(0);
      const f2 = (v: number) => v.toFixed(2);
      const col = (pick: (w: Window) => number, format: (v: number) => string) =>
        spread(measured.map(pick), format);
      const deliveriesPerCore = median(
        measured.map((w) => (w.cpu > 0 ? w.deliveriesPerS / (w.cpu / 100) : Number.NaN)),
      );
      const total = (pick: (w: Window) => number) => measured.reduce((a, w) => a + pick(w), 0);
      rows.push(
        `| ${n} (${connected} subscribed in ${(connectMs / 1000).toFixed(1)} s, ${processes} ${client} client processes${turn ? `, gateway: ${turn.slice("turn".length)} sockets per write turn` : ""}) | ${distinct} | ${Math.round(rate * duration)} @ ${rate}/s (${col((w) => w.drivenRate, f1)}/s driven) | ${col((w) => w.p50, f1)} | ${col((w) => w.p99, f1)} | ${col((w) => w.max, f0)} | ${col((w) => w.deliveriesPerS, f0)} | ${total((w) => w.missing)} | ${total((w) => w.errors)} / ${total((w) => w.closes)} / ${total((w) => w.laggingEnded)} | ${col((w) => w.cpu, f0)}% | ${col((w) => w.busy, f0)}% | ${f0(deliveriesPerCore)} | ${col((w) => w.sent / w.cpuS, f0)} | ${col((w) => w.clientElu * 100, f0)}% | ${f0(Math.max(...measured.map((w) => w.rssMb)))} MB | ${col((w) => w.fetchesPerEvent, f2)} |`,
      );
      whereRows.push(
        `| ${n} (${client}${turn ? `, ${turn}` : ""}) | ${distinct} | ${rate}/s | ${col((w) => w.firstP50, f1)} | ${col((w) => w.p50, f1)} | ${col((w) => w.resolveMean, f1)} (p99 ≤ ${col((w) => w.resolveP99, f0)}) | ${col((w) => w.writeMean, f1)} (p99 ≤ ${col((w) => w.writeP99, f0)}) | ${col((w) => w.loopLagMaxMs, f0)} | ${col((w) => w.cpu, f0)}% | ${col((w) => w.clientsCpu, f0)}% | ${col((w) => (w.cpuS * 1e6) / w.sent, f1)} | ${col((w) => (w.clientsCpuMs * 1000) / w.delivered, f1)} | ${col((w) => w.clientLoopDelayP99, f0)} | ${col((w) => w.machineBusy, f0)}% |`,
      );
    }
    sampleLoad();

    const header = `## subscriptions — ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC${args.quick ? " (--quick)" : ""}

${gateways.size > 1 ? `${gateways.size} gateway processes (rows marked turnN: one with GATEWAY_SUBSCRIPTION_WRITE_TURN=N, N sockets written per event-loop turn while the next batch is read and resolved; the others: its default, a whole fan-out batch per turn and the next batch read after it)` : "One gateway process"}, five subgraph processes, Postgres and up to ${clientProcesses} client processes (N graphql-ws connections spread over them, one subscription each; the subscribers column names the client: raw = bench/support/raw-ws.ts, a real upgrade handshake then frames read off the TCP socket into one shared buffer per process, only the eventId read from each message; ws = the ws package's client with its defaults, the same reading of the message) on this machine: ${availableParallelism()} CPU (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}. Events: lifecycle mutations (disputeInvoice / resolveDispute) committed at a fixed rate, round robin over 10 customers' invoices; latency = client receipt − COMMIT returned, over every delivery. D = distinct (selection, scope) pairs: D = 1 is one selection (status, invoice number and total, customer name) without a filter; for D = 10 / 100, pair j has its own field subset and odd pairs are narrowed to one customer (they get a tenth of the events). Per run ${windows} windows of ${duration} s on the same connections: cells median (min–max) over the windows; "missing" = deliveries not arrived 20 s after a window's last commit, summed, expected of every subscriber whose connection was acknowledged (the subscribers column says how many). CPU is the gateway process's (100% = one core); "busy" = its main thread running or waiting for a CPU (/proc schedstat), % of the window: near 100% the gateway is saturated (never idle), whatever share of a core the machine's load left it; deliveries per core = deliveries/s ÷ gateway CPU; sends per CPU s = messages the gateway sent in the window (its own counter) ÷ the CPU seconds it used (at saturation, its measured throughput per core); errors / closes / lagging = error messages the clients got, sockets the gateway closed, subscriptions it ended as SUBSCRIPTION_LAGGING; client ELU = the busiest client process's event-loop utilisation (near 100%: the clients are the limit); fetches/event = entity queries the gateway ran per event. Load average (1 min), sampled by this script before every window: median ${median(loads).toFixed(1)}, min ${Math.min(...loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)} (${loads.length} samples).

| subscribers | D | events per window | p50 ms | p99 ms | max ms | deliveries/s | missing | errors / closes / lagging | gateway CPU | gateway busy | deliveries per gateway core/s | gateway sends per CPU s | client ELU | gateway RSS (max) | fetches/event |
|---|---:|---|---|---|---|---|---:|---|---|---|---:|---|---|---|---|`;
    const where = `Where the time goes, per row (cells median (min–max) over the windows): first receipt = per event, commit → its first receipt at any client (the outbox read, the shared resolve and the first writes), median over the events; p50 = every delivery's, as above. The gateway's own histogram (pshub_subscription_fanout_seconds) per batch of events: resolve = from the batch leaving the outbox reader to its results resolved, write = from then to the last member's socket write (mean, and the bucket bound 99% of batches fell under). Gateway loop lag = its event-loop delay max (prom-client). Clients CPU = the client processes' user + system CPU together (100% = one core); per send / per delivery = the gateway's CPU time ÷ messages it sent, the clients' ÷ messages they received; client loop delay = the busiest client process's event-loop delay p99 (its own queueing); machine busy = all CPUs, /proc/stat (100% = every core busy: the run is CPU-bound, whoever waits).

| subscribers | D | rate | first receipt p50 ms | delivery p50 ms | gateway resolve ms/batch | gateway write ms/batch | gateway loop lag max ms | gateway CPU | clients CPU | gateway CPU µs per send | clients CPU µs per delivery | client loop delay p99 ms | machine busy |
|---|---:|---|---|---|---|---|---|---|---|---|---|---|---|
${whereRows.join("\n")}
`;
    const table = `${header}\n${rows.join("\n")}\n\n${where}`;
    process.stdout.write(`\n${table}`);
    if (!args["no-record"]) {
      appendFileSync(join(REPO_ROOT, "bench", "RESULTS.md"), `\n${table}`);
      process.stdout.write("\nappended to bench/RESULTS.md\n");
    }
    await db.close();
  } finally {
    await stopAll();
  }
}

if (args.role === "clients") await runClients();
else {
  await runDriver();
  process.exit(0);
}
