/**
 * Process entry of the invoice subgraph: PORT (default 4004) and DATABASE_URL (or embedded
 * Postgres) from the environment; GET /healthz answers 200 once the database answers.
 */
import { createDbClient, createLogger, dbEnv, loadEnvOrExit, resolveDatabaseUrl } from "@pshub/db";
import { listen } from "@pshub/subgraph-kit";
import { invoiceEnvSchema } from "./env.ts";
import { createInvoiceSubgraph } from "./index.ts";

process.env.APOLLO_TELEMETRY_DISABLED ??= "1";
const env = loadEnvOrExit(invoiceEnvSchema);
const log = createLogger("subgraph-invoice");
const database = await resolveDatabaseUrl(log);
const client = createDbClient(database.url, {
  max: dbEnv().DB_POOL_MAX,
  applicationName: "pshub-invoice",
});
const running = await listen(createInvoiceSubgraph(client.db, { logger: log }), {
  port: env.PORT,
  host: env.HOST,
});
log.info({ url: running.url }, "invoice subgraph listening");

async function shutdown(signal: string) {
  log.info({ signal }, "shutting down");
  await running.close();
  await client.close();
  await database.stop();
  process.exit(0);
}
process.once("SIGINT", () => void shutdown("SIGINT"));
process.once("SIGTERM", () => void shutdown("SIGTERM"));
