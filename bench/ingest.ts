/**
 * `npm run bench -- ingest [--records 100000] [--webhooks 20000] [--rounds 5] [--quick] [--no-record]
 *   [--database pshub_bench_ingest] [--port 0]
 *   [--receiver-process] [--watcher-process]`
 *
 * Inbound sync, side by side in one run, in interleaved rounds (medians with min–max):
 * - poller: `records` Salesforce + Certinia PSA records (Accounts with a hierarchy, Contacts,
 *   Opportunities, PSA projects, resources, timecards and expenses) in the Salesforce sandbox over
 *   real HTTP, full-loaded by the real SyncEngine (its poll loops, jsforce, Bulk API 2.0 → inbox →
 *   mappers → set-based upserts, source links, domain events) in a process of its own
 *   (bench/support/ingest-engine.ts);
 * - floor: a bare INSERT … ON CONFLICT via unnest of exactly the canonical rows the poller path
 *   wrote in the round before it (every table, every column), one statement per 2,000 rows;
 * - sandbox alone (a second floor): the same Bulk 2.0 pages read over HTTP and parsed by jsforce,
 *   nothing written;
 * - webhooks: `webhooks` signed Standard-Webhooks `time_entry.approved` deliveries over HTTP into
 *   the receiver in the engine process (24 concurrent senders; 2xx = durably in the inbox), applied
 *   there by the engine: send → 2xx, and send → applied in the hub (its `time_entry.synced`
 *   domain event committed, which is what the graph's subscriptions read);
 * - CDC lag: source change → committed in the hub (the row the graph reads) for 300 updates
 *   through Change Data Capture with the engine running.
 * The sandbox org, the senders, the floor and the watchers run in this process; the engine in
 * its own, so the RSS and CPU figures of the engine are its own (read from /proc). Prints the
 * machine's load average measured during the run; appends the table to bench/RESULTS.md.
 * `--quick`: 10,000 records, 2,000 webhooks, 5 rounds.
 * `--engine-cpu-prof <dir>`: the engine process runs under `node --cpu-prof` (profiles in <dir>;
 * summarise with bench/support/profile-summary.ts). `--poller-only`: only poller rounds (for a
 * profile or a correctness check; prints each round's time and records nothing).
 */
import { fork } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createSalesforceOrg, SALESFORCE_DEFAULTS } from "@pshub/cdc/salesforce";
import { startSandboxOrg } from "@pshub/cdc/sandbox/salesforce";
import { newWebhookSecret, WebhookSender } from "@pshub/cdc/sandbox/webhooks";
import {
  createDbClient,
  createLogger,
  recreateDatabase,
  resolveDatabaseUrl,
  schema,
} from "@pshub/db";
import { buildContract, buildCustomer, buildProject } from "@pshub/db/testing";
import type { EngineCommand, EngineReply, EngineSetup } from "./support/ingest-engine.ts";
import { REPO_ROOT } from "./support/processes.ts";

const { values: args } = parseArgs({
  options: {
    records: { type: "string" },
    webhooks: { type: "string" },
    rounds: { type: "string", default: "5" },
    quick: { type: "boolean", default: false },
    "no-record": { type: "boolean", default: false },
    /** The scratch database (recreated): two engineers' runs on one server need two names. */
    database: { type: "string", default: "pshub_bench_ingest" },
    /** The sandbox org listens here and the webhook receiver on the next port (0: any free). */
    port: { type: "string", default: "0" },
    /** The webhook receiver in a process of its own (not the engine's event loop). */
    "receiver-process": { type: "boolean", default: false },
    "engine-cpu-prof": { type: "string" },
    "poller-only": { type: "boolean", default: false },
    /** The watcher (when is a change visible in the hub) in a process of its own, not the
     *  senders' and sandbox's. */
    "watcher-process": { type: "boolean", default: false },
  },
});
const RECORDS = Number(args.records ?? (args.quick ? 10_000 : 100_000));
const WEBHOOKS = Number(args.webhooks ?? (args.quick ? 2_000 : 20_000));
const ROUNDS = Number(args.rounds);
const BATCH = 2000;
const log = createLogger("bench-ingest", "warn");
const server = await resolveDatabaseUrl(log);
const url = await recreateDatabase(server.url, args.database);
const client = createDbClient(url, { max: 8 });
const [usEntity] = await client.db
  .insert(schema.legalEntity)
  .values({
    code: "US",
    name: "Firm US",
    country: "US",
    currency: "USD",
    taxJurisdiction: "US-NY",
    invoicePrefix: "US-",
  })
  .returning();
await client.db
  .insert(schema.taxRate)
  .values({ jurisdiction: "US-NY", rate: "0.0800", validFrom: "2020-01-01" });

// ------------------------------------------------------------------ the engine's process
/** RSS (MB) and CPU time (s, user + system) of a process, from /proc. */
function procStats(pid: number): { rssMb: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: rssKb / 1024, cpuS: ticks / 100 };
}

/** Ticks (user + system) of a /proc stat line, and of its waited-for children when `reaped`. */
function ticksOf(stat: string, reaped: boolean): { ppid: number; ticks: number } {
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const own = Number(f[11]) + Number(f[12]);
  return { ppid: Number(f[1]), ticks: own + (reaped ? Number(f[13]) + Number(f[14]) : 0) };
}

