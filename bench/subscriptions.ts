/**
 * `npm run bench -- subscriptions [--subscribers 100,1000,5000] [--rate 10] [--duration 10]`
 *
 * One gateway process (gateway/src/main.ts, subscriptions attached) over the four subgraph
 * processes and a fresh seeded database; N graphql-ws clients in a separate process (this file,
 * `--role clients`), all subscribed to the same invoiceStatusChanged selection across subgraphs
 * (invoice number, total, customer name). Events are driven at a fixed rate by lifecycle
 * mutations (disputeInvoice / resolveDispute, the operations the GraphQL mutations run),
 * committed by this process; each commit time is taken when its COMMIT returns.
 *
 * Reported per N: commit-to-client latency p50 / p99 / max over every delivery, deliveries per
 * second, deliveries missing, gateway CPU (% of one core) and RSS during the driven window, and
 * federated fetches per event (the gateway's own `pshub_gateway_requests_total{operation="query"}`
 * delta: the entity queries it ran; mutations do not go through it). Appends to RESULTS.md.
 */
import { type ChildProcess, fork } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    role: { type: "string", default: "driver" },
    subscribers: { type: "string", default: "100,1000,5000" },
    rate: { type: "string", default: "10" },
    duration: { type: "string", default: "10" },
    "no-record": { type: "boolean", default: false },
  },
  allowPositionals: true,
});

const now = () => performance.timeOrigin + performance.now();

// =============================================================================== client process
type ToClients =
  | { cmd: "connect"; url: string; n: number; query: string; variables: Record<string, unknown> }
  | { cmd: "counts" }
  | { cmd: "reset" }
  | { cmd: "report"; commits: Record<string, number> }
  | { cmd: "close" };

