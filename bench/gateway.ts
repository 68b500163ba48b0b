/**
 * `npm run bench -- gateway [--duration 5] [--connections 1,10,50] [--targets pshub,hive,…] [--no-record]`
 *
 * One query mix — 50 invoices with customer, contract, lines and payments; a customer tree; one
 * invoice by id — through (a) our gateway, (a′) the same with subgraph request sharing off (the
 * raw federation overhead), (b) Hive Gateway on the same supergraph and the same
 * subgraph processes, (c) the non-federated floor (one graphql-js schema, the same resolvers),
 * at each concurrency for a fixed duration. Prints req/s, p50, p99, errors and ratios, and
 * appends the table to bench/RESULTS.md.
 *
 * Every target is its own process, and so is the load generator; the subgraphs are four
 * processes over one seeded database (DATABASE_URL's server, or embedded Postgres).
 */
import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createDbClient, createLogger, recreateDatabase, resolveDatabaseUrl } from "@pshub/db";
import { buildCustomerTree } from "@pshub/db/testing";
import { compose, readAllSubgraphSdl, SUBGRAPHS } from "@pshub/gateway";
import {
  type Child,
  freePort,
  graphqlOk,
  httpOk,
  REPO_ROOT,
  runNode,
  spawnTs,
  waitUntil,
} from "./support/processes.ts";
import { benchQueries } from "./support/queries.ts";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "1,10,50" },
    customers: { type: "string", default: "8" },
    "invoices-per-customer": { type: "string", default: "25" },
    /** Subset of targets, e.g. `pshub,floor` (the table then has blanks). */
    targets: { type: "string", default: "pshub,pshub-nodedup,hive,floor" },
    /** Measure only; do not append to bench/RESULTS.md. */
    "no-record": { type: "boolean", default: false },
  },
});
const duration = Number(args.duration);
const concurrencies = String(args.connections).split(",").map(Number);
const wanted = new Set(String(args.targets).split(","));
const log = createLogger("bench-gateway");

const children: Child[] = [];
let exiting = false;
async function stopAll() {
  await Promise.all(children.map((child) => child.stop()));
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    void stopAll().finally(() => process.exit(130));
  });
}