// Postgres's CPU, read from /proc (so only when the server runs on this machine; NaN otherwise):
// - server: the postmaster's own and its exited backends' (cutime/cstime), plus the live
//   backends' — every database's, so other clients of a shared server are counted too;
// - database: only the backends connected to this bench's database (their process title names
//   it), followed across the measured span: what the hub's own statements cost Postgres.
const [{ pid: backendPid }] = (await client.sql`select pg_backend_pid() as pid`) as unknown as [
  { pid: number },
];
let postmasterPid = 0;
try {
  postmasterPid = ticksOf(readFileSync(`/proc/${backendPid}/stat`, "utf8"), false).ppid;
} catch {}
const ourBackend = new Map<number, boolean>();
function postgresTicks(): { server: number; perBackend: Map<number, number> } {
  const perBackend = new Map<number, number>();
  if (!postmasterPid) return { server: Number.NaN, perBackend };
  try {
    let server = ticksOf(readFileSync(`/proc/${postmasterPid}/stat`, "utf8"), true).ticks;
    const children = readFileSync(`/proc/${postmasterPid}/task/${postmasterPid}/children`, "utf8");
    for (const entry of children.split(" ")) {
      const pid = Number(entry);
      if (!pid) continue;
      try {
        const { ticks } = ticksOf(readFileSync(`/proc/${pid}/stat`, "utf8"), false);
        server += ticks;
        let ours = ourBackend.get(pid);
        if (ours === undefined) {
          ours = readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(` ${args.database} `);
          ourBackend.set(pid, ours);
        }
        if (ours) perBackend.set(pid, ticks);
      } catch {}
    }
    return { server, perBackend };
  } catch {
    return { server: Number.NaN, perBackend };
  }
}
/** Starts following Postgres's CPU; `sample()` as often as the span's timer ticks, `end()` → s. */
function postgresCpu() {
  const start = postgresTicks();
  const first = new Map(start.perBackend);
  const last = new Map(start.perBackend);
  const sample = () => {
    for (const [pid, ticks] of postgresTicks().perBackend) {
      // A backend that connected during the span counts from zero.
      if (!first.has(pid)) first.set(pid, 0);
      last.set(pid, ticks);
    }
  };
  const end = () => {
    const server = postgresTicks().server;
    sample();
    let database = 0;
    for (const [pid, ticks] of last) database += ticks - (first.get(pid) ?? 0);
    return { server: (server - start.server) / 100, database: database / 100 };
  };
  return { sample, end };
}

const PORT = Number(args.port);
const { sandbox, auth } = await startSandboxOrg({ bulkPageSize: BATCH, port: PORT });
const org = sandbox.org;
const webhookSecret = newWebhookSecret();
/** A forked helper process (bench/support/ingest-engine.ts) and a way to run its commands. */
async function helper(name: string) {
  const proc = fork(join(REPO_ROOT, "bench", "support", "ingest-engine.ts"), [], {
    execArgv: [
      "--import",
      "tsx",
      ...(args["engine-cpu-prof"]
        ? ["--cpu-prof", `--cpu-prof-dir=${args["engine-cpu-prof"]}`]
        : []),
    ],
    cwd: REPO_ROOT,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: {
      ...process.env,
      INGEST_BENCH_SETUP: JSON.stringify({
        databaseUrl: url,
        auth,
        batch: BATCH,
        webhookSecret,
        webhookPort: PORT === 0 ? 0 : PORT + 1,
      } satisfies EngineSetup),
    },
  });
  const replies = new Map<number, (reply: EngineReply) => void>();
  proc.on("message", (reply: EngineReply) => {
    replies.get(reply.id)?.(reply);
    replies.delete(reply.id);
  });
  const exited = new Promise<never>((_, reject) =>
    proc.once("exit", (code) => reject(new Error(`the ${name} process exited (${code})`))),
  );
  await Promise.race([new Promise<void>((resolve) => replies.set(0, () => resolve())), exited]);
  let commandId = 0;
  /** Runs one command in the process; rejects with its error. */
  const run = async (
    cmd: EngineCommand["cmd"],
    extra: Record<string, unknown> = {},
  ): Promise<EngineReply> => {
    const id = ++commandId;
    const reply = await Promise.race([
      new Promise<EngineReply>((resolve) => {
        replies.set(id, resolve);
        proc.send({ ...extra, id, cmd } as EngineCommand);
      }),
      exited,
    ]);
    if (!reply.ok) throw new Error(`${name} ${cmd}: ${reply.error}`);
    return reply;
  };
  return { proc, run };
}
const { proc: engineProcess, run: engine } = await helper("engine");
const receiverHelper = args["receiver-process"] ? await helper("receiver") : undefined;
const watcherHelper = args["watcher-process"] ? await helper("watcher") : undefined;
const enginePid = engineProcess.pid!;
const receiverPid = receiverHelper?.proc.pid;

// ------------------------------------------------------------------ load and RSS, sampled by us
const loadSamples: number[] = [];
const rssSamples: { at: number; mb: number }[] = [];
const t0 = performance.now();
const sampler = setInterval(() => {
  loadSamples.push(loadavg()[0]!);
  rssSamples.push({ at: (performance.now() - t0) / 1000, mb: procStats(enginePid).rssMb });
}, 1000);

/**
 * Runs fn, measuring wall time, the CPU of the engine process and of this one (100 % = one
 * core), and the engine's peak / end RSS.
 */
