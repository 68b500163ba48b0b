/**
 * `npm run bench -- gateway [--rounds 5] [--duration 3] [--connections 1,10,50] [--targets …]
 *   [--quick] [--no-record]`
 *
 * The same request mix through every target, side by side in one run, on the same supergraph and
 * the same five subgraph processes (one seeded database):
 *   (a)  pshub's gateway (@apollo/gateway), subgraph request sharing on (its default);
 *   (a′) the same with sharing off;
 *   (b)  Hive Gateway's runtime with its defaults (in-flight dedup of subgraph queries on);
 *   (b′) Hive Gateway with in-flight dedup off;
 *   (b″) Hive Gateway with @graphql-hive/router-runtime (Hive Router's Rust query planner);
 *   (m)  the single-process monolith baseline: one graphql-js schema, the same resolvers;
 *   (f)  the SQL floor: the resolvers' own SQL replayed directly with the same batching.
 *
 * Every client has its own request sequence (its own invoice list filter and sort order, its own
 * start offset in the tree / invoice cycle), so identical requests in flight at once happen only
 * by chance. Before any load every target must answer every distinct request with the same data
 * as (a), one at a time and concurrently; a target that cannot is left out, and the table says why.
 * Then, in each of `rounds` rounds, every (clients, target) cell runs once — the target order
 * rotates each round — and the table gives per cell the median and min–max over rounds; ratios
 * are per round (neighbours in time), then median and min–max. The 1-minute load average is
 * sampled before every cell and printed. Appends the table to bench/RESULTS.md.
 */
import { type ChildProcess, fork } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createDbClient, createLogger, recreateDatabase, resolveDatabaseUrl } from "@pshub/db";
import { buildCustomerTree } from "@pshub/db/testing";
import { compose, readAllSubgraphSdl, SUBGRAPHS } from "@pshub/gateway";
import type { LoadCell, LoadResult } from "./support/load.ts";
import {
  type Child,
  freePort,
  graphqlOk,
  httpOk,
  REPO_ROOT,
  spawnTs,
  waitUntil,
} from "./support/processes.ts";
import { clientSequence } from "./support/queries.ts";
import { median, spread } from "./support/stats.ts";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    duration: { type: "string", default: "3" },
    warmup: { type: "string", default: "0.5" },
    connections: { type: "string", default: "1,10,50" },
    customers: { type: "string", default: "8" },
    "invoices-per-customer": { type: "string", default: "25" },
    targets: {
      type: "string",
      default: "pshub,pshub-nodedup,hive,hive-nodedup,hive-router,monolith,sql-floor",
    },
    /** 1 s cells, 1 and 10 clients: a smoke run (still 5 rounds). */
    quick: { type: "boolean", default: false },
    /** Measure only; do not append to bench/RESULTS.md. */
    "no-record": { type: "boolean", default: false },
  },
});
const quick = args.quick;
const rounds = Math.max(1, Number(args.rounds));
const duration = quick ? 1 : Number(args.duration);
const warmup = quick ? 0.3 : Number(args.warmup);
const concurrencies = (quick ? "1,10" : String(args.connections)).split(",").map(Number);
const wanted = String(args.targets).split(",");
const log = createLogger("bench-gateway");

interface Target {
  key: string;
  label: string;
  url: string;
  child: Child;
}
const LABELS: Record<string, string> = {
  pshub: "(a) pshub gateway, subgraph request sharing on (default)",
  "pshub-nodedup": "(a′) pshub gateway, sharing off",
  hive: "(b) Hive Gateway, defaults (in-flight dedup on)",
  "hive-nodedup": "(b′) Hive Gateway, in-flight dedup off",
  "hive-router": "(b″) Hive Gateway + router-runtime (Rust planner), defaults",
  monolith: "(m) single-process monolith baseline",
  "sql-floor": "(f) SQL floor: the same SQL, same batching, issued directly",
};

const children: Child[] = [];
let loader: ChildProcess | undefined;
let exiting = false;
async function stopAll() {
  loader?.kill("SIGKILL");
  await Promise.all(children.map((child) => child.stop()));
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    void stopAll().finally(() => process.exit(130));
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which is in parentheses and may hold spaces).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ)
  } catch {
    return Number.NaN;
  }
}