async function runClients() {
  // Raw graphql-transport-ws over `ws`, parsing only the eventId: the client process should cost
  // as little as possible, since it shares the machine with the gateway it measures.
  const { default: WebSocket } = await import("ws");
  const sockets: InstanceType<typeof WebSocket>[] = [];
  let arrivals = new Map<string, number[]>();
  let perClient: number[] = [];
  let errors = 0;
  const send = (message: unknown) => process.send?.(message);
  const EVENT_ID = /"eventId":"(\d+)"/;

  process.on("message", async (message: ToClients) => {
    if (message.cmd === "connect") {
      perClient = new Array(message.n).fill(0);
      const subscribe = JSON.stringify({
        id: "1",
        type: "subscribe",
        payload: { query: message.query, variables: message.variables },
      });
      for (let i = 0; i < message.n; i += 250) {
        const batch = [];
        for (let j = i; j < Math.min(message.n, i + 250); j++) {
          const socket = new WebSocket(message.url, "graphql-transport-ws");
          sockets.push(socket);
          batch.push(
            new Promise<void>((resolve) => {
              socket.on("open", () => socket.send('{"type":"connection_init","payload":{}}'));
              socket.on("error", () => {
                errors++;
                resolve();
              });
              socket.on("message", (data) => {
                const at = now();
                const text = data.toString();
                if (text.startsWith('{"type":"connection_ack"')) {
                  socket.send(subscribe);
                  resolve();
                  return;
                }
                if (text.includes('"type":"ping"')) {
                  socket.send('{"type":"pong"}');
                  return;
                }
                const id = EVENT_ID.exec(text)?.[1];
                if (!id || text.includes('"errors"')) errors++;
                if (!id) return;
                perClient[j] = (perClient[j] ?? 0) + 1;
                let list = arrivals.get(id);
                if (!list) {
                  list = [];
                  arrivals.set(id, list);
                }
                list.push(at);
              });
            }),
          );
        }
        await Promise.all(batch);
      }
      send({ connected: sockets.length });
    } else if (message.cmd === "counts") {
      send({ min: Math.min(...perClient), errors });
    } else if (message.cmd === "reset") {
      arrivals = new Map();
      perClient = perClient.map(() => 0);
      errors = 0;
      send({ ok: true });
    } else if (message.cmd === "report") {
      const latencies: number[] = [];
      let delivered = 0;
      let first = Number.POSITIVE_INFINITY;
      let last = 0;
      for (const [id, committedAt] of Object.entries(message.commits)) {
        for (const at of arrivals.get(id) ?? []) {
          latencies.push(at - committedAt);
          delivered++;
          first = Math.min(first, at);
          last = Math.max(last, at);
        }
      }
      latencies.sort((a, b) => a - b);
      const pick = (q: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
      send({
        delivered,
        expected: Object.keys(message.commits).length * sockets.length,
        p50: pick(0.5),
        p99: pick(0.99),
        max: latencies.at(-1) ?? Number.NaN,
        spanMs: last - first,
        errors,
      });
    } else if (message.cmd === "close") {
      for (const socket of sockets) socket.close(1000);
      send({ closed: true });
      process.exit(0);
    }
  });
  send({ up: true });
}

// =============================================================================== driver
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
  type Child = Awaited<ReturnType<typeof spawnTs>>;

  const levels = String(args.subscribers).split(",").map(Number);
  const rate = Number(args.rate);
  const duration = Number(args.duration);
  const log = createLogger("bench-subscriptions");
  const children: Child[] = [];
  let clientsProcess: ChildProcess | undefined;
  const stopAll = async () => {
    clientsProcess?.kill("SIGKILL");
    await Promise.all(children.map((c) => c.stop()));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.on(signal, () => void stopAll().finally(() => process.exit(130)));

  try {
    // ------------------------------------------------------------ database: fresh and seeded
    const server = await resolveDatabaseUrl(log);
    const benchDb = "pshub_bench_subscriptions";
    const databaseUrl = await recreateDatabase(server.url, benchDb);
    const db = createDbClient(databaseUrl, { max: 4 });
    const tree = await buildCustomerTree(db.db, {
      invoices: 60,
      linesPerInvoice: 2,
      name: "Bench Live",
    });

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
    const gatewayPort = await freePort();
    const gateway = spawnTs("gateway", "gateway/src/main.ts", {
      PORT: String(gatewayPort),
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      ...subgraphEnv,
    });
    children.push(gateway);
    await waitUntil(gateway, httpOk(`http://127.0.0.1:${gatewayPort}/healthz`));
    const gatewayPid = gateway.process.pid ?? 0;
    const wsUrl = `ws://127.0.0.1:${gatewayPort}/graphql`;

    const procStat = () => {
      const stat = readFileSync(`/proc/${gatewayPid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
      const status = readFileSync(`/proc/${gatewayPid}/status`, "utf8");
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return { cpuMs: ticks * 10, rssMb: rssKb / 1024 };
    };
    const entityQueries = async () => {
      const text = await (await fetch(`http://127.0.0.1:${gatewayPort}/metrics`)).text();
      let sum = 0;
      for (const line of text.split("\n"))
        if (line.startsWith('pshub_gateway_requests_total{operation="query"'))
          sum += Number(line.split(" ").at(-1));
      return sum;
    };

    // ------------------------------------------------------------ events: dispute / resolve
    const disputes = new Map<string, string>();
    let next = 0;
    const mutate = async (): Promise<{ eventId: string; committedAt: number }> => {
      const invoiceId = tree.invoiceIds[next++ % tree.invoiceIds.length]!;
      const open = disputes.get(invoiceId);
      if (open) {
        await execute(
          db.db,
          operations.resolveDispute,
          { actor: "bench" },
          {
            disputeId: open,
            resolution: "explained",
          },
        );
        disputes.delete(invoiceId);
      } else {
        const { dispute } = await execute(
          db.db,
          operations.disputeInvoice,
          { actor: "bench" },
          {
            invoiceId,
            reason: "bench",
          },
        );
        disputes.set(invoiceId, dispute.id);
      }
      const committedAt = now();
      const [row] = await db.sql<{ id: string }[]>`
        select max(id)::text as id from domain_event
        where entity_id = ${invoiceId} and type = 'invoice.status_changed'`;
      return { eventId: String(row?.id), committedAt };
    };

    const query = /* GraphQL */ `
      subscription Bench($customerId: ID) {
        invoiceStatusChanged(customerId: $customerId) {
          eventId
          previousStatus
          status
          invoice { number total { amount currency } customer { name } }
        }
      }
    `;

    const rows: string[] = [];
    for (const n of levels) {
      log.warn({ subscribers: n }, "level");
      const clientsEntry = join(REPO_ROOT, "bench", "subscriptions.ts");
      const proc = fork(clientsEntry, ["--role", "clients"], {
        execArgv: ["--import", "tsx"],
        cwd: REPO_ROOT,
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      clientsProcess = proc;
      const ask = <T>(message: ToClients | null): Promise<T> =>
        new Promise((resolve) => {
          proc.once("message", (reply) => resolve(reply as T));
          if (message) proc.send(message);
        });
      await ask<{ up: boolean }>(null);
      const started = now();
      const { connected } = await ask<{ connected: number }>({
        cmd: "connect",
        url: wsUrl,
        n,
        query,
        variables: { customerId: tree.customerId },
      });
      const connectMs = now() - started;
      // Warm up until every subscriber has received an event (all subscribed).
      for (let i = 0; i < 100; i++) {
        await mutate();
        await new Promise((r) => setTimeout(r, 100));
        const { min } = await ask<{ min: number }>({ cmd: "counts" });
        if (min > 0) break;
      }
      await new Promise((r) => setTimeout(r, 500));
      await ask({ cmd: "reset" });

      const fetchesBefore = await entityQueries();
      const before = procStat();
      const windowStart = now();
      const commits: Record<string, number> = {};
      const total = Math.round(rate * duration);
      for (let i = 0; i < total; i++) {
        const due = windowStart + (i * 1000) / rate;
        const wait = due - now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const { eventId, committedAt } = await mutate();
        commits[eventId] = committedAt;
      }
      // Let the tail arrive.
      const deadline = now() + 30_000;
      let report: {
        delivered: number;
        expected: number;
        p50: number;
        p99: number;
        max: number;
        spanMs: number;
        errors: number;
      };
      do {
        await new Promise((r) => setTimeout(r, 250));
        report = await ask({ cmd: "report", commits });
      } while (report.delivered < report.expected && now() < deadline);
      const windowMs = now() - windowStart;
      const after = procStat();
      const fetches = (await entityQueries()) - fetchesBefore;
      await ask({ cmd: "close" });
      clientsProcess = undefined;

      const cpu = ((after.cpuMs - before.cpuMs) / windowMs) * 100;
      const row = `| ${n} (${connected} connected in ${(connectMs / 1000).toFixed(1)} s) | ${total} @ ${rate}/s | ${report.p50.toFixed(1)} | ${report.p99.toFixed(1)} | ${report.max.toFixed(1)} | ${Math.round(report.delivered / (windowMs / 1000))} | ${report.expected - report.delivered} | ${cpu.toFixed(0)}% | ${after.rssMb.toFixed(0)} MB | ${(fetches / total).toFixed(2)} | ${loadavg()[0]?.toFixed(1)} |`;
      rows.push(row);
      process.stdout.write(`${row}\n`);
    }

    const header = `## subscriptions — ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC

One gateway process, four subgraph processes, Postgres and the client process (N graphql-ws connections, one subscription each, all the same invoiceStatusChanged selection across invoice and customer subgraphs) share this machine: ${availableParallelism()} CPU (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}. Events: lifecycle mutations (disputeInvoice / resolveDispute) committed at a fixed rate; latency = client receipt − COMMIT returned, over every delivery. CPU is the gateway process's (100% = one core); fetches/event = entity queries the gateway ran per event during the window (below 1.00 when a backlog was still being worked off at the end). Other engineers' builds and tests were running on the same 2 cores (load average given), so latencies include CPU starvation.

| subscribers | events | p50 ms | p99 ms | max ms | deliveries/s | not arrived 30 s after the last commit | gateway CPU | gateway RSS | fetches/event | load avg (1 min) |
|---|---|---|---|---|---|---|---|---|---|---|`;
    const table = `${header}\n${rows.join("\n")}\n`;
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