async function measure<T>(fn: () => Promise<T>) {
  const cpu0 = process.cpuUsage();
  const engine0 = procStats(enginePid);
  const receiver0 = receiverPid ? procStats(receiverPid).cpuS : 0;
  const pg = postgresCpu();
  let peak = engine0.rssMb;
  let ticks = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, procStats(enginePid).rssMb);
    // Every 500 ms: a backend that exits between two samples loses at most that much.
    if (++ticks % 5 === 0) pg.sample();
  }, 100);
  const start = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    const engine1 = procStats(enginePid);
    const benchCpuS = (cpu.user + cpu.system) / 1e6;
    // With --receiver-process the receiver's CPU counts as the engine's (it is the cdc service's).
    const receiverS = receiverPid ? procStats(receiverPid).cpuS - receiver0 : 0;
    const engineCpuS = engine1.cpuS - engine0.cpuS + receiverS;
    const postgresS = pg.end();
    return {
      value,
      seconds: ms / 1000,
      /** CPU seconds spent by the engine, this process and Postgres: work, whatever the load. */
      cpuS: {
        engine: engineCpuS,
        bench: benchCpuS,
        postgres: postgresS.database,
        postgresServer: postgresS.server,
      },
      cpu: ((cpu.user + cpu.system) / 1000 / ms) * 100,
      engineCpu: (engineCpuS * 1000 * 100) / ms,
      peakMb: Math.max(peak, engine1.rssMb),
      endMb: engine1.rssMb,
    };
  } finally {
    clearInterval(timer);
  }
}

// ------------------------------------------------------------------ the source org
const share = (p: number) => Math.max(1, Math.round(RECORDS * p));
const nProjects = Math.max(1, Math.min(50, share(0.005)));
const nResources = Math.max(1, Math.min(200, share(0.01)));
const nAccounts = share(0.15);
const nContacts = share(0.25);
const nOpportunities = share(0.15);
const nTimecards = share(0.3);
const nExpenses =
  RECORDS - nProjects - nResources - nAccounts - nContacts - nOpportunities - nTimecards;
if (nExpenses < 1) throw new Error(`--records ${RECORDS} is too few`);
const projectCode = (i: number) => `BENCH-P${i}`;
const accountIds: string[] = [];
for (let i = 0; i < nAccounts; i++) {
  accountIds.push(
    org.create(
      "Account",
      {
        Name: `Account ${i}`,
        CurrencyIsoCode: "USD",
        Legal_Entity__c: "US",
        Tax_Jurisdiction__c: "US-NY",
        Status__c: "Active",
        // A hierarchy: every tenth account is a subsidiary of an earlier one.
        ...(i % 10 === 9 ? { ParentId: accountIds[i - 9] } : {}),
      },
      { silent: true },
    ).Id,
  );
}
for (let i = 0; i < nContacts; i++) {
  org.create(
    "Contact",
    {
      AccountId: accountIds[i % nAccounts],
      FirstName: "Pat",
      LastName: `Contact ${i}`,
      Email: `c${i}@x.example`,
      Billing_Contact__c: i % 4 === 0,
    },
    { silent: true },
  );
}
const STAGES = ["Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review"];
for (let i = 0; i < nOpportunities; i++) {
  org.create(
    "Opportunity",
    {
      AccountId: accountIds[i % nAccounts],
      Name: `Deal ${i}`,
      StageName: STAGES[i % STAGES.length],
      Amount: 10_000 + (i % 90) * 1000,
      CurrencyIsoCode: "USD",
      CloseDate: "2027-03-31",
      Billing_Model__c: "Time and Materials",
      Legal_Entity__c: "US",
      Contract_Type__c: "Services",
    },
    { silent: true },
  );
}
const resourceIds: string[] = [];
for (let i = 0; i < nResources; i++) {
  resourceIds.push(
    org.create(
      "Contact",
      {
        FirstName: "Res",
        LastName: `Consultant ${i}`,
        Email: `res${i}@firm.example`,
        pse__Is_Resource__c: true,
        pse__Is_Resource_Active__c: true,
        pse__Resource_Role__c: "Consultant",
        Default_Bill_Rate__c: 150,
        pse__Default_Cost_Rate__c: 80,
        CurrencyIsoCode: "USD",
      },
      { silent: true },
    ).Id,
  );
}
const psaProjectIds: string[] = [];
for (let i = 0; i < nProjects; i++) {
  psaProjectIds.push(
    org.create(
      "pse__Proj__c",
      {
        Name: `Bench project ${i}`,
        pse__Project_ID__c: projectCode(i),
        pse__Stage__c: "In Progress",
        CurrencyIsoCode: "USD",
      },
      { silent: true },
    ).Id,
  );
}
// Timecards: one day each, on distinct (resource, week) pairs so every one is its own entry.
const monday = (week: number) =>
  new Date(Date.UTC(2026, 0, 5) + week * 7 * 86_400_000).toISOString().slice(0, 10);
for (let i = 0; i < nTimecards; i++) {
  org.create(
    "pse__Timecard_Header__c",
    {
      pse__Project__c: psaProjectIds[i % nProjects],
      pse__Resource__c: resourceIds[i % nResources],
      pse__Start_Date__c: monday(Math.floor(i / nResources) % 52),
      pse__Status__c: "Submitted",
      pse__Billable__c: true,
      pse__Monday_Hours__c: 1 + (i % 8),
      pse__Bill_Rate__c: 150,
      CurrencyIsoCode: "USD",
    },
    { silent: true },
  );
}
for (let i = 0; i < nExpenses; i++) {
  org.create(
    "pse__Expense__c",
    {
      pse__Project__c: psaProjectIds[i % nProjects],
      pse__Resource__c: resourceIds[i % nResources],
      pse__Amount__c: `${10 + (i % 500)}.${String(i % 100).padStart(2, "0")}`,
      pse__Expense_Date__c: monday(i % 52),
      pse__Type__c: "Travel",
      pse__Billable__c: true,
      pse__Status__c: "Submitted",
      CurrencyIsoCode: "USD",
    },
    { silent: true },
  );
}
const expected: Record<string, number> = {
  customer: nAccounts + 1, // + the holding the PSA projects belong to
  contact: nContacts,
  opportunity: nOpportunities,
  resource: nResources,
  project: nProjects,
  time_entry: nTimecards,
  expense: nExpenses,
};

