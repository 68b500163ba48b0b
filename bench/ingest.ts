/**
 * `npm run bench -- ingest [--records 100000] [--webhooks 20000] [--rounds 3] [--no-record]`
 *
 * Inbound sync throughput, side by side in one run, in interleaved rounds (medians, min–max):
 * - poller: `records` Salesforce/PSA records (60 % Accounts, 40 % Contacts) in the Salesforce
 *   sandbox over real HTTP, full-loaded by the real connector (jsforce, Bulk API 2.0) and applied
 *   by the real engine (inbox → mappers → set-based upserts, source links, domain events);
 * - floor: a bare INSERT … ON CONFLICT of the same rows via unnest (one statement per 2,000);
 * - webhooks: `webhooks` signed Standard-Webhooks deliveries over HTTP into cdc-engine's receiver
 *   (24 concurrent senders; 2xx = durably in the inbox);
 * - lag: source change → visible in the hub for 300 updates through Change Data Capture.
 * Prints CPU (this process, 100 % = one core), peak RSS and the machine's load average, and
 * appends the table to bench/RESULTS.md.
 */
import { appendFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Applier, createIngest } from "@pshub/cdc";
import { closedWonHook, createSalesforceOrg, SALESFORCE_DEFAULTS } from "@pshub/cdc/salesforce";
import { startSandboxOrg } from "@pshub/cdc/sandbox/salesforce";
import { newWebhookSecret, WebhookSender } from "@pshub/cdc/sandbox/webhooks";
import { WebhookReceiver } from "@pshub/cdc/webhooks";
import {
  createDbClient,
  createLogger,
  recreateDatabase,
  resolveDatabaseUrl,
  schema,
} from "@pshub/db";
import { and, eq } from "drizzle-orm";
import { REPO_ROOT } from "./support/processes.ts";

const { values: args } = parseArgs({
  options: {
    records: { type: "string", default: "100000" },
    webhooks: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
    "no-record": { type: "boolean", default: false },
  },
});
const RECORDS = Number(args.records);
const WEBHOOKS = Number(args.webhooks);
const ROUNDS = Number(args.rounds);
const log = createLogger("bench-ingest", "warn");
const server = await resolveDatabaseUrl(log);
const url = await recreateDatabase(server.url, "pshub_bench_ingest");
const client = createDbClient(url, { max: 8 });
await client.db.insert(schema.legalEntity).values({
  code: "US",
  name: "Firm US",
  country: "US",
  currency: "USD",
  taxJurisdiction: "US-NY",
  invoicePrefix: "US-",
});
const loadSamples: number[] = [];
const loadTimer = setInterval(() => loadSamples.push(loadavg()[0]!), 1000);

async function resetHub() {
  await client.sql.unsafe(
    `truncate inbox_event, source_link, sync_cursor, domain_event, contact, customer restart identity cascade`,
  );
}

/** Runs fn, sampling this process's CPU and RSS. */
async function measure<T>(fn: () => Promise<T>) {
  const cpu0 = process.cpuUsage();
  let rss = process.memoryUsage().rss;
  const timer = setInterval(() => {
    rss = Math.max(rss, process.memoryUsage().rss);
  }, 50);
  const t0 = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return {
      value,
      seconds: ms / 1000,
      cpu: ((cpu.user + cpu.system) / 1000 / ms) * 100,
      rssMb: rss / 2 ** 20,
    };
  } finally {
    clearInterval(timer);
  }
}

// The source: one sandbox org with the records (Accounts and Contacts under them).
const { sandbox, auth } = await startSandboxOrg({ bulkPageSize: 2000 });
const org = sandbox.org;
const nAccounts = Math.round(RECORDS * 0.6);
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
      },
      { silent: true },
    ).Id,
  );
}
for (let i = 0; i < RECORDS - nAccounts; i++) {
  org.create(
    "Contact",
    {
      AccountId: accountIds[i % nAccounts],
      FirstName: "Pat",
      LastName: `Contact ${i}`,
      Email: `c${i}@x.example`,
    },
    { silent: true },
  );
}
const rowsForFloor = [...org.table("Account").values()].filter((r) => !r.IsDeleted);

function connectorSet(streaming: boolean) {
  return createSalesforceOrg(
    {
      ...SALESFORCE_DEFAULTS,
      auth,
      streaming,
      certinia: false,
      pageSize: 2000,
      bulkThreshold: 10_000,
      sweepEveryMs: 3_600_000,
    },
    client.db,
  );
}

