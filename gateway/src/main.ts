/**
 * The gateway process: `npm start` runs it after the subgraphs (scripts/services.ts).
 * Reads PORT, SUBGRAPH_*_URL and GATEWAY_* (see env.ts); logs one line when listening.
 */
import { createDbClient, createLogger, loadEnvOrExit, resolveDatabaseUrl } from "@pshub/db";
import { gatewayEnvSchema } from "./env.ts";
import { createGateway } from "./gateway.ts";
import { attachSubscriptions } from "./subscriptions/index.ts";

const env = loadEnvOrExit(gatewayEnvSchema);
const log = createLogger("gateway", env.LOG_LEVEL);

const gateway = await createGateway({
  subgraphUrls: {
    customer: env.SUBGRAPH_CUSTOMER_URL,
    project: env.SUBGRAPH_PROJECT_URL,
    billing: env.SUBGRAPH_BILLING_URL,
    invoice: env.SUBGRAPH_INVOICE_URL,
    ops: env.SUBGRAPH_OPS_URL,
  },
  supergraph: env.GATEWAY_SUPERGRAPH,
  pollIntervalInMs: env.GATEWAY_POLL_INTERVAL_MS,
  limits: {
    maxTokens: env.GATEWAY_MAX_TOKENS,
    maxDepth: env.GATEWAY_MAX_DEPTH,
    maxAliases: env.GATEWAY_MAX_ALIASES,
    maxDirectives: env.GATEWAY_MAX_DIRECTIVES,
    maxFields: env.GATEWAY_MAX_FIELDS,
    maxFragments: env.GATEWAY_MAX_FRAGMENTS,
    maxRows: env.GATEWAY_MAX_ROWS,
  },
  introspection: env.GATEWAY_INTROSPECTION,
  maxBodyBytes: env.GATEWAY_MAX_BODY_BYTES,
  defaultMetrics: true,
  dedupeSubgraphRequests: env.GATEWAY_DEDUPE_SUBGRAPH_REQUESTS,
  launcherUrl: env.PSHUB_LAUNCHER_URL,
  auth: {
    jwtSecret: env.GATEWAY_JWT_SECRET,
    issuer: env.GATEWAY_JWT_ISSUER,
    audience: env.GATEWAY_JWT_AUDIENCE,
  },
  logger: log,
});
// Subscriptions (graphql-ws on the same port and path) read the outbox: one small pool.
const database = await resolveDatabaseUrl(log);
const client = createDbClient(database.url, { max: 4, applicationName: "pshub-gateway" });
const subscriptions = await attachSubscriptions(gateway, {
  sql: client.sql,
  url: database.url,
  log,
});

const { port } = await gateway.listen({ port: env.PORT, host: env.HOST });
log.info(
  { port, supergraph: env.GATEWAY_SUPERGRAPH },
  `gateway listening: GraphQL http://127.0.0.1:${port}/graphql, IDE http://127.0.0.1:${port}/`,
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    subscriptions
      .close()
      .then(() => gateway.close())
      .then(() => client.close())
      .then(() => database.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, "close failed");
          process.exit(1);
        },
      );
  });
}
