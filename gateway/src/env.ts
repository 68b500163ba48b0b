/**
 * The gateway's configuration, parsed once with zod. Nothing else in gateway/ reads process.env.
 */
import { dbEnvSchema, parseEnv, SERVICE_PORTS } from "@pshub/db";
import { z } from "zod";
import { SUBGRAPHS } from "./subgraphs.ts";

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s):// URL" });

const subgraphUrls = Object.fromEntries(
  SUBGRAPHS.map((subgraph) => [subgraph.urlEnv, httpUrl.default(subgraph.defaultUrl)]),
) as Record<(typeof SUBGRAPHS)[number]["urlEnv"], z.ZodDefault<typeof httpUrl>>;

export const gatewayEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(SERVICE_PORTS.gateway),
  /** Default: 0.0.0.0 in production mode, 127.0.0.1 in development mode (which allows only loopback). */
  HOST: z.string().min(1).optional(),
  ...subgraphUrls,
  /** `file`: the committed gateway/supergraph.graphql (production); `introspect`: compose at startup from the running subgraphs (development). */
  GATEWAY_SUPERGRAPH: z.enum(["file", "introspect"]).default("file"),
  /** Poll interval for `introspect` mode, in ms; 0 = compose once. */
  GATEWAY_POLL_INTERVAL_MS: z.coerce.number().int().min(0).default(0),
  /** Document limits, checked before validation (see limits.ts; defaults in DEFAULT_LIMITS). */
  GATEWAY_MAX_TOKENS: z.coerce.number().int().min(100).max(1_000_000).default(10_000),
  GATEWAY_MAX_DEPTH: z.coerce.number().int().min(1).max(100).default(24),
  GATEWAY_MAX_ALIASES: z.coerce.number().int().min(0).max(1000).default(30),
  GATEWAY_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(10_000).default(50),
  /** Fields of the largest operation or fragment after expanding fragments. */
  GATEWAY_MAX_FIELDS: z.coerce.number().int().min(1).max(100_000).default(500),
  GATEWAY_MAX_FRAGMENTS: z.coerce.number().int().min(0).max(10_000).default(100),
  /** Estimated objects per query (nested page sizes multiply; see limits.ts). */
  GATEWAY_MAX_ROWS: z.coerce.number().int().min(1).default(100_000),
  /** Request body limit in bytes. */
  GATEWAY_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_000_000),
  /** Identical in-flight subgraph queries share one round trip (see fetcher.ts). */
  GATEWAY_DEDUPE_SUBGRAPH_REQUESTS: z
    .enum(["true", "false"])
    .default("true")
    .transform((value) => value === "true"),
  /**
   * `production` refuses anonymous callers and ignores x-pshub-principal; `development` trusts
   * it (loopback only). Default: production when GATEWAY_JWT_SECRET or GATEWAY_JWKS_URL is set.
   */
  GATEWAY_AUTH_MODE: z.enum(["production", "development"]).optional(),
  /** HS256 secret for bearer tokens. */
  GATEWAY_JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** JWKS for RS256/ES256 bearer tokens (an identity provider's jwks_uri); keys may rotate. */
  GATEWAY_JWKS_URL: httpUrl.optional(),
  GATEWAY_JWT_ISSUER: z.string().min(1).default("pshub"),
  GATEWAY_JWT_AUDIENCE: z.string().min(1).default("pshub"),
  GATEWAY_JWT_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(5),
  /** Unknown key ids refetch the JWKS at most this often. */
  GATEWAY_JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).default(30_000),
  /** API keys from the api_key table (`npm run apikey`). */
  GATEWAY_API_KEYS: z
    .enum(["true", "false"])
    .default("true")
    .transform((value) => value === "true"),
  /** Per-principal rate limit: operations per window (HTTP 429 + Retry-After); 0 = off. */
  GATEWAY_RATE_LIMIT_POINTS: z.coerce.number().int().min(0).default(0),
  GATEWAY_RATE_LIMIT_WINDOW_S: z.coerce.number().int().min(1).default(60),
  /** Key of the signed principal forwarded to the subgraphs (theirs must be the same). */
  GATEWAY_SUBGRAPH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** Introspection (the IDE needs it); turn off for a locked-down deployment. */
  GATEWAY_INTROSPECTION: z
    .enum(["true", "false"])
    .default("true")
    .transform((value) => value === "true"),
  /**
   * Trusted documents (gateway/trusted-documents.json): `off` serves registered ids besides any
   * query; `enforce` runs only registered documents, except for GATEWAY_ADHOC_ROLES.
   */
  GATEWAY_TRUSTED_DOCUMENTS: z.enum(["off", "enforce"]).default("off"),
  /** Roles that may run ad-hoc (unregistered) documents when trusted documents are enforced. */
  GATEWAY_ADHOC_ROLES: z
    .string()
    .default("admin,analyst")
    .transform((value) =>
      value
        .split(",")
        .map((role) => role.trim())
        .filter(Boolean),
    ),
  /** Subscriptions one WebSocket connection may hold at once. */
  GATEWAY_MAX_SUBSCRIPTIONS_PER_CONNECTION: z.coerce.number().int().min(1).max(10_000).default(50),
  /**
   * Live fan-out: sockets written per turn of the event loop (the gateway reads and resolves the
   * next events in between); 0 (the default: turns did not move p99 on a saturated machine, see
   * bench/RESULTS.md 2026-12-01 21:03) = a whole batch in one turn, the next batch read after it.
   */
  GATEWAY_SUBSCRIPTION_WRITE_TURN: z.coerce.number().int().min(0).default(0),
  /** Set by `npm start`: its supervisor's status (restarts), shown in /healthz as `launcher`. */
  PSHUB_LAUNCHER_URL: httpUrl.optional(),
  /**
   * Set by `npm start`: the launcher holds PORT from its first second (answering 503) and hands
   * its listening socket to the gateway over IPC, so the port never refuses a connection.
   */
  PSHUB_LISTEN_HANDLE: z.enum(["ipc"]).optional(),
  LOG_LEVEL: dbEnvSchema.shape.LOG_LEVEL,
  LOG_FORMAT: dbEnvSchema.shape.LOG_FORMAT,
  METRICS_TOKEN: dbEnvSchema.shape.METRICS_TOKEN,
});

export type GatewayEnv = z.infer<typeof gatewayEnvSchema>;

export function gatewayEnv(source: NodeJS.ProcessEnv = process.env): GatewayEnv {
  return parseEnv(gatewayEnvSchema, source);
}