async function pollerRound() {
  await resetHub();
  const sf = connectorSet(false);
  const connector = sf.connectors[0]!;
  const applier = new Applier(client, {
    mappers: connector.mappers,
    hooks: [closedWonHook({ autoConvert: true })],
    logger: log,
    batchSize: 2000,
  });
  const ingest = createIngest(client, connector.name);
  return measure(async () => {
    for (const object of ["Account", "Contact"]) {
      for (;;) {
        const [row] = await client.db
          .select({ cursor: schema.syncCursor.cursor })
          .from(schema.syncCursor)
          .where(sqlEq(connector.name, object));
        const res = await connector.pollOnce(object, {
          cursor: row?.cursor ?? {},
          ingest,
          signal: new AbortController().signal,
        });
        await applier.drain();
        if (!res.more) break;
      }
    }
    await applier.drain();
    const [{ n }] = (await client.sql`select count(*)::int as n from source_link`) as unknown as [
      { n: number },
    ];
    if (n !== RECORDS) throw new Error(`poller round applied ${n} of ${RECORDS}`);
    return n;
  });
}

function sqlEq(connector: string, object: string) {
  return and(eq(schema.syncCursor.connector, connector), eq(schema.syncCursor.object, object));
}

async function floorRound() {
  await client.sql.unsafe(`create table if not exists floor_customer (like customer including defaults including constraints); truncate floor_customer;
    create unique index if not exists floor_customer_name on floor_customer (name)`);
  return measure(async () => {
    for (let i = 0; i < rowsForFloor.length; i += 2000) {
      const chunk = rowsForFloor.slice(i, i + 2000);
      await client.sql`insert into floor_customer (name, currency, tax_jurisdiction)
        select * from unnest(${chunk.map((r) => String(r.Name))}::text[], ${chunk.map(() => "USD")}::text[], ${chunk.map((r) => String(r.Tax_Jurisdiction__c))}::text[])
        on conflict (name) do update set currency = excluded.currency, tax_jurisdiction = excluded.tax_jurisdiction`;
    }
    return rowsForFloor.length;
  });
}

async function webhookRound() {
  await client.sql.unsafe(`delete from inbox_event where source = 'webhooks'`);
  const secret = newWebhookSecret();
  const receiver = new WebhookReceiver({ client, secrets: [secret], logger: log });
  const port = await receiver.listen(0);
  const sender = new WebhookSender(`http://127.0.0.1:${port}/webhooks`, secret);
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const r = await measure(async () => {
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (next < WEBHOOKS) {
          const i = next++;
          const t0 = performance.now();
          const res = await sender.send("time_entry.approved", {
            id: `te-${i}`,
            project_id: "p1",
            resource_id: "r1",
            work_date: "2026-11-20",
            hours: "8.00",
            bill_rate: "150.00",
            currency: "USD",
            updated_at: new Date().toISOString(),
          });
          latencies.push(performance.now() - t0);
          if (res.status >= 300) failed++;
        }
      }),
    );
    return WEBHOOKS;
  });
  await receiver.close();
  next = 0;
  return { ...r, latencies, failed };
}

