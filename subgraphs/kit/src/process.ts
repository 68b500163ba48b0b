/**
 * The process entry every subgraph shares: its environment (PORT with the subgraph's default,
 * HOST, and the database settings), the database (DATABASE_URL, else embedded Postgres), one log
 * line when listening, and a clean shutdown on SIGINT/SIGTERM (exit 0).
 *
 *   await runSubgraphProcess({ name: "billing", create: createBillingSubgraph });
 *
 * The default PORT is the service's entry in @pshub/db SERVICE_PORTS.
 */
import {
  createDbClient,
  createLogger,
  createServiceMetrics,
  type Db,
  dbEnvSchema,
  type Logger,
  loadEnvOrExit,
  registerDbPoolMetrics,
  resolveDatabaseUrl,
  SERVICE_PORTS,
  type ServiceMetrics,
  type ServiceName,
  startTelemetry,
} from "@pshub/db";
import { z } from "zod";
import { SUBGRAPH_DOCUMENT_LIMITS } from "./limits.ts";
import { listen, type RunningSubgraph, type SubgraphServer } from "./server.ts";

const limit = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/**
 * A subgraph process's configuration: the db package's settings, PORT and HOST, and the document
 * limits (defaults: SUBGRAPH_DOCUMENT_LIMITS, looser than the gateway's).
 */
export function subgraphEnvSchema(defaultPort: number) {
  return dbEnvSchema.extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(defaultPort),
    HOST: z.string().min(1).default("127.0.0.1"),
    SUBGRAPH_MAX_TOKENS: limit(SUBGRAPH_DOCUMENT_LIMITS.maxTokens),
    SUBGRAPH_MAX_DEPTH: limit(SUBGRAPH_DOCUMENT_LIMITS.maxDepth),
    SUBGRAPH_MAX_ALIASES: limit(SUBGRAPH_DOCUMENT_LIMITS.maxAliases),
    SUBGRAPH_MAX_DIRECTIVES: limit(SUBGRAPH_DOCUMENT_LIMITS.maxDirectives),
    SUBGRAPH_MAX_FIELDS: limit(SUBGRAPH_DOCUMENT_LIMITS.maxFields),
    SUBGRAPH_MAX_FRAGMENTS: limit(SUBGRAPH_DOCUMENT_LIMITS.maxFragments),
    /**
     * Shared with the gateway: the key of the signed principal it forwards (auth.ts). `npm start`
     * generates one per run; unset, the subgraph trusts the development headers (loopback only).
     */
    GATEWAY_SUBGRAPH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  });
}

/** 127.0.0.0/8, ::1 and localhost: the hosts a development-mode service may listen on. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export interface SubgraphProcessOptions {
  name: Exclude<ServiceName, "gateway">;
  // biome-ignore lint/suspicious/noExplicitAny: each subgraph has its own loader type
  create: (db: Db, options: { logger: Logger; metrics: ServiceMetrics }) => SubgraphServer<any>;
}

export async function runSubgraphProcess(
  options: SubgraphProcessOptions,
): Promise<RunningSubgraph> {
  process.env.APOLLO_TELEMETRY_DISABLED ??= "1";
  const env = loadEnvOrExit(subgraphEnvSchema(SERVICE_PORTS[options.name]));
  const log = createLogger(options.name, env.LOG_LEVEL);
  // Traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set (@pshub/db telemetry.ts).
  const telemetry = await startTelemetry(options.name);
  const database = await resolveDatabaseUrl(log);
  const client = createDbClient(database.url, {
    max: env.DB_POOL_MAX,
    applicationName: `pshub-${options.name}`,
  });
  if (!env.GATEWAY_SUBGRAPH_SECRET) {
    if (!isLoopback(env.HOST)) {
      log.fatal(
        `GATEWAY_SUBGRAPH_SECRET is unset, so this subgraph would trust any caller's x-pshub-principal; it listens on loopback only, not HOST=${env.HOST}. Set GATEWAY_SUBGRAPH_SECRET (the gateway's too).`,
      );
      process.exit(78);
    }
    log.warn(
      "DEVELOPMENT MODE: GATEWAY_SUBGRAPH_SECRET is unset; the x-pshub-principal header is trusted as sent (loopback only)",
    );
  }
  const metrics = createServiceMetrics(options.name, {
    defaultMetrics: true,
    token: env.METRICS_TOKEN,
  });
  registerDbPoolMetrics(metrics.registry, client);
  const running = await listen(options.create(client.db, { logger: log, metrics }), {
    port: env.PORT,
    host: env.HOST,
    limits: {
      maxTokens: env.SUBGRAPH_MAX_TOKENS,
      maxDepth: env.SUBGRAPH_MAX_DEPTH,
      maxAliases: env.SUBGRAPH_MAX_ALIASES,
      maxDirectives: env.SUBGRAPH_MAX_DIRECTIVES,
      maxFields: env.SUBGRAPH_MAX_FIELDS,
      maxFragments: env.SUBGRAPH_MAX_FRAGMENTS,
    },
    gatewaySecret: env.GATEWAY_SUBGRAPH_SECRET,
  });
  log.info({ url: running.url }, `${options.name} subgraph listening on ${running.url}`);

  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, async () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, "shutting down");
      await running.close();
      await client.close();
      await database.stop();
      await telemetry?.shutdown().catch(() => {});
      process.exit(0);
    });
  }
  return running;
}