const loads: number[] = [];
const sampleLoad = () => {
  const value = loadavg()[0] ?? Number.NaN;
  loads.push(value);
  return value;
};

try {
  sampleLoad();
  // ---------------------------------------------------------------- database: fresh and seeded
  const server = await resolveDatabaseUrl(log);
  const databaseUrl = await recreateDatabase(server.url, "pshub_bench_gateway");
  const seedClient = createDbClient(databaseUrl, { max: 2 });
  const trees: Awaited<ReturnType<typeof buildCustomerTree>>[] = [];
  for (let i = 0; i < Number(args.customers); i++) {
    trees.push(
      await buildCustomerTree(seedClient.db, {
        invoices: Number(args["invoices-per-customer"]),
        linesPerInvoice: 3,
        name: `Customer ${i + 1}`,
      }),
    );
  }
  await seedClient.close();
  const invoiceCount = trees.reduce((sum, tree) => sum + tree.invoiceIds.length, 0);

  // ---------------------------------------------------------------- every client's own sequence
  const maxClients = Math.max(...concurrencies);
  const sequences = Array.from({ length: maxClients }, (_, k) => clientSequence(k, trees));
  const clientBodies = sequences.map((sequence) =>
    sequence.map((operation) =>
      JSON.stringify({ query: operation.query, variables: operation.variables }),
    ),
  );
  const checks = new Map<string, (data: unknown) => boolean>();
  const names = new Map<string, string>();
  sequences.forEach((sequence, k) => {
    sequence.forEach((operation, i) => {
      const body = clientBodies[k]?.[i] ?? "";
      checks.set(body, operation.check);
      names.set(body, operation.name);
    });
  });
  const distinct = [...checks.keys()];
  const work = mkdtempSync(join(tmpdir(), "pshub-bench-"));
  const bodiesPath = join(work, "bodies.json");
  writeFileSync(bodiesPath, JSON.stringify(distinct));
  log.info({ invoices: invoiceCount, distinct: distinct.length }, "seeded");

  // ---------------------------------------------------------------- subgraphs: five processes
  const subgraphChildren: Child[] = [];
  const subgraphUrls: Record<string, string> = {};
  const subgraphEnv: Record<string, string> = {};
  const ready: Promise<void>[] = [];
  for (const subgraph of SUBGRAPHS) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/graphql`;
    subgraphUrls[subgraph.name] = url;
    subgraphEnv[subgraph.urlEnv] = url;
    const child = spawnTs(
      `subgraph-${subgraph.name}`,
      `subgraphs/${subgraph.name}/src/main.ts`,
      { PORT: String(port), HOST: "127.0.0.1", DATABASE_URL: databaseUrl },
      // e.g. BENCH_SUBGRAPH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the subgraphs.
      process.env.BENCH_SUBGRAPH_NODE_ARGS?.split(" ").filter(Boolean) ?? [],
    );
    children.push(child);
    subgraphChildren.push(child);
    ready.push(waitUntil(child, httpOk(`http://127.0.0.1:${port}/healthz`)));
  }
  await Promise.all(ready);

  // ---------------------------------------------------------------- the same supergraph for all
  const composed = compose(readAllSubgraphSdl(subgraphUrls));
  if (!composed.ok) throw new Error(`composition failed:\n${composed.errors.join("\n")}`);
  const supergraphPath = join(work, "supergraph.graphql");
  writeFileSync(supergraphPath, composed.supergraphSdl);

  const left: string[] = [];
  const targets: Target[] = [];
  const start = async (key: string): Promise<Target> => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/graphql`;
    let child: Child;
    if (key === "pshub" || key === "pshub-nodedup") {
      child = spawnTs(
        key,
        "gateway/src/main.ts",
        {
          PORT: String(port),
          HOST: "127.0.0.1",
          DATABASE_URL: databaseUrl,
          GATEWAY_DEDUPE_SUBGRAPH_REQUESTS: key === "pshub" ? "true" : "false",
          ...subgraphEnv,
        },
        // e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles our gateway.
        process.env.BENCH_GATEWAY_NODE_ARGS?.split(" ").filter(Boolean) ?? [],
      );
      children.push(child);
      await waitUntil(child, httpOk(`http://127.0.0.1:${port}/healthz`));
    } else if (key.startsWith("hive")) {
      child = spawnTs(key, "bench/support/hive-server.ts", {
        PORT: String(port),
        SUPERGRAPH_PATH: supergraphPath,
        HIVE_DEDUPE: key === "hive-nodedup" ? "false" : "true",
        HIVE_ROUTER_RUNTIME: key === "hive-router" ? "true" : "false",
      });
      children.push(child);
      await waitUntil(child, graphqlOk(url));
    } else if (key === "monolith" || key === "sql-floor") {
      child = spawnTs(
        key,
        key === "monolith"
          ? "bench/support/monolith-server.ts"
          : "bench/support/sql-floor-server.ts",
        { PORT: String(port), DATABASE_URL: databaseUrl, BODIES_PATH: bodiesPath },
      );
      children.push(child);
      // The SQL floor records every distinct request's statements before it listens.
      await waitUntil(child, async () => child.output().includes("listening"), 180_000);
    } else {
      throw new Error(`unknown target ${key}`);
    }
    return { key, label: LABELS[key] ?? key, url, child };
  };
  for (const key of wanted) {
    try {
      targets.push(await start(key));
    } catch (error) {
      if (key === "pshub") throw error;
      left.push(`${LABELS[key] ?? key}: did not start (${String(error).split("\n")[0]})`);
    }
  }

  // ---------------------------------------------------------------- same answers everywhere
  const post = async (url: string, body: string) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    return (await response.json()) as { data?: unknown; errors?: unknown[] };
  };
  const reference = new Map<string, string>();
  const retried: string[] = [];
  const reference0 = targets[0];
  // The reference is the first target: pshub unless --targets leaves it out.
  if (!reference0) throw new Error("no target started");
  for (const body of distinct) {
    const answer = await post(reference0.url, body);
    if (answer.errors?.length)
      throw new Error(
        `${reference0.key} answered with errors: ${JSON.stringify(answer.errors).slice(0, 800)}`,
      );
    if (!checks.get(body)?.(answer.data))
      throw new Error(`${names.get(body)} returned too little data: ${body.slice(0, 300)}`);
    reference.set(body, JSON.stringify(answer.data));
  }
  for (const target of [...targets]) {
    let problem: string | undefined;
    // One at a time, then the whole set three times over, 50 in flight.
    const queue = [...distinct, ...distinct, ...distinct, ...distinct];
    let next = 0;
    const worker = async (sequential: boolean) => {
      while (!problem && next < (sequential ? distinct.length : queue.length)) {
        const body = queue[next++] ?? "";
        const ask = () =>
          post(target.url, body).catch((error) => ({
            errors: [String(error)] as unknown[],
            data: undefined,
          }));
        let answer = await ask();
        // A dropped connection (ours to the target, or the target's to a subgraph) is asked once
        // more and reported in the header; any other error, or a second one, leaves it out.
        if (
          answer.errors?.length &&
          /socket hang up|ECONNRESET|fetch failed/.test(JSON.stringify(answer.errors))
        ) {
          retried.push(
            `${target.key}: ${names.get(body)} (${JSON.stringify(answer.errors).slice(0, 120)})`,
          );
          answer = await ask();
        }
        if (answer.errors?.length)
          problem = `answered ${names.get(body)} with errors: ${JSON.stringify(answer.errors).slice(0, 300)}`;
        else if (JSON.stringify(answer.data) !== reference.get(body))
          problem = `answered ${names.get(body)} with different data than ${reference0.key}`;
      }
    };
    await worker(true);
    await Promise.all(Array.from({ length: 50 }, () => worker(false)));
    if (problem) {
      if (target === reference0) throw new Error(`${target.key} ${problem}`);
      left.push(`${target.label}: ${problem}`);
      log.warn({ output: target.child.output().slice(-2000) }, `${target.key} left out`);
      targets.splice(targets.indexOf(target), 1);
    }
  }
  for (const line of left) log.warn(line);

  // ---------------------------------------------------------------- load, interleaved rounds
  const loadProcess = fork(join(REPO_ROOT, "bench", "support", "load.ts"), [], {
    execArgv: ["--import", "tsx"],
    cwd: REPO_ROOT,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  loader = loadProcess;
  await new Promise((resolve) => loadProcess.once("message", resolve));
  // The CPU the target and the subgraphs use over the measured part of a cell, per request: less
  // sensitive to the machine's load than throughput (CPU a process waits for is not counted).
  const subgraphCpu = () =>
    subgraphChildren.reduce((sum, child) => sum + cpuSeconds(child.process.pid), 0);
  const runCell = (cell: LoadCell, target: Target) =>
    new Promise<LoadResult & { targetCpuMs: number; subgraphCpuMs: number }>((resolve) => {
      let from = { target: Number.NaN, subgraphs: Number.NaN };
      const timer = setTimeout(() => {
        from = { target: cpuSeconds(target.child.process.pid), subgraphs: subgraphCpu() };
      }, cell.warmupS * 1000);
      loadProcess.once("message", (message) => {
        clearTimeout(timer);
        const result = message as LoadResult;
        const perRequest = (seconds: number) => (seconds * 1000) / Math.max(1, result.requests);
        resolve({
          ...result,
          targetCpuMs: perRequest(cpuSeconds(target.child.process.pid) - from.target),
          subgraphCpuMs: perRequest(subgraphCpu() - from.subgraphs),
        });
      });
      loadProcess.send(cell);
    });

  type Cell = LoadResult & { load: number; targetCpuMs: number; subgraphCpuMs: number };
  const results = new Map<string, Cell[]>(); // `${target}@${connections}` → one per round
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    for (const connections of concurrencies) {
      for (let i = 0; i < targets.length; i++) {
        const target = targets[(i + round) % targets.length] as Target;
        const load = sampleLoad();
        const result = await runCell(
          {
            url: target.url,
            warmupS: warmup,
            durationS: duration,
            clients: clientBodies.slice(0, connections),
          },
          target,
        );
        if (result.p50 < 0) {
          result.p50 = Number.NaN;
          result.p99 = Number.NaN;
        }
        const key = `${target.key}@${connections}`;
        results.set(key, [...(results.get(key) ?? []), { ...result, load }]);
        process.stdout.write(
          `round ${round + 1}/${rounds} c=${String(connections).padStart(2)} ${target.key.padEnd(13)} ${result.rps.toFixed(0).padStart(5)} req/s  p50 ${result.p50.toFixed(1)} ms  p99 ${result.p99.toFixed(1)} ms  errors ${result.errors}  cpu/req ${result.targetCpuMs.toFixed(2)} + ${result.subgraphCpuMs.toFixed(2)} ms  load ${load.toFixed(1)}\n`,
        );
      }
    }
  }
  sampleLoad();
  const minutes = (Date.now() - started) / 60_000;
  loadProcess.send("exit");
  loader = undefined;

  // ---------------------------------------------------------------- table
  const cells = (key: string, connections: number) => results.get(`${key}@${connections}`) ?? [];
  const f0 = (n: number) => n.toFixed(0);
  const f1 = (n: number) => (n < 10 ? n.toFixed(1) : n.toFixed(0));
  const f2 = (n: number) => n.toFixed(2);
  const ratio = (mine: string, other: string, connections: number) => {
    const a = cells(mine, connections);
    const b = cells(other, connections);
    if (!a.length || !b.length) return "";
    const perRound = a.map((cell, i) => cell.rps / (b[i]?.rps ?? Number.NaN));
    return spread(perRound, f2);
  };
  const present = new Set(targets.map((target) => target.key));
  const ratioColumns = [
    ["hive", "÷ (b)"],
    ["hive-nodedup", "÷ (b′)"],
    ["hive-router", "÷ (b″)"],
    ["monolith", "÷ (m)"],
    ["sql-floor", "÷ (f)"],
  ].filter(([key]) => present.has(key ?? ""));
  const lines = [
    `| clients | target | req/s | p50 ms | p99 ms | errors | target CPU ms/req | subgraphs CPU ms/req | ${ratioColumns.map(([, name]) => `req/s ${name}`).join(" | ")} |`,
    `|---:|---|---:|---:|---:|---:|---:|---:|${ratioColumns.map(() => "---:|").join("")}`,
  ];
  for (const connections of concurrencies) {
    for (const target of targets) {
      const runs = cells(target.key, connections);
      if (!runs.length) continue;
      const errors = runs.reduce((sum, run) => sum + run.errors, 0);
      const mine = target.key.startsWith("pshub");
      lines.push(
        `| ${connections} | ${target.label} | ${spread(
          runs.map((run) => run.rps),
          f0,
        )} | ${spread(
          runs.map((run) => run.p50),
          f1,
        )} | ${spread(
          runs.map((run) => run.p99),
          f1,
        )} | ${errors} | ${spread(
          runs.map((run) => run.targetCpuMs),
          f2,
        )} | ${spread(
          runs.map((run) => run.subgraphCpuMs),
          f2,
        )} | ${ratioColumns
          .map(([key]) => (mine ? ratio(target.key, key ?? "", connections) : ""))
          .join(" | ")} |`,
      );
    }
  }
  // Latency at one client against the baselines (the issue's 1-client aim), per round.
  const latencyRatio = (mine: string, other: string) => {
    const a = cells(mine, 1);
    const b = cells(other, 1);
    if (!a.length || !b.length) return undefined;
    return spread(
      a.map((cell, i) => cell.p50 / (b[i]?.p50 ?? Number.NaN)),
      f2,
    );
  };
  const latencyLines = ["pshub", "pshub-nodedup"].flatMap((mine) =>
    ["monolith", "sql-floor"].flatMap((other) => {
      const value = latencyRatio(mine, other);
      const short = (key: string) => (LABELS[key] ?? key).split(" ")[0];
      return value ? [`p50 at 1 client, ${short(mine)} ÷ ${short(other)}: ${value}`] : [];
    }),
  );
  const table = lines.join("\n");
  const loadLine = `load average (1 min), sampled by this script before every cell: median ${f1(median(loads))}, min ${f1(Math.min(...loads))}, max ${f1(Math.max(...loads))} (${loads.length} samples)`;
  const first = sequences[0]?.slice(0, 3) ?? [];
  const header = `## gateway — ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}${quick ? " (--quick)" : ""}

Requests: ${first.map((operation) => operation.description).join("; ")}. Each of the N clients has its own sequence of ${sequences[0]?.length ?? 0} requests: its own invoice list (one customer, one of ${10} sort orders: ${Math.min(maxClients, trees.length * 10)} distinct lists), then every customer's tree and one of its invoices, starting at its own offset; ${distinct.length} distinct requests in all. ${trees.length} customers, ${invoiceCount} invoices (3 lines, 1 payment each).
${rounds} rounds; in each, every (clients, target) cell once, the target order rotated per round; a cell is ${warmup} s unmeasured then ${duration} s measured, closed-loop clients on keep-alive connections from one load process. Cells: median (min–max) over the rounds; ratios: per round, then median (min–max). CPU ms/req: the user + system CPU (from /proc) the target process, and the five subgraph processes together, used during the measured seconds, divided by the requests measured. ${minutes.toFixed(1)} min of load.
Machine: ${availableParallelism()} CPU (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}; the load process, the target, the five subgraph processes (idle targets too) and Postgres share these cores; ${loadLine}.
Answers: every target answered all ${distinct.length} distinct requests with the same data as ${reference0.key}, one at a time and 50 in flight, before the load${left.length ? `; left out: ${left.join("; ")}` : ""}${retried.length ? `; asked twice after a dropped connection: ${retried.join("; ")}` : ""}. (f) answers with the monolith's JSON for the body (it replays the SQL and does not assemble the answer), so its check compares the monolith's answers.
${latencyLines.length ? `\n${latencyLines.join("  \n")}\n` : ""}`;
  process.stdout.write(`\n${header}\n${table}\n`);
  if (!args["no-record"]) {
    appendFileSync(join(REPO_ROOT, "bench", "RESULTS.md"), `\n${header}\n${table}\n`);
    process.stdout.write("\nappended to bench/RESULTS.md\n");
  }
} finally {
  await stopAll();
}
process.exit(0);
