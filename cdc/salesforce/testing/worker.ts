/**
 * A CDC process for the crash test: the real engine (leader locks, ingest, applier) with the
 * Salesforce connector, pointed at a sandbox. argv[2] = JSON { databaseUrl, auth, objects }.
 * Runs until killed (the test kills it with SIGKILL at random points).
 */
import { createDbClient, createLogger } from "@pshub/db";
import { SyncEngine } from "../../engine/engine.ts";
import { createSalesforceOrg, SALESFORCE_DEFAULTS } from "../connector.ts";

const args = JSON.parse(process.argv[2] ?? "{}");
const client = createDbClient(args.databaseUrl, { max: 4 });
const org = createSalesforceOrg(
  {
    ...SALESFORCE_DEFAULTS,
    auth: args.auth,
    streaming: false,
    certinia: false,
    pollIntervalMs: 100,
    sweepEveryMs: 0,
    pageSize: 2000,
    bulkThreshold: 10_000,
  },
  client.db,
);
for (const c of org.connectors) c.objects = c.objects.filter((o) => args.objects.includes(o));
const engine = new SyncEngine({
  client,
  databaseUrl: args.databaseUrl,
  connectors: org.connectors,
  logger: createLogger("cdc-worker", "warn"),
  pollIntervalMs: 100,
  leaderRetryMs: 200,
  applyIntervalMs: 100,
  batchSize: 2000,
});
await engine.start();
process.stdout.write("started\n");
const stop = async () => {
  await engine.stop();
  await client.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