// ------------------------------------------------------------------ the hub
const HUB_TABLES = [
  "customer",
  "contact",
  "opportunity",
  "resource",
  "project",
  "time_entry",
  "expense",
] as const;

/** An empty hub, except the PSA's projects (they originate in pshub: conversion creates them). */
async function resetHub() {
  await client.sql.unsafe(
    `truncate inbox_event, source_link, sync_cursor, sync_exception, domain_event, time_entry,
       expense, assignment, resource, milestone, project, contract, opportunity, contact, customer
       restart identity cascade`,
  );
  const customer = await buildCustomer(client.db, {
    name: "Bench holding",
    currency: "USD",
    legalEntityId: usEntity!.id,
    taxJurisdiction: "US-NY",
  });
  const contract = await buildContract(client.db, {
    customerId: customer.id,
    legalEntityId: usEntity!.id,
    currency: "USD",
  });
  for (let i = 0; i < nProjects; i++)
    await buildProject(client.db, {
      code: projectCode(i),
      name: `Bench project ${i}`,
      currency: "USD",
      contractId: contract.id,
      customerId: customer.id,
    });
}

function salesforceOrg(streaming: boolean) {
  return createSalesforceOrg(
    {
      ...SALESFORCE_DEFAULTS,
      auth,
      streaming,
      certinia: true,
      pageSize: BATCH,
      bulkThreshold: 10_000,
      sweepEveryMs: 3_600_000,
      pollIntervalMs: 3_600_000,
    },
    client.db,
  );
}

const countOf = async (q: string) =>
  Number(((await client.sql.unsafe(q)) as unknown as [{ n: string }])[0].n);

// The canonical rows of the last poller round: what the floor writes.
let floorRows: { table: string; columns: { name: string; type: string }[]; rows: string[][] }[] =
  [];

async function pollerRound() {
  await resetHub();
  const r = await measure(() => engine("poll"));
  // Correctness: every record arrived as the hub row it maps to, nothing failed or waits.
  for (const [table, n] of Object.entries(expected)) {
    const got = await countOf(
      table === "project"
        ? `select count(*) as n from source_link where entity_type = 'project'`
        : `select count(*) as n from ${table}`,
    );
    if (got !== n) throw new Error(`poller round: ${table} has ${got} rows, expected ${n}`);
  }
  const bad = await client.sql<{ status: string; reason: string }[]>`
    select status, reason from inbox_event where status = 'FAILED' or (status = 'RECEIVED')
    limit 3`;
  if (bad.length > 0) throw new Error(`poller round left inbox rows: ${JSON.stringify(bad)}`);
  floorRows = [];
  for (const table of HUB_TABLES) {
    const columns = await client.sql<{ name: string; type: string }[]>`
      select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
      where attrelid = ${table}::regclass and attnum > 0 and not attisdropped order by attnum`;
    const list = columns.map((c) => `"${c.name}"::text`).join(", ");
    const rows = (await client.sql
      .unsafe(`select ${list} from ${table}`, [], {
        prepare: false,
      })
      .values()) as unknown as string[][];
    floorRows.push({ table, columns, rows });
  }
  return r;
}