async function lagRun() {
  await resetHub();
  const sf = connectorSet(true);
  const connector = sf.connectors[0]!;
  connector.objects = ["Account"];
  const applier = new Applier(client, { mappers: connector.mappers, logger: log, batchSize: 500 });
  const ingest = createIngest(client, connector.name);
  // Full load first (the lag is measured on changes after it).
  for (;;) {
    const [row] = await client.db
      .select({ cursor: schema.syncCursor.cursor })
      .from(schema.syncCursor)
      .where(sqlEq(connector.name, "Account"));
    const res = await connector.pollOnce("Account", {
      cursor: row?.cursor ?? {},
      ingest,
      signal: new AbortController().signal,
    });
    if (!res.more) break;
  }
  await applier.drain();
  await connector.start!({ ingest, signal: new AbortController().signal });
  let applying = true;
  const loop = (async () => {
    while (applying) {
      await applier.drain();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const changedAt = new Map<string, number>();
  const seen = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const name = `Lag ${i}`;
    org.update("Account", accountIds[i]!, { Name: name });
    changedAt.set(name, performance.now());
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 60_000;
  while (seen.size < 300 && Date.now() < deadline) {
    const rows = await client.sql<
      { name: string }[]
    >`select name from customer where name like 'Lag %'`;
    const now = performance.now();
    for (const r of rows) if (!seen.has(r.name)) seen.set(r.name, now);
    await new Promise((r) => setTimeout(r, 10));
  }
  applying = false;
  await loop;
  await connector.stop();
  return [...seen].map(([name, at]) => at - changedAt.get(name)!);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const median = (xs: number[]) => pct(xs, 50);
const spread = (xs: number[], f = (x: number) => x.toFixed(0)) =>
  `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;

const poller: Awaited<ReturnType<typeof pollerRound>>[] = [];
const floor: Awaited<ReturnType<typeof floorRound>>[] = [];
const hooks: Awaited<ReturnType<typeof webhookRound>>[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  poller.push(await pollerRound());
  floor.push(await floorRound());
  hooks.push(await webhookRound());
  process.stdout.write(
    `round ${round}/${ROUNDS}: poller ${poller.at(-1)!.seconds.toFixed(1)} s, floor ${floor.at(-1)!.seconds.toFixed(2)} s, webhooks ${hooks.at(-1)!.seconds.toFixed(1)} s\n`,
  );
}
const lags = await lagRun();
clearInterval(loadTimer);
await sandbox.stop();
await client.close();

const rate = (n: number, r: { seconds: number }) => n / r.seconds;
const pollerRates = poller.map((r) => rate(RECORDS, r));
const floorRates = floor.map((r) => rate(rowsForFloor.length, r));
const hookRates = hooks.map((r) => rate(WEBHOOKS, r));
const hookLat = hooks.flatMap((h) => h.latencies);
const date = new Date().toISOString().slice(0, 16).replace("T", " ");
const header = `## ingest — ${date} UTC (${RECORDS.toLocaleString("en")} records, ${WEBHOOKS.toLocaleString("en")} webhooks, ${ROUNDS} interleaved rounds)`;
const table = [
  "| path | records/s (median, min–max) | end-to-end lag p50 / p99 | CPU (this process) | peak RSS |",
  "| --- | --- | --- | --- | --- |",
  `| poller: sandbox → jsforce Bulk 2.0 → inbox → applier → canonical | ${median(pollerRates).toFixed(0)} (${spread(pollerRates)}) | — (full load) | ${median(poller.map((r) => r.cpu)).toFixed(0)}% | ${Math.max(...poller.map((r) => r.rssMb)).toFixed(0)} MB |`,
  `| floor: INSERT … ON CONFLICT via unnest (accounts only) | ${median(floorRates).toFixed(0)} (${spread(floorRates)}) | — | ${median(floor.map((r) => r.cpu)).toFixed(0)}% | ${Math.max(...floor.map((r) => r.rssMb)).toFixed(0)} MB |`,
  `| webhooks: HTTP → verified → inbox (2xx) | ${median(hookRates).toFixed(0)} (${spread(hookRates)}) | ${pct(hookLat, 50).toFixed(1)} / ${pct(hookLat, 99).toFixed(1)} ms (receipt → durable) | ${median(hooks.map((r) => r.cpu)).toFixed(0)}% | ${Math.max(...hooks.map((r) => r.rssMb)).toFixed(0)} MB |`,
  `| CDC: source change → visible in the hub (300 updates, ${lags.length} seen) | — | ${pct(lags, 50).toFixed(0)} / ${pct(lags, 99).toFixed(0)} ms | — | — |`,
].join("\n");
const note = `poller vs floor: ${(median(floorRates) / median(pollerRates)).toFixed(1)}× slower than the bare insert (the poller does HTTP, CSV, the inbox, mapping, source links and domain events; the floor writes one table). Webhook failures: ${hooks.reduce((s, h) => s + h.failed, 0)}. Machine: ${availableParallelism()} CPU (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}; the sandbox, the CDC code and Postgres share it; load average during the run (1 min): median ${median(loadSamples).toFixed(1)}, max ${Math.max(...loadSamples).toFixed(1)} — a shared, busy machine (other engineers' builds and tests), so these are lower bounds.`;
process.stdout.write(`\n${header}\n${table}\n\n${note}\n`);
if (!args["no-record"]) {
  appendFileSync(join(REPO_ROOT, "bench", "RESULTS.md"), `\n${header}\n${table}\n\n${note}\n`);
  process.stdout.write("\nappended to bench/RESULTS.md\n");
}
