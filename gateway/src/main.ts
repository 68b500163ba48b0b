/**
 * The gateway process: `npm start` runs it after the subgraphs (scripts/services.ts).
 * Reads PORT, SUBGRAPH_*_URL and GATEWAY_* (see env.ts); logs one line when listening.
 */

import type { Server as NetServer } from "node:net";
import {
  createDbClient,
  createLogger,
  loadEnvOrExit,
  registerDbPoolMetrics,
  resolveDatabaseUrl,
  startTelemetry,
} from "@pshub/db";
import { gatewayEnvSchema } from "./env.ts";
import { createGateway } from "./gateway.ts";
import { attachSubscriptions } from "./subscriptions/index.ts";

const env = loadEnvOrExit(gatewayEnvSchema);
// Traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set (@pshub/db telemetry.ts).
const telemetry = await startTelemetry("gateway");
const log = createLogger("gateway", env.LOG_LEVEL);
// Subscriptions (graphql-ws on the same port and path) read the outbox, and API keys are looked
// up in the database: one small pool.
const database = await resolveDatabaseUrl(log);
const client = createDbClient(database.url, { max: 4, applicationName: "pshub-gateway" });

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
  metricsToken: env.METRICS_TOKEN,
  dedupeSubgraphRequests: env.GATEWAY_DEDUPE_SUBGRAPH_REQUESTS,
  launcherUrl: env.PSHUB_LAUNCHER_URL,
  auth: {
    mode: env.GATEWAY_AUTH_MODE,
    jwtSecret: env.GATEWAY_JWT_SECRET,
    jwksUrl: env.GATEWAY_JWKS_URL,
    issuer: env.GATEWAY_JWT_ISSUER,
    audience: env.GATEWAY_JWT_AUDIENCE,
    clockToleranceSeconds: env.GATEWAY_JWT_CLOCK_TOLERANCE_S,
    jwksCooldownMs: env.GATEWAY_JWKS_COOLDOWN_MS,
    apiKeys: env.GATEWAY_API_KEYS ? client.db : undefined,
  },
  subgraphSecret: env.GATEWAY_SUBGRAPH_SECRET,
  rateLimit: {
    points: env.GATEWAY_RATE_LIMIT_POINTS,
    windowSeconds: env.GATEWAY_RATE_LIMIT_WINDOW_S,
  },
  trustedDocuments: { mode: env.GATEWAY_TRUSTED_DOCUMENTS, adhocRoles: env.GATEWAY_ADHOC_ROLES },
  auditDb: client.db,
  logger: log,
});
registerDbPoolMetrics(gateway.metrics.registry, client);
const mode = gateway.authenticate.mode;
if (mode === "development") {
  log.warn(
    [
      "",
      "**********************************************************************************",
      "DEVELOPMENT MODE (no GATEWAY_JWT_SECRET / GATEWAY_JWKS_URL, or GATEWAY_AUTH_MODE=development).",
      "The x-pshub-principal header is TRUSTED AS SENT and anonymous callers are served.",
      "The gateway listens on loopback only. Never expose it like this.",
      "**********************************************************************************",
    ].join("\n"),
  );
}
if (!env.GATEWAY_SUBGRAPH_SECRET)
  log.warn(
    "GATEWAY_SUBGRAPH_SECRET is unset: the principal goes to the subgraphs unsigned (development only)",
  );
log.info({ mode, methods: gateway.authenticate.methods }, `authentication: ${mode} mode`);
const subscriptions = await attachSubscriptions(gateway, {
  sql: client.sql,
  url: database.url,
  log,
  maxSubscriptionsPerConnection: env.GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  fanoutWriteTurn: env.GATEWAY_SUBSCRIPTION_WRITE_TURN,
});

const host = env.HOST ?? (mode === "development" ? "127.0.0.1" : "0.0.0.0");
const handle =
  env.PSHUB_LISTEN_HANDLE === "ipc"
    ? await launcherSocket().catch((error: Error) => {
        log.fatal(error.message);
        process.exit(78);
      })
    : undefined;
const { port } = await gateway.listen({ port: env.PORT, host, handle }).catch((error: Error) => {
  log.fatal(error.message);
  process.exit(78);
});
// The launcher stops answering on the port once the gateway does (scripts/start.ts).
if (handle) {
  process.send?.({ type: "pshub:listening" });
  // The channel is only for the hand-over: it must not keep the process alive.
  process.channel?.unref();
}
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
      .then(() => telemetry?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, "close failed");
          process.exit(1);
        },
      );
  });
}

/** The listening socket `npm start` holds on PORT, sent over IPC with `{ type: "pshub:listen" }`. */
function launcherSocket(): Promise<NetServer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("no listening socket from the launcher")),
      30_000,
    );
    process.on("message", function onMessage(message: unknown, socket: unknown) {
      if ((message as { type?: string } | null)?.type !== "pshub:listen") return;
      clearTimeout(timer);
      process.off("message", onMessage);
      resolve(socket as NetServer);
    });
  });
}