try {
  // ---------------------------------------------------------------- database: fresh and seeded
  const server = await resolveDatabaseUrl(log);
  const benchDb = "pshub_bench_gateway";
  const databaseUrl = await recreateDatabase(server.url, benchDb);
  const seedClient = createDbClient(databaseUrl, { max: 2 });
  const trees = [];
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
  const first = trees[0];
  if (!first) throw new Error("nothing seeded");
  const invoiceCount = trees.reduce((sum, tree) => sum + tree.invoiceIds.length, 0);
  log.info({ customers: trees.length, invoices: invoiceCount }, "seeded");

  // ---------------------------------------------------------------- subgraphs: four processes
  const subgraphUrls: Record<string, string> = {};
  const subgraphEnv: Record<string, string> = {};
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
  }
  await Promise.all(
    SUBGRAPHS.map((subgraph, i) =>
      waitUntil(
        children[i] as Child,
        httpOk(subgraphUrls[subgraph.name]?.replace("/graphql", "/healthz") ?? ""),
      ),
    ),
  );

  // ---------------------------------------------------------------- the same supergraph for (a) and (b)
  const composed = compose(readAllSubgraphSdl(subgraphUrls));
  if (!composed.ok) throw new Error(`composition failed:\n${composed.errors.join("\n")}`);
  const work = mkdtempSync(join(tmpdir(), "pshub-bench-"));
  const supergraphPath = join(work, "supergraph.graphql");
  writeFileSync(supergraphPath, composed.supergraphSdl);

  const targets: { key: string; label: string; url: string }[] = [];
  for (const [key, label, dedupe] of [
    ["pshub", "(a) pshub gateway (@apollo/gateway)", "true"],
    ["pshub-nodedup", "(a′) pshub gateway, subgraph request sharing off", "false"],
  ] as const) {
    if (!wanted.has(key)) continue;
    const port = await freePort();
    const child = spawnTs(
      key,
      "gateway/src/main.ts",
      {
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: databaseUrl,
        GATEWAY_DEDUPE_SUBGRAPH_REQUESTS: dedupe,
        ...subgraphEnv,
      },
      // e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles our gateway.
      process.env.BENCH_GATEWAY_NODE_ARGS?.split(" ").filter(Boolean) ?? [],
    );
    children.push(child);
    await waitUntil(child, httpOk(`http://127.0.0.1:${port}/healthz`));
    targets.push({ key, label, url: `http://127.0.0.1:${port}/graphql` });
  }
  if (wanted.has("hive")) {
    const port = await freePort();
    const child = spawnTs("hive", "bench/support/hive-server.ts", {
      PORT: String(port),
      SUPERGRAPH_PATH: supergraphPath,
    });
    children.push(child);
    await waitUntil(child, graphqlOk(`http://127.0.0.1:${port}/graphql`));
    targets.push({
      key: "hive",
      label: "(b) Hive Gateway runtime",
      url: `http://127.0.0.1:${port}/graphql`,
    });
  }
  if (wanted.has("floor")) {
    const port = await freePort();
    const child = spawnTs("floor", "bench/support/monolith-server.ts", {
      PORT: String(port),
      DATABASE_URL: databaseUrl,
    });
    children.push(child);
    await waitUntil(child, graphqlOk(`http://127.0.0.1:${port}/graphql`));
    targets.push({
      key: "floor",
      label: "(c) floor: one graphql-js schema",
      url: `http://127.0.0.1:${port}/graphql`,
    });
  }

  // ---------------------------------------------------------------- same answers everywhere
  const mix = benchQueries({ customerId: first.customerId, invoiceId: first.invoiceIds[0] ?? "" });
  // Each client cycles through the mix once per seeded customer, with that customer's tree and
  // one of its invoices: the list is the same for everyone (a shared dashboard), the rest varies,
  // so identical in-flight requests are not the common case.
  const sequence = trees.flatMap((tree, i) =>
    benchQueries({
      customerId: tree.customerId,
      invoiceId: tree.invoiceIds[i % tree.invoiceIds.length] ?? "",
    }),
  );
  const bodies = sequence.map((operation) =>
    JSON.stringify({ query: operation.query, variables: operation.variables }),
  );
  const mismatches: string[] = [];
  for (const operation of sequence) {
    const answers = await Promise.all(
      targets.map(async (target) => {
        const response = await fetch(target.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: operation.query, variables: operation.variables }),
        });
        return (await response.json()) as { data?: unknown; errors?: unknown[] };
      }),
    );
    for (const [i, answer] of answers.entries()) {
      if (answer.errors?.length) {
        throw new Error(
          `${targets[i]?.key} answered ${operation.name} with errors: ${JSON.stringify(answer.errors).slice(0, 800)}`,
        );
      }
    }
    const reference = JSON.stringify(answers[0]?.data);
    for (const [i, answer] of answers.entries()) {
      if (JSON.stringify(answer.data) !== reference)
        mismatches.push(`${operation.name}: ${targets[i]?.key} differs from pshub`);
    }
    if (!operation.check(answers[0]?.data))
      throw new Error(`${operation.name} returned too little data: ${reference.slice(0, 400)}`);
  }
  // Concurrently too: three copies of the whole sequence at once through every target must
  // give the same answers as one at a time (request sharing must not mix answers up).
  const post = async (url: string, body: string) =>
    JSON.stringify(
      (
        (await (
          await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          })
        ).json()) as {
          data?: unknown;
        }
      ).data,
    );
  for (const target of targets) {
    const sequential: string[] = [];
    for (const body of bodies) sequential.push(await post(target.url, body));
    const concurrent = await Promise.all(
      [...bodies, ...bodies, ...bodies].map((body) => post(target.url, body)),
    );
    concurrent.forEach((answer, i) => {
      if (answer !== sequential[i % bodies.length]) {
        mismatches.push(`${target.key}: concurrent answer ${i} differs from the sequential one`);
      }
    });
  }
  for (const mismatch of mismatches) log.warn(mismatch);

  // ---------------------------------------------------------------- load
  interface Row {
    target: string;
    connections: number;
    rps: number;
    p50: number;
    p99: number;
    errors: number;
    requests: number;
  }
  const rows: Row[] = [];
  for (const connections of concurrencies) {
    for (const target of targets) {
      // A short warm-up so JIT and connection pools are not part of the measurement.
      await runNode("bench/support/load.ts", [
        JSON.stringify({ url: target.url, connections, duration: 1, bodies }),
      ]);
      const out = await runNode("bench/support/load.ts", [
        JSON.stringify({ url: target.url, connections, duration, bodies }),
      ]);
      const result = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Omit<
        Row,
        "target" | "connections"
      >;
      rows.push({ target: target.key, connections, ...result });
      process.stdout.write(
        `${target.key.padEnd(6)} c=${String(connections).padStart(2)}  ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}\n`,
      );
    }
  }

  // ---------------------------------------------------------------- table
  const find = (target: string, connections: number) =>
    rows.find((row) => row.target === target && row.connections === connections);
  const lines = [
    "| clients | target | req/s | p50 ms | p99 ms | errors | ÷ hive | ÷ floor |",
    "|---:|---|---:|---:|---:|---:|---:|---:|",
  ];
  for (const connections of concurrencies) {
    for (const target of targets) {
      const row = find(target.key, connections);
      if (!row) continue;
      const ratio = (mine: Row, other?: Row) =>
        other && other.rps > 0 ? (mine.rps / other.rps).toFixed(2) : "";
      lines.push(
        `| ${connections} | ${target.label} | ${row.rps.toFixed(0)} | ${row.p50} | ${row.p99} | ${row.errors} | ${
          target.key.startsWith("pshub") ? ratio(row, find("hive", connections)) : ""
        } | ${target.key.startsWith("pshub") ? ratio(row, find("floor", connections)) : ""} |`,
      );
    }
  }
  const table = lines.join("\n");
  const header = `## gateway — ${new Date().toISOString().replace(/\.\d+Z$/, "Z")}

Query mix per client, in turn: ${mix.map((operation) => operation.description).join("; ")}; the tree and the invoice vary over the ${trees.length} seeded customers (${sequence.length} requests per cycle).
${duration} s per cell after a 1 s warm-up; autocannon in its own process; ${trees.length} customers, ${invoiceCount} invoices (3 lines, 1 payment each).
Machine: ${availableParallelism()} CPU (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}; the load generator, the gateway under test, the four subgraphs and Postgres share these cores; load average ${loadavg()
    .map((value) => value.toFixed(1))
    .join(" ")} at the end of the run.${
    mismatches.length
      ? `\nAnswer mismatches: ${mismatches.join("; ")}.`
      : "\nAll targets returned identical data for every request of the mix, one at a time and 3× concurrently (checked before the load)."
  }
`;
  process.stdout.write(`\n${header}\n${table}\n`);
  if (!args["no-record"]) {
    appendFileSync(join(REPO_ROOT, "bench", "RESULTS.md"), `\n${header}\n${table}\n`);
    process.stdout.write("\nappended to bench/RESULTS.md\n");
  }
} finally {
  await stopAll();
}
process.exit(0);