/** A PostgreSQL array literal of text values, NULL unquoted. */
const arrayLiteral = (values: (string | null)[]) =>
  `{${values.map((v) => (v === null ? "NULL" : `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)).join(",")}}`;

async function floorRound() {
  for (const { table } of floorRows) {
    await client.sql.unsafe(
      `create table if not exists floor_${table} (like ${table} including defaults);
       truncate floor_${table};
       create unique index if not exists floor_${table}_id on floor_${table} (id)`,
    );
  }
  const total = floorRows.reduce((n, t) => n + t.rows.length, 0);
  const r = await measure(async () => {
    for (const { table, columns, rows } of floorRows) {
      const names = columns.map((c) => `"${c.name}"`).join(", ");
      const unnest = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(", ");
      const sets = columns
        .filter((c) => c.name !== "id")
        .map((c) => `"${c.name}" = excluded."${c.name}"`)
        .join(", ");
      const text = `insert into floor_${table} (${names}) select * from unnest(${unnest})
        on conflict (id) do update set ${sets}`;
      for (let i = 0; i < rows.length; i += BATCH) {
        const chunk = rows.slice(i, i + BATCH);
        await client.sql.unsafe(
          text,
          columns.map((_, c) => arrayLiteral(chunk.map((row) => row[c] ?? null))),
        );
      }
    }
    return total;
  });
  const written = (
    await Promise.all(floorRows.map((t) => countOf(`select count(*) as n from floor_${t.table}`)))
  ).reduce((a, b) => a + b, 0);
  if (written !== total) throw new Error(`floor wrote ${written} rows of ${total}`);
  return { ...r, rows: total };
}

/** The sandbox and jsforce alone: the Bulk 2.0 pages of every object, read and parsed. */
async function sandboxRound() {
  const sf = salesforceOrg(false);
  let read = 0;
  const r = await measure(async () => {
    for (const connector of sf.connectors) {
      for (const object of connector.objects) {
        let cursor: Record<string, unknown> = {};
        for (;;) {
          let update: Record<string, unknown> | undefined;
          const res = await connector.pollOnce(object, {
            cursor,
            // Nothing is written: the records are counted and dropped.
            ingest: async (records, next) => {
              read += records.length;
              update = next?.cursor;
              return { received: records.length, duplicates: 0 };
            },
            signal: new AbortController().signal,
          });
          if (update) cursor = update;
          if (!res.more) break;
        }
      }
    }
    for (const c of sf.connectors) await c.stop();
    return read;
  });
  return r;
}

/**
 * Where the lag of each change went, from the wall-clock times of the change (`sent`), its 2xx
 * (`durable`, webhooks only) and when the watcher saw it applied (`seen`), and its inbox row's
 * received_at (the inbox transaction's start) and processed_at (the apply transaction's start):
 * - to inbox: change → the inbox transaction starts (HTTP, verify, receiver queue; for CDC the
 *   CometD delivery and the stream's queue);
 * - inbox commit: → 2xx (webhooks only);
 * - applier wait: → the apply transaction that took it starts (after the 2xx for webhooks);
 * - apply tx: → seen committed (the apply transaction, and the watcher's poll interval).
 * Also the apply transactions: rows per transaction (one processed_at each).
 */
async function lagPhases(
  wall: Map<string, { sent: number; durable?: number; seen?: number }>,
  query: string,
) {
  const rows = (await client.sql.unsafe(query)) as unknown as {
    ext: string;
    received: string;
    processed: string | null;
  }[];
  const toInbox: number[] = [];
  const commit: number[] = [];
  const wait: number[] = [];
  const apply: number[] = [];
  const perTx = new Map<string, number>();
  for (const row of rows) {
    const w = wall.get(row.ext);
    if (!w || w.seen === undefined || row.processed === null) continue;
    const received = Number(row.received);
    const processed = Number(row.processed);
    toInbox.push(received - w.sent);
    if (w.durable !== undefined) commit.push(w.durable - received);
    wait.push(processed - (w.durable ?? received));
    apply.push(w.seen - processed);
    perTx.set(row.processed, (perTx.get(row.processed) ?? 0) + 1);
  }
  return { toInbox, commit, wait, apply, batchSizes: [...perTx.values()] };
}
type LagPhases = Awaited<ReturnType<typeof lagPhases>> & { watcherGaps: number[] };

let webhookRounds = 0;
async function webhookRound() {
  await client.sql.unsafe(`delete from inbox_event where source = 'webhooks'`);
  const round = ++webhookRounds;
  const [top] = await client.sql<{ last: string }[]>`
    select coalesce(max(id), 0)::text as last from domain_event`;
  if (receiverHelper) await engine("webhooks-engine-start");
  const { port } = receiverHelper
    ? await receiverHelper.run("webhooks-receiver-start")
    : await engine("webhooks-start");
  const sender = new WebhookSender(`http://127.0.0.1:${port}/webhooks`, webhookSecret);
  const toDurable: number[] = [];
  const sentAt = new Map<string, number>();
  const toApplied: number[] = [];
  // Wall-clock times (ms since the epoch, the clock Postgres's now() reads on this machine) of
  // each delivery's send, 2xx and seen-applied: with the inbox row's received_at (the inbox
  // transaction's start) and processed_at (the apply transaction's start) they split the lag.
  const wall = new Map<string, { sent: number; durable?: number; seen?: number }>();
  let next = 0;
  let failed = 0;
  let resent = 0;
  let sending = true;
  // Applied = the entry's time_entry.synced event committed. One applier applies here, one batch
  // at a time, so event ids commit in order and `id > last` passes over nothing.
  let watermark = Number(top?.last ?? 0);
  let lastAppliedAt = 0;
  // How often the watcher saw the hub (a 20 ms sleep plus its query, on this busy process): a
  // change is seen up to one gap after it committed, so this bounds the bench's own share.
  const watcherGaps: number[] = [];
  let lastPoll = 0;
  if (watcherHelper)
    await watcherHelper.run("watch-start", { watch: "webhooks", after: watermark });
  const watching = (async () => {
    const deadline = () => (sending ? Number.POSITIVE_INFINITY : doneSendingAt + 120_000);
    if (watcherHelper) {
      // The watcher process notes when each is visible; here only: until every one is applied.
      while (performance.now() < deadline()) {
        const applied = await countOf(
          `select count(*) as n from inbox_event where source = 'webhooks' and status = 'APPLIED'`,
        );
        if (applied >= WEBHOOKS) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const { seen = [], gaps = [] } = await watcherHelper.run("watch-stop");
      watcherGaps.push(...gaps);
      const perfNow = performance.now();
      const wallNow = Date.now();
      for (const [ext, at] of seen) {
        const w = wall.get(ext);
        if (!w) continue;
        w.seen = at;
        toApplied.push(at - w.sent);
        lastAppliedAt = Math.max(lastAppliedAt, perfNow - (wallNow - at));
      }
      return;
    }
    while (toApplied.length < WEBHOOKS && performance.now() < deadline()) {
      const rows = await client.sql<{ id: string; ext: string }[]>`
        select id::text, payload->>'externalId' as ext from domain_event
        where id > ${watermark} and type = 'time_entry.synced' order by id`;
      const now = performance.now();
      const seenWall = Date.now();
      if (lastPoll) watcherGaps.push(now - lastPoll);
      lastPoll = now;
      for (const row of rows) {
        watermark = Math.max(watermark, Number(row.id));
        const at = sentAt.get(row.ext);
        if (at === undefined) continue;
        sentAt.delete(row.ext);
        toApplied.push(now - at);
        lastAppliedAt = now;
        const w = wall.get(row.ext);
        if (w) w.seen = seenWall;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  let doneSendingAt = 0;
  const started = performance.now();
  const r = await measure(async () => {
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (next < WEBHOOKS) {
          const i = next++;
          const id = `wh${round}-${i}`;
          const t = performance.now();
          sentAt.set(id, t);
          const w: { sent: number; durable?: number; seen?: number } = { sent: Date.now() };
          wall.set(id, w);
          const data = {
            id,
            project_code: projectCode(i % nProjects),
            resource_email: `res${i % nResources}@firm.example`,
            work_date: new Date(Date.UTC(2025, 0, 1) + (i % 300) * 86_400_000)
              .toISOString()
              .slice(0, 10),
            hours: `${1 + (i % 8)}.00`,
            bill_rate: "150.00",
            currency: "USD",
            updated_at: new Date().toISOString(),
          };
          // A keep-alive socket the receiver closed as it was reused ("other side closed") is
          // delivered again with the same webhook-id, as a sender retries: the receiver dedupes.
          const delivery = { id: `msg_${id}`, timestamp: new Date() };
          let res: Awaited<ReturnType<typeof sender.send>>;
          for (let attempt = 1; ; attempt++) {
            try {
              res = await sender.send("time_entry.approved", data, delivery);
              break;
            } catch (error) {
              if (attempt >= 3) throw error;
              resent++;
            }
          }
          toDurable.push(performance.now() - t);
          w.durable = Date.now();
          if (res.status >= 300) failed++;
        }
      }),
    );
    doneSendingAt = performance.now();
    sending = false;
    await watching;
    return WEBHOOKS;
  });
  await receiverHelper?.run("webhooks-stop");
  await engine("webhooks-stop");
  const recorded = await countOf(
    `select count(*) as n from inbox_event where source = 'webhooks' and object = 'time_entry'
       and status = 'APPLIED'`,
  );
  if (recorded !== WEBHOOKS || toApplied.length !== WEBHOOKS)
    throw new Error(
      `webhooks: ${recorded} applied in the inbox, ${toApplied.length} seen applied, of ${WEBHOOKS}`,
    );
  const phases = await lagPhases(
    wall,
    `select external_id as ext, extract(epoch from received_at) * 1000 as received,
       extract(epoch from processed_at) * 1000 as processed
     from inbox_event where source = 'webhooks' and object = 'time_entry'`,
  );
  return {
    ...r,
    phases: { ...phases, watcherGaps },
    sendSeconds: (doneSendingAt - started) / 1000,
    appliedSeconds: (lastAppliedAt - started) / 1000,
    toDurable,
    toApplied,
    failed,
    resent,
  };
}

/** Source change → committed in the hub, through CDC with the engine running. */
async function lagRun() {
  await resetHub();
  await engine("cdc-start");
  const changedAt = new Map<string, number>();
  const seen = new Map<string, number>();
  const wall = new Map<string, { sent: number; seen?: number }>();
  const watcherGaps: number[] = [];
  let lastPoll = 0;
  if (watcherHelper) await watcherHelper.run("watch-start", { watch: "cdc", after: 0 });
  const watching = (async () => {
    const deadline = Date.now() + 120_000;
    if (watcherHelper) {
      while (
        Date.now() < deadline &&
        (await countOf(`select count(*) as n from customer where name like 'Lag %'`)) < 300
      )
        await new Promise((r) => setTimeout(r, 200));
      const { seen: list = [], gaps = [] } = await watcherHelper.run("watch-stop");
      watcherGaps.push(...gaps);
      const perfNow = performance.now();
      const wallNow = Date.now();
      for (const [name, at] of list) {
        const w = wall.get(name);
        if (!w) continue;
        w.seen = at;
        seen.set(name, perfNow - (wallNow - at));
      }
      return;
    }
    while (seen.size < 300 && Date.now() < deadline) {
      const rows = await client.sql<
        { name: string }[]
      >`select name from customer where name like 'Lag %'`;
      const now = performance.now();
      const nowWall = Date.now();
      if (lastPoll) watcherGaps.push(now - lastPoll);
      lastPoll = now;
      for (const r of rows) {
        if (seen.has(r.name)) continue;
        seen.set(r.name, now);
        const w = wall.get(r.name);
        if (w) w.seen = nowWall;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  for (let i = 0; i < 300; i++) {
    const name = `Lag ${i}`;
    changedAt.set(name, performance.now());
    wall.set(name, { sent: Date.now() });
    org.update("Account", accountIds[i % nAccounts]!, { Name: name });
    await new Promise((r) => setTimeout(r, 20));
  }
  await watching;
  await engine("cdc-stop");
  // The stream's inbox rows of these updates (one per change event; the name is in its body).
  const phases = await lagPhases(
    wall,
    `select payload->'fields'->>'Name' as ext, extract(epoch from received_at) * 1000 as received,
       extract(epoch from processed_at) * 1000 as processed
     from inbox_event where object = 'Account' and payload->'fields'->>'Name' like 'Lag %'
       and dedupe_key like 'cdc:%'`,
  );
  return {
    lags: [...seen].map(([name, at]) => at - changedAt.get(name)!),
    phases: { ...phases, watcherGaps },
  };
}

// ------------------------------------------------------------------ the run
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const median = (xs: number[]) => pct(xs, 50);
const spread = (xs: number[], f = (x: number) => x.toFixed(0)) =>
  `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
const fmt = (x: number) => x.toLocaleString("en", { maximumFractionDigits: 0 });
const p5099 = (xs: number[]) => `${pct(xs, 50).toFixed(0)} / ${pct(xs, 99).toFixed(0)}`;
const phaseText = (ps: LagPhases[]) => {
  const all = (k: Exclude<keyof LagPhases, "batchSizes" | "watcherGaps">) =>
    ps.flatMap((p) => p[k]);
  const sizes = ps.flatMap((p) => p.batchSizes);
  return [
    `change → inbox transaction ${p5099(all("toInbox"))}`,
    ...(all("commit").length > 0 ? [`inbox commit → 2xx ${p5099(all("commit"))}`] : []),
    `→ apply transaction starts ${p5099(all("wait"))}`,
    `apply transaction → seen ${p5099(all("apply"))} (the bench's watcher looked every ${p5099(ps.flatMap((p) => p.watcherGaps))})`,
    `${sizes.length} apply transactions, rows each median ${median(sizes)} (${spread(sizes)})`,
  ].join(", ");
};

const poller: Awaited<ReturnType<typeof pollerRound>>[] = [];
const floor: Awaited<ReturnType<typeof floorRound>>[] = [];
const alone: Awaited<ReturnType<typeof sandboxRound>>[] = [];
const hooks: Awaited<ReturnType<typeof webhookRound>>[] = [];
const rssRounds: string[] = [];
if (args["poller-only"]) {
  for (let round = 1; round <= ROUNDS; round++) {
    const p = await pollerRound();
    process.stdout.write(
      `poller round ${round}/${ROUNDS}: ${p.seconds.toFixed(1)} s (${fmt(RECORDS / p.seconds)} records/s), CPU s engine ${p.cpuS.engine.toFixed(1)} / Postgres ${p.cpuS.postgres.toFixed(1)}, engine RSS peak ${p.peakMb.toFixed(0)} MB, load ${loadavg()[0]!.toFixed(1)}\n`,
    );
  }
  clearInterval(sampler);
  await receiverHelper?.run("exit");
  await engine("exit");
  await sandbox.stop();
  await client.close();
  await server.stop();
  process.exit(0);
}
for (let round = 1; round <= ROUNDS; round++) {
  // Interleaved, and the order rotates so no path always runs on a warmer machine.
  // Round 1 starts with the poller: the floor writes the rows of the latest poller round.
  const order = ["poller", "floor", "sandbox", "webhooks"];
  for (let k = 0; k < round - 1; k++) order.push(order.shift()!);
  for (const path of order) {
    if (path === "poller") poller.push(await pollerRound());
    else if (path === "floor") floor.push(await floorRound());
    else if (path === "sandbox") alone.push(await sandboxRound());
    else hooks.push(await webhookRound());
  }
  const p = poller.at(-1)!;
  const h = hooks.at(-1)!;
  rssRounds.push(`${p.peakMb.toFixed(0)}/${p.endMb.toFixed(0)}`);
  process.stdout.write(
    `round ${round}/${ROUNDS} (${order.join(", ")}): poller ${p.seconds.toFixed(1)} s, floor ${floor.at(-1)!.seconds.toFixed(2)} s, sandbox alone ${alone.at(-1)!.seconds.toFixed(1)} s, webhooks sent ${h.sendSeconds.toFixed(1)} s / applied ${h.appliedSeconds.toFixed(1)} s, engine RSS ${procStats(enginePid).rssMb.toFixed(0)} MB, load ${loadavg()[0]!.toFixed(1)}\n  webhook lag by phase: ${phaseText([h.phases])}\n`,
  );
}
const { lags, phases: cdcPhases } = await lagRun();
clearInterval(sampler);
await receiverHelper?.run("exit");
await watcherHelper?.run("exit");
await engine("exit");
await sandbox.stop();
await client.close();
await server.stop();

const rate = (n: number, r: { seconds: number }) => n / r.seconds;
const pollerRates = poller.map((r) => rate(RECORDS, r));
const floorRates = floor.map((r) => rate(r.rows, r));
const aloneRates = alone.map((r) => rate(r.value, r));
const sentRates = hooks.map((r) => WEBHOOKS / r.sendSeconds);
const appliedRates = hooks.map((r) => WEBHOOKS / r.appliedSeconds);
const toDurable = hooks.flatMap((h) => h.toDurable);
const toApplied = hooks.flatMap((h) => h.toApplied);
const floorRowCount = floor[0]?.rows ?? 0;
const rssFirst = rssSamples.slice(0, Math.max(1, Math.floor(rssSamples.length / 4)));
const rssLast = rssSamples.slice(-Math.max(1, Math.floor(rssSamples.length / 4)));
const maxOf = (xs: { mb: number }[]) => Math.max(...xs.map((x) => x.mb));
const pctCell = (xs: number[]) => `${median(xs).toFixed(0)}%`;
const date = new Date().toISOString().slice(0, 16).replace("T", " ");
const header = `## ingest — ${date} UTC (${fmt(RECORDS)} Salesforce/PSA records, ${fmt(WEBHOOKS)} webhooks, ${ROUNDS} interleaved rounds)`;
const perRound = (a: number[], b: number[]) => a.map((x, i) => x / b[i]!);
const table = [
  "| path | records/s (median, min–max) | lag p50 / p99 | CPU: engine process / bench process | engine RSS peak (max of rounds) |",
  "| --- | --- | --- | --- | --- |",
  `| poller: sandbox → jsforce Bulk 2.0 → SyncEngine (inbox → mappers → canonical rows, links, events) | ${fmt(median(pollerRates))} (${spread(pollerRates)}) | — (full load) | ${pctCell(poller.map((r) => r.engineCpu))} / ${pctCell(poller.map((r) => r.cpu))} | ${Math.max(...poller.map((r) => r.peakMb)).toFixed(0)} MB |`,
  `| floor: INSERT … ON CONFLICT via unnest of the same ${fmt(floorRowCount)} canonical rows (7 tables) | ${fmt(median(floorRates))} (${spread(floorRates)}) | — | — / ${pctCell(floor.map((r) => r.cpu))} | — |`,
  `| sandbox alone: the same Bulk 2.0 pages over HTTP, parsed by jsforce (in the bench process), nothing written | ${fmt(median(aloneRates))} (${spread(aloneRates)}) | — | — / ${pctCell(alone.map((r) => r.cpu))} | — |`,
  `| webhooks: HTTP → verified → inbox (2xx), 24 senders${receiverHelper ? " (receiver in a process of its own)" : ""} | ${fmt(median(sentRates))} (${spread(sentRates)}) | ${pct(toDurable, 50).toFixed(0)} / ${pct(toDurable, 99).toFixed(0)} ms (send → 2xx = durable) | ${pctCell(hooks.map((r) => r.engineCpu))} / ${pctCell(hooks.map((r) => r.cpu))} | ${Math.max(...hooks.map((r) => r.peakMb)).toFixed(0)} MB |`,
  `| webhooks: send → applied in the hub (time_entry.synced committed${watcherHelper ? "; seen by a watcher process of its own" : ""}) | ${fmt(median(appliedRates))} (${spread(appliedRates)}) | ${pct(toApplied, 50).toFixed(0)} / ${pct(toApplied, 99).toFixed(0)} ms | (same run) | |`,
  `| CDC: source change → committed in the hub (300 updates, 50/s, ${lags.length} seen${watcherHelper ? " by a watcher process of its own" : ""}) | — | ${pct(lags, 50).toFixed(0)} / ${pct(lags, 99).toFixed(0)} ms | — | — |`,
].join("\n");
/** CPU seconds (engine + bench + Postgres) per 1,000 records: the work, median (min–max). */
type CpuS = { engine: number; bench: number; postgres: number; postgresServer: number };
const work = (rs: { cpuS: CpuS }[], n: number[]) => {
  const per = rs.map((r, i) => ((r.cpuS.engine + r.cpuS.bench + r.cpuS.postgres) * 1000) / n[i]!);
  const parts = (k: keyof CpuS) => median(rs.map((r, i) => (r.cpuS[k] * 1000) / n[i]!)).toFixed(2);
  return `${median(per).toFixed(2)} (${spread(per, (x) => x.toFixed(2))}) s = engine ${parts("engine")} + bench ${parts("bench")} + Postgres ${parts("postgres")} (the whole server meanwhile: ${parts("postgresServer")})`;
};
const vsFloor = perRound(floorRates, pollerRates);
const vsAlone = perRound(aloneRates, pollerRates);
const note = [
  `poller vs floor: ${(median(floorRates) / median(pollerRates)).toFixed(1)}× (medians; per round ${spread(vsFloor, (x) => x.toFixed(1))}×; the floor writes ${fmt(floorRowCount)} rows for ${fmt(RECORDS)} records). Poller vs sandbox alone: ${(median(aloneRates) / median(pollerRates)).toFixed(1)}× (per round ${spread(vsAlone, (x) => x.toFixed(1))}×). Webhook failures: ${hooks.reduce((n, x) => n + x.failed, 0)}; deliveries sent again after the receiver closed a reused keep-alive socket: ${hooks.reduce((n, x) => n + x.resent, 0)}.`,
  `CPU seconds per 1,000 records (engine process + bench process + Postgres = the backends of this bench's database; the work each path does, less sensitive to the load than its wall time; the whole server's CPU, other databases' clients included, in brackets): poller ${work(
    poller,
    poller.map(() => RECORDS),
  )}; floor ${work(
    floor,
    floor.map((r) => r.rows),
  )}; sandbox alone ${work(
    alone,
    alone.map((r) => r.value),
  )}; webhooks (sent and applied) ${work(
    hooks,
    hooks.map(() => WEBHOOKS),
  )}.`,
  `Where the lag goes (p50 / p99 ms per phase, from the inbox rows' received_at and processed_at — the start of the inbox and of the apply transaction — and the bench's wall clock): webhooks ${phaseText(hooks.map((h) => h.phases))}; CDC ${phaseText([cdcPhases])}.`,
  `RSS of the engine process alone (the sandbox, senders and floor run in the bench process), poller rounds peak/end MB: ${rssRounds.join(", ")}; sampled every second over the run: max ${maxOf(rssFirst).toFixed(0)} MB in the first quarter, ${maxOf(rssLast).toFixed(0)} MB in the last.`,
  `Postgres: ${server.embedded ? "embedded, this bench's own server (no other clients; CPU shared with the machine)" : "the server at DATABASE_URL (shared with whatever else uses it)"}. Machine: ${availableParallelism()} CPU (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}; the bench process, the engine process and Postgres share it; load average (1 min) measured during the run: median ${median(loadSamples).toFixed(1)}, min ${Math.min(...loadSamples).toFixed(1)}, max ${Math.max(...loadSamples).toFixed(1)}. Wall time of the run: ${((performance.now() - t0) / 1000).toFixed(0)} s.`,
].join("\n");
process.stdout.write(`\n${header}\n${table}\n\n${note}\n`);
if (!args["no-record"]) {
  appendFileSync(join(REPO_ROOT, "bench", "RESULTS.md"), `\n${header}\n${table}\n\n${note}\n`);
  process.stdout.write("\nappended to bench/RESULTS.md\n");
}
process.exit(0);
