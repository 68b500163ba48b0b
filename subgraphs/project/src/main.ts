/**
 * Process entry of the project subgraph: `tsx subgraphs/project/src/main.ts`
 * (PORT, default 4002; DATABASE_URL, else embedded Postgres).
 */
import { createDbClient, createLogger, loadEnvOrExit, resolveDatabaseUrl } from "@pshub/db";
import { listen } from "@pshub/subgraph-kit";
import { envSchema } from "./env.ts";
import { createProjectSubgraph } from "./index.ts";

const env = loadEnvOrExit(envSchema);
const log = createLogger("subgraph-project", env.LOG_LEVEL);
const database = await resolveDatabaseUrl(log);
const client = createDbClient(database.url, {
  max: env.DB_POOL_MAX,
  applicationName: "pshub-project",
});
const server = createProjectSubgraph(client.db);
const running = await listen(server, { port: env.PORT, host: env.HOST });
log.info({ url: running.url }, `project subgraph listening on ${running.url}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await running.close();
    await client.close();
    await database.stop();
    process.exit(0);
  });
}
