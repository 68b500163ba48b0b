/**
 * `npm run bench -- outbound [--commands 10000] [--rounds 5] [--faults 0,0.2] [--concurrency 16]
 *   [--no-record]`
 *
 * The outbound worker (cdc/outbound: SKIP LOCKED claims, the command's handler, retries with
 * backoff and jitter, a breaker, the outcome committed per command) draining `commands`
 * `customer.upsert` commands (NetSuite `PUT /record/v1/customer/eid:<hub id>`, one request each)
 * against the NetSuite sandbox, side by side with the floor: the same PUT requests from a plain
 * `fetch` loop at the same concurrency, no queue, no database writes, a failed request re-sent at
 * once. Injected transient faults: `rate` of all requests answer 503.
 *
 * Each run gets a fresh copy of a template database holding the customers and the PENDING
 * commands (CREATE DATABASE … TEMPLATE) and a fresh sandbox (in this process, shared by both
 * sides). Per fault rate and round, pshub and the floor run back to back, the order swapping each
 * round. Reported per side: commands/s, time to drain, requests sent, retries per command,
 * duplicates (ERP records created beyond one per external id, plus — for pshub — commands that
 * succeeded more than once: must be 0). Load average: sampled by this script before every run.
 */
import { appendFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { NetSuiteClient } from "@pshub/cdc/netsuite/client";
import { netsuiteHandlers } from "@pshub/cdc/outbound/netsuite";
import { OutboundWorker } from "@pshub/cdc/outbound/worker";
import { NetSuiteSandbox } from "@pshub/cdc/sandbox/netsuite";
import {
  createDbClient,
  createLogger,
  recreateDatabase,
  resolveDatabaseUrl,
  withDatabase,
} from "@pshub/db";
import postgres from "postgres";
import { REPO_ROOT } from "./support/processes.ts";
import { median, spread } from "./support/stats.ts";

const { values: args } = parseArgs({
  options: {
    commands: { type: "string", default: "10000" },
    rounds: { type: "string", default: "5" },
    faults: { type: "string", default: "0,0.2" },
    concurrency: { type: "string", default: "16" },
    "no-record": { type: "boolean", default: false },
  },
});
const log = createLogger("bench-outbound");
const N = Number(args.commands);
const rounds = Math.max(1, Number(args.rounds));
const rates = String(args.faults).split(",").map(Number);
const concurrency = Number(args.concurrency);
const TOKEN = "bench-outbound-token";
/** The worker's settings for the run (short backoff: the faults are brief). */
const WORKER = {
  backoffBaseMs: 10,
  backoffMaxMs: 200,
  breakerThreshold: 20,
  halfOpenAfterMs: 1000,
};

const loads: number[] = [];
const sampleLoad = () => {
  const value = loadavg()[0] ?? Number.NaN;
  loads.push(value);
  return value;
};

interface RunResult {
  seconds: number;
  requests: number;
  retries: number;
  duplicates: number;
  breakerRejections?: number;
}

const database = await resolveDatabaseUrl(log);
const serverUrl = database.url;
const TEMPLATE = "pshub_bench_outbound_tpl";

async function buildTemplate() {
  const url = await recreateDatabase(serverUrl, TEMPLATE);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`
      insert into legal_entity (code, name, country, currency, tax_jurisdiction, invoice_prefix)
      values ('BENCH', 'Bench Ltd', 'US', 'USD', 'BENCH', 'B-');
      insert into customer (name, currency, billing_email, legal_entity_id)
      select 'Customer ' || lpad(i::text, 6, '0'), 'USD', 'billing' || i || '@bench.test',
        (select id from legal_entity where code = 'BENCH')
      from generate_series(1, ${N}) as i;
      insert into outbound_command (target, kind, idempotency_key, entity_type, entity_id, payload, max_attempts)
      select 'ERP', 'customer.upsert', 'erp:customer.upsert:' || id, 'customer', id,
        jsonb_build_object('customerId', id), 1000
      from customer;
      analyze;`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function freshCopy(name: string): Promise<string> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.unsafe(`create database "${name}" template "${TEMPLATE}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  return withDatabase(serverUrl, name);
}

async function dropDatabase(name: string) {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

async function sandboxWith(rate: number) {
  const sandbox = new NetSuiteSandbox({ accessToken: TOKEN });
  const baseUrl = await sandbox.listen(0);
  if (rate > 0) sandbox.down({ status: 503 }, rate);
  return { sandbox, baseUrl };
}

/** ERP records beyond one per external id. */
function erpDuplicates(sandbox: NetSuiteSandbox): number {
  const rows = sandbox.rows("customer") ?? [];
  return rows.length - new Set(rows.map((r) => r.externalid)).size;
}

async function runPshub(rate: number): Promise<RunResult> {
  const name = "pshub_bench_outbound_run";
  const url = await freshCopy(name);
  const client = createDbClient(url, { max: concurrency + 4, applicationName: "bench-outbound" });
  const { sandbox, baseUrl } = await sandboxWith(rate);
  try {
    const worker = new OutboundWorker({
      client,
      handlers: netsuiteHandlers(
        new NetSuiteClient({ baseUrl, auth: { accessToken: TOKEN }, timeoutMs: 5000 }),
      ),
      targets: {
        ERP: {
          concurrency,
          breakerThreshold: WORKER.breakerThreshold,
          halfOpenAfterMs: WORKER.halfOpenAfterMs,
        },
      },
      backoffBaseMs: WORKER.backoffBaseMs,
      backoffMaxMs: WORKER.backoffMaxMs,
      pollMs: 10,
      workerId: "bench",
    });
    const started = performance.now();
    await worker.drain(1_800_000);
    const seconds = (performance.now() - started) / 1000;
    const [check] = await client.sql<{ succeeded: number; attempts: number }[]>`
      select count(*) filter (where state = 'SUCCEEDED')::int as succeeded,
        coalesce(sum(attempts), 0)::int as attempts from outbound_command`;
    if (check!.succeeded !== N) throw new Error(`pshub: ${check!.succeeded} of ${N} succeeded`);
    return {
      seconds,
      requests: sandbox.requests.length + sandbox.faultsServed,
      retries: worker.stats.retried,
      // A command run to success more than once would show as successes beyond the commands.
      duplicates: erpDuplicates(sandbox) + (worker.stats.succeeded - N),
      breakerRejections: worker.stats.rejectedByBreaker,
    };
  } finally {
    await client.close();
    await sandbox.close();
    await dropDatabase(name);
  }
}

async function runFloor(rate: number): Promise<RunResult> {
  const name = "pshub_bench_outbound_run";
  const url = await freshCopy(name);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const { sandbox, baseUrl } = await sandboxWith(rate);
  try {
    // The same bodies the handler sends (cdc/outbound/netsuite.ts upsertCustomer), read up front.
    const customers = await sql<
      { id: string; name: string; currency: string; billing_email: string | null }[]
    >`select id, name, currency, billing_email from customer order by id`;
    let next = 0;
    let retries = 0;
    const started = performance.now();
    const loop = async () => {
      for (;;) {
        const c = customers[next++];
        if (!c) return;
        const body = JSON.stringify({
          externalId: c.id,
          companyName: c.name,
          currency: { refName: c.currency },
          ...(c.billing_email ? { email: c.billing_email } : {}),
        });
        for (;;) {
          const res = await fetch(
            `${baseUrl}/services/rest/record/v1/customer/eid:${encodeURIComponent(c.id)}`,
            {
              method: "PUT",
              headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
              body,
            },
          );
          await res.arrayBuffer();
          if (res.ok) break;
          if (res.status !== 429 && res.status < 500) throw new Error(`floor: ${res.status}`);
          retries++;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    const seconds = (performance.now() - started) / 1000;
    const created = sandbox.rows("customer")?.length ?? 0;
    if (created !== N) throw new Error(`floor: ${created} of ${N} customers in the ERP`);
    return {
      seconds,
      requests: sandbox.requests.length + sandbox.faultsServed,
      retries,
      duplicates: erpDuplicates(sandbox),
    };
  } finally {
    await sql.end({ timeout: 5 });
    await sandbox.close();
    await dropDatabase(name);
  }
}

log.info({ commands: N, rounds, rates, concurrency }, "building the template database");
await buildTemplate();
const results = new Map<string, RunResult[]>();
const loadAt = new Map<string, number[]>();
for (let round = 0; round < rounds; round++) {
  for (const rate of rates) {
    const sides = round % 2 === 0 ? ["pshub", "floor"] : ["floor", "pshub"];
    for (const side of sides) {
      const key = `${side}@${rate}`;
      const load = sampleLoad();
      loadAt.set(key, [...(loadAt.get(key) ?? []), load]);
      const result = side === "pshub" ? await runPshub(rate) : await runFloor(rate);
      results.set(key, [...(results.get(key) ?? []), result]);
      log.info({ round: round + 1, side, rate, load, ...result }, "run");
    }
  }
}
await dropDatabase(TEMPLATE);

const f0 = (v: number) => v.toFixed(0);
const f1 = (v: number) => v.toFixed(1);
const f2 = (v: number) => v.toFixed(2);
const lines = [
  "| faults | side | commands/s | time to drain (s) | requests | retries / command | duplicates | breaker rejections | load (1 min) |",
  "|---|---|---|---|---|---|---|---|---|",
];
for (const rate of rates) {
  for (const side of ["pshub", "floor"]) {
    const rs = results.get(`${side}@${rate}`) ?? [];
    lines.push(
      `| ${f0(rate * 100)} % 503 | ${side === "pshub" ? "pshub worker" : "floor (fetch loop)"} | ${spread(
        rs.map((r) => N / r.seconds),
        f0,
      )} | ${spread(
        rs.map((r) => r.seconds),
        f1,
      )} | ${spread(
        rs.map((r) => r.requests),
        f0,
      )} | ${spread(
        rs.map((r) => r.retries / N),
        f2,
      )} | ${Math.max(...rs.map((r) => r.duplicates))} (max) | ${
        side === "pshub"
          ? spread(
              rs.map((r) => r.breakerRejections ?? 0),
              f0,
            )
          : "—"
      } | ${spread(loadAt.get(`${side}@${rate}`) ?? [], f1)} |`,
    );
  }
  const ratios = (results.get(`pshub@${rate}`) ?? []).map(
    (r, i) => r.seconds / (results.get(`floor@${rate}`)?.[i]?.seconds ?? Number.NaN),
  );
  lines.push(
    `| ${f0(rate * 100)} % 503 | pshub / floor time (per round) | | ${spread(ratios, f1)}× | | | | | |`,
  );
}
const table = lines.join("\n");
const header = `### outbound — ${new Date().toISOString().slice(0, 10)} (${N.toLocaleString("en-US")} customer.upsert commands, ${rounds} interleaved rounds, concurrency ${concurrency})

\`npm run bench -- outbound\`. pshub: the OutboundWorker with the NetSuite handlers (backoff ${WORKER.backoffBaseMs}–${WORKER.backoffMaxMs} ms with jitter, breaker after ${WORKER.breakerThreshold} consecutive transient failures, half-open after ${WORKER.halfOpenAfterMs} ms), each command claimed, sent and committed (SUCCEEDED + the ERP link) on its own. Floor: the same PUT requests from a fetch loop, a failed one re-sent at once, nothing written. Both against the NetSuite sandbox in the bench process; fresh database and sandbox per run. Cells: median (min–max) over the rounds; duplicates must be 0.
Machine: ${availableParallelism()} CPU (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}; Postgres on the same cores. Load average (1 min), sampled by this script before every run: median ${f1(median(loads))}, min ${f1(Math.min(...loads))}, max ${f1(Math.max(...loads))} (${loads.length} samples).
`;
process.stdout.write(`\n${header}\n${table}\n`);
if (!args["no-record"]) {
  appendFileSync(join(REPO_ROOT, "bench", "RESULTS.md"), `\n${header}\n${table}\n`);
  process.stdout.write("\nappended to bench/RESULTS.md\n");
}
await database.stop();
process.exit(0);
