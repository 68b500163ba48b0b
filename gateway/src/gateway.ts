/**
 * The pshub gateway: @apollo/gateway over the subgraphs (subgraphs.ts), served by @apollo/server 5 on a
 * plain node:http server, with query limits. Its HTTP routes (the IDE, health endpoints, metrics)
 * are in routes.ts, the health report in health.ts.
 *
 *   const gw = await createGateway({ subgraphUrls });
 *   const { url } = await gw.listen({ port: 0 });
 *   …
 *   await gw.close();
 *
 * `httpServer` is exposed so that a graphql-ws server can share the port (upgrade requests are
 * not handled here), and `execute` runs an operation through the gateway's own pipeline
 * (federated query planning, limits, principal and correlation id forwarding) — which is what a
 * subscription's `resolve` needs.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Server as NetServer } from "node:net";
import {
  ApolloGateway,
  type GraphQLDataSourceProcessOptions,
  IntrospectAndCompose,
  RemoteGraphQLDataSource,
  type SupergraphManager,
} from "@apollo/gateway";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import {
  CORRELATION_HEADER,
  createServiceMetrics,
  type Db,
  type Logger,
  type Principal,
  type ServiceMetrics,
  withCorrelationId,
} from "@pshub/db";
import {
  createPrincipalSigner,
  developmentHeaders,
  graphqlObservabilityPlugin,
  isLoopback,
  PRINCIPAL_TOKEN_HEADER,
  type Requirement,
  requirementsOfSdl,
} from "@pshub/subgraph-kit";
import { sendJson } from "@pshub/subgraph-kit/http";
import { createDocumentGuard, type DocumentGuard } from "@pshub/subgraph-kit/limits";
import { type DocumentNode, type GraphQLFormattedError, type GraphQLSchema, print } from "graphql";
import { gatewayRefusalAuditPlugin } from "./audit-refusals.ts";
import {
  type Authenticator,
  type AuthOptions,
  createAuthenticator,
  GATEWAY_PRINCIPAL,
} from "./auth.ts";
import { SUPERGRAPH_PATH } from "./compose.ts";
import { consoleBundle } from "./console/serve.ts";
import { formatGatewayError } from "./errors.ts";
import { createSubgraphFetcher, type SubgraphFetcher } from "./fetcher.ts";
import { checkHealth, type HealthReport } from "./health.ts";
import { ideBundle } from "./ide/bundle.ts";
import { EXAMPLE_TABS, type ExampleTab } from "./ide/examples.ts";
import { DEFAULT_LIMITS, type QueryLimits, queryLimitsPlugin } from "./limits.ts";
import { createRateLimiter, type RateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import { redactFormattedError } from "./redact.ts";
import { createRequestHandler, ROUTES } from "./routes.ts";
import { installScalars } from "./scalars.ts";
import {
  resolveSubgraphUrls,
  SUBGRAPHS,
  type SubgraphName,
  type SubgraphUrls,
} from "./subgraphs.ts";
import {
  createTrustedDocuments,
  type TrustedDocuments,
  type TrustedDocumentsOptions,
} from "./trusted-documents.ts";

/** Per-request context: who is asking, under which correlation id, and what subgraphs warned. */
export interface GatewayContext {
  principal: Principal;
  correlationId: string;
  /** `extensions.warnings` collected from subgraph responses (e.g. a capped page size). */
  warnings: unknown[];
  /** Subgraph requests sent for this request so far (none: no operation ran anywhere). */
  subgraphRequests?: number;
}

export { CORRELATION_HEADER };

export interface CreateGatewayOptions {
  /** Subgraph URLs; missing ones default to http://127.0.0.1:400x/graphql. */
  subgraphUrls?: SubgraphUrls;
  /**
   * `file` (default): gateway/supergraph.graphql; `introspect`: compose at startup from the
   * running subgraphs (those in `subgraphUrls`, else all of them); or a supergraph SDL string.
   */
  supergraph?: "file" | "introspect" | { sdl: string };
  pollIntervalInMs?: number;
  limits?: Partial<QueryLimits>;
  introspection?: boolean;
  maxBodyBytes?: number;
  /** Serve the IDE at / and /playground (default true). */
  ide?: boolean;
  ideTabs?: ExampleTab[];
  /** Serve the ops console at /ops (default: as `ide`). */
  opsConsole?: boolean;
  logger?: Logger;
  /** Process metrics (CPU, memory, event loop) on /metrics besides the gateway's own (default false). */
  defaultMetrics?: boolean;
  /** METRICS_TOKEN: lets a caller other than loopback scrape /metrics (@pshub/db metrics.ts). */
  metricsToken?: string;
  /** Authentication (see auth.ts); without a JWT secret or JWKS the principal header is trusted. */
  auth?: AuthOptions;
  /**
   * The `npm start` launcher's status endpoint: its view (service states, restarts after a crash)
   * is included in /healthz as `launcher`.
   */
  launcherUrl?: string;
  /**
   * GATEWAY_SUBGRAPH_SECRET: the principal is forwarded to the subgraphs as a token signed with
   * it (subgraphs/kit auth.ts). Unset: as the plain development headers.
   */
  subgraphSecret?: string;
  /** Per-principal rate limit of HTTP operations and WebSocket subscribes (rate-limit.ts); default off. */
  rateLimit?: RateLimitOptions;
  /** Where mutations the gateway refuses are audited (audit-refusals.ts); unset: not audited here. */
  auditDb?: Db;
  /** Trusted documents (trusted-documents.ts): registered ids always; `enforce` refuses other text. */
  trustedDocuments?: TrustedDocumentsOptions;
  /** Identical in-flight subgraph queries share one round trip (default true). */
  dedupeSubgraphRequests?: boolean;
  /** Replaces the HTTP client used to call subgraphs (default: undici pools, keep-alive; see fetcher.ts). */
  fetcher?: SubgraphFetcher;
}

export type { HealthReport, SubgraphHealth } from "./health.ts";

export interface ExecuteRequest {
  query: string | DocumentNode;
  variables?: Record<string, unknown>;
  operationName?: string;
  /** Default: the gateway's own principal (no roles). */
  principal?: Principal;
  correlationId?: string;
}

export interface ExecuteResult {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
  extensions?: Record<string, unknown>;
}

export interface PshubGateway {
  httpServer: Server;
  gateway: ApolloGateway;
  apolloServer: ApolloServer<GatewayContext>;
  /** The composed API schema (undefined before the first successful load). */
  schema(): GraphQLSchema | undefined;
  /** What each Subscription field requires (from the supergraph's authorization directives). */
  subscriptionRequirements(): ReadonlyMap<string, Requirement> | undefined;
  /** Runs one operation through the gateway (query planning, limits, forwarding). */
  execute(request: ExecuteRequest): Promise<ExecuteResult>;
  health(): Promise<HealthReport>;
  /** The gateway's authentication, for other entry points on its port (graphql-ws connection_init). */
  authenticate: Authenticator;
  /** The document limits at the door (HTTP here; the WebSocket server uses the same guard). */
  documentGuard: DocumentGuard;
  /** The largest request body, and so the largest subscription document, in bytes. */
  maxBodyBytes: number;
  /** The per-principal budget HTTP requests spend; subscribes on the WebSocket spend the same. */
  rateLimiter: RateLimiter;
  /** The registered documents and the mode (HTTP here; the WebSocket server applies the same). */
  trustedDocuments: TrustedDocuments;
  /** The gateway's Prometheus registry (GET /metrics): main.ts adds the pool and subscriptions. */
  metrics: ServiceMetrics;
  /**
   * Starts listening; port 0 picks a free one. With `handle` (a listening net.Server, e.g. the
   * one `npm start` hands over), on that server's socket instead of `port` and `host`.
   */
  listen(options?: {
    port?: number;
    host?: string;
    handle?: NetServer;
  }): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
}

/** Forwards principal and correlation id; collects subgraph warnings into the context. */
class PshubDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  /** Set by createGateway: the signer of forwarded principals, when a subgraph secret is set. */
  sign?: (principal: Principal) => Promise<string>;

  override async willSendRequest({
    request,
    context,
  }: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const ctx = context as Partial<GatewayContext>;
    if (ctx) ctx.subgraphRequests = (ctx.subgraphRequests ?? 0) + 1;
    const principal = ctx.principal ?? GATEWAY_PRINCIPAL;
    const headers = request.http?.headers;
    if (!headers) return;
    if (this.sign) headers.set(PRINCIPAL_TOKEN_HEADER, await this.sign(principal));
    else
      for (const [name, value] of Object.entries(developmentHeaders(principal)))
        headers.set(name, value);
    headers.set(CORRELATION_HEADER, ctx.correlationId ?? randomUUID());
    // The W3C trace context is added by @opentelemetry/instrumentation-undici when tracing is on
    // (the fetcher is undici): the subgraph's span is a child of that client span, under
    // Apollo's gateway.fetch.
  }

  override async didReceiveResponse({
    response,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>["didReceiveResponse"]>>[0]) {
    const warnings = response.extensions?.warnings;
    const ctx = context as Partial<GatewayContext>;
    if (Array.isArray(warnings) && ctx.warnings) ctx.warnings.push(...warnings);
    return response;
  }
}

/** Copies subgraph warnings into the client response's `extensions.warnings`. */
const warningsPlugin: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (response.body.kind !== "single" || !contextValue.warnings?.length) return;
        const result = response.body.singleResult;
        result.extensions = {
          ...result.extensions,
          warnings: [...new Set(contextValue.warnings.map(String))],
        };
      },
    };
  },
};

/**
 * The supergraph links the authorization specs (requiresScopes, policy, authenticated) `for:
 * SECURITY`, which tells a router it must enforce them or refuse the supergraph. @apollo/gateway
 * does not know them and refuses; pshub enforces them itself (the subgraph kit, and the
 * subscription server for Subscription fields), so the gateway is handed the links without
 * `for: SECURITY`. The directives stay in the SDL (subscriptionRequirements reads them).
 */
export function enforcedHere(supergraphSdl: string): string {
  return supergraphSdl.replace(
    /(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:requiresScopes|policy|authenticated)\/v[0-9.]+"), for: SECURITY\)/g,
    "$1)",
  );
}

/** {@link enforcedHere} for a composing supergraph manager (IntrospectAndCompose). */
function withoutSecurityLinks(manager: SupergraphManager): SupergraphManager {
  return {
    async initialize(hooks) {
      const result = await manager.initialize({
        ...hooks,
        update: (sdl) => hooks.update(enforcedHere(sdl)),
      });
      return { ...result, supergraphSdl: enforcedHere(result.supergraphSdl) };
    },
  };
}

export async function createGateway(options: CreateGatewayOptions = {}): Promise<PshubGateway> {
  process.env.APOLLO_TELEMETRY_DISABLED ??= "1";
  const log = options.logger;
  const urls = resolveSubgraphUrls(options.subgraphUrls);
  const limits: QueryLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const documentGuard = createDocumentGuard(limits);
  const maxBodyBytes = options.maxBodyBytes ?? 1_000_000;
  const ownFetcher = options.fetcher
    ? undefined
    : createSubgraphFetcher({ dedupe: options.dedupeSubgraphRequests ?? true });
  const fetcher = options.fetcher ?? (ownFetcher as SubgraphFetcher);
  const mode = options.supergraph ?? "file";

  const supergraphSdl =
    mode === "introspect"
      ? withoutSecurityLinks(
          new IntrospectAndCompose({
            // The subgraphs given explicitly, or all of them at their default URLs.
            subgraphs: SUBGRAPHS.filter(
              (subgraph) =>
                !options.subgraphUrls || options.subgraphUrls[subgraph.name] !== undefined,
            ).map((subgraph) => ({ name: subgraph.name, url: urls[subgraph.name] })),
            pollIntervalInMs: options.pollIntervalInMs || undefined,
          }),
        )
      : enforcedHere(mode === "file" ? readFileSync(SUPERGRAPH_PATH, "utf8") : mode.sdl);

  const sign = options.subgraphSecret ? createPrincipalSigner(options.subgraphSecret) : undefined;
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => {
      const source = new PshubDataSource({
        // The committed supergraph holds the default URLs; the environment decides at runtime.
        url: urls[name as SubgraphName] ?? url,
        fetcher: fetcher as unknown as RemoteGraphQLDataSource["fetcher"],
      });
      source.sign = sign;
      return source;
    },
  });

  let schema: GraphQLSchema | undefined;
  let subscriptionRequirements: ReadonlyMap<string, Requirement> | undefined;
  // Registered before Apollo Server's own listener (apolloServer.start() below), so the scalars
  // are in place before it validates anything against this schema.
  gateway.onSchemaLoadOrUpdate(({ apiSchema, coreSupergraphSdl }) => {
    installScalars(apiSchema);
    schema = apiSchema;
    // The API schema drops the authorization directives; the supergraph keeps them.
    subscriptionRequirements = requirementsOfSdl(coreSupergraphSdl, "Subscription");
  });

  const authenticate = createAuthenticator(options.auth);
  const rateLimiter = createRateLimiter(options.rateLimit);
  const trustedDocuments = createTrustedDocuments(options.trustedDocuments ?? { mode: "off" });
  const metrics = createServiceMetrics("gateway", {
    defaultMetrics: options.defaultMetrics,
    token: options.metricsToken,
  });
  const apolloServer = new ApolloServer<GatewayContext>({
    gateway,
    introspection: options.introspection ?? true,
    includeStacktraceInErrorResponses: false,
    // A scalar's own code for a bad literal (errors.ts); no internal URL or address, no huge
    // echoed input, in any error a client sees (redact.ts).
    formatError: (formatted, error) => redactFormattedError(formatGatewayError(formatted, error)),
    // main.ts owns SIGINT/SIGTERM (ordered shutdown: subscriptions, then HTTP, then the pool).
    stopOnTerminationSignals: false,
    // Compact JSON: Apollo's default pretty-prints, a third more bytes on big BI answers.
    stringifyResult: (value) => JSON.stringify(value),
    // Off, so that spec GETs (?query=…&variables=…) work: every credential the gateway accepts is
    // a header a browser never sends cross-site without a CORS preflight, a GET never runs a
    // mutation (405), and a POST body is only read as JSON. See README "CSRF and GET".
    csrfPrevention: false,
    // Also for in-process callers (execute()); HTTP requests were checked at the door already.
    parseOptions: { maxTokens: limits.maxTokens },
    plugins: [
      queryLimitsPlugin(limits),
      warningsPlugin,
      graphqlObservabilityPlugin({
        registry: metrics.registry,
        logger: log,
      }) as ApolloServerPlugin<GatewayContext>,
      // A mutation refused here (validation, a bad value, a limit) never reaches an operation.
      ...(options.auditDb
        ? [
            gatewayRefusalAuditPlugin(options.auditDb, (cause) =>
              log?.error({ err: cause }, "audit row for a refused mutation not written"),
            ),
          ]
        : []),
    ],
    logger: log
      ? {
          debug: (message) => log.debug(message),
          info: (message) => log.info(message),
          warn: (message) => log.warn(message),
          error: (message) => log.error(message),
        }
      : undefined,
  });
  await apolloServer.start();

  const ideEnabled = options.ide ?? true;
  const ideTabs = options.ideTabs ?? EXAMPLE_TABS;
  if (ideEnabled) {
    // Warm the bundle in the background; a failure shows on the first page load instead.
    ideBundle().catch((error: unknown) => log?.error({ err: error }, "IDE bundle failed"));
  }
  const consoleEnabled = options.opsConsole ?? ideEnabled;
  if (consoleEnabled) {
    consoleBundle().catch((error: unknown) =>
      log?.error({ err: error }, "ops console bundle failed"),
    );
  }

  let healthCache: { at: number; report: Promise<HealthReport> } | undefined;
  const health = (): Promise<HealthReport> => {
    const now = Date.now();
    if (healthCache && now - healthCache.at < 1000) return healthCache.report;
    const report = checkHealth(urls, schema !== undefined, options.launcherUrl);
    healthCache = { at: now, report };
    return report;
  };

  let closing = false;
  const handle = createRequestHandler({
    apolloServer,
    authenticate,
    rateLimiter,
    documentGuard,
    trustedDocuments,
    metrics,
    health,
    maxBodyBytes,
    ide: ideEnabled ? ideTabs : undefined,
    opsConsole: consoleEnabled,
    hasSchema: () => schema !== undefined,
    isClosing: () => closing,
  });

  const httpServer = createServer((req, res) => {
    metrics.observeHttp(req, res, ROUTES);
    handle(req, res).catch((error: unknown) => {
      log?.error({ err: error, url: req.url }, "request failed");
      if (!res.headersSent)
        sendJson(res, 500, {
          errors: [{ message: "internal error", extensions: { code: "INTERNAL_SERVER_ERROR" } }],
        });
      else res.end();
    });
  });
  // Keep-alive sockets from load generators and browsers should not hold close() up for long.
  httpServer.keepAliveTimeout = 5000;

  const execute = async (request: ExecuteRequest): Promise<ExecuteResult> => {
    const correlationId = request.correlationId ?? randomUUID();
    const response = await withCorrelationId(correlationId, () =>
      apolloServer.executeOperation(
        {
          query: typeof request.query === "string" ? request.query : print(request.query),
          variables: request.variables,
          operationName: request.operationName,
        },
        {
          contextValue: {
            principal: request.principal ?? GATEWAY_PRINCIPAL,
            correlationId,
            warnings: [],
          },
        },
      ),
    );
    if (response.body.kind !== "single") {
      throw new Error("incremental delivery is not supported by execute()");
    }
    const { data, errors, extensions } = response.body.singleResult;
    return { data, errors, extensions };
  };

  return {
    httpServer,
    gateway,
    apolloServer,
    schema: () => schema,
    subscriptionRequirements: () => subscriptionRequirements,
    execute,
    health,
    authenticate,
    documentGuard,
    maxBodyBytes,
    rateLimiter,
    trustedDocuments,
    metrics,
    async listen({ port = 0, host: wanted = "127.0.0.1", handle } = {}) {
      const bound = handle?.address();
      const host = bound && typeof bound === "object" ? bound.address : wanted;
      if (authenticate.mode === "development" && !isLoopback(host))
        throw new Error(
          `development mode trusts the x-pshub-principal header, so the gateway listens on loopback only, not ${host}; configure authentication (GATEWAY_JWT_SECRET or GATEWAY_JWKS_URL, GATEWAY_AUTH_MODE=production) to listen on ${host}`,
        );
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        const listening = () => {
          httpServer.off("error", reject);
          resolve();
        };
        if (handle) httpServer.listen(handle, listening);
        else httpServer.listen(port, host, listening);
      });
      const address = httpServer.address() as AddressInfo;
      const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
      return { url: `http://${shownHost}:${address.port}/graphql`, port: address.port };
    },
    async close() {
      closing = true;
      if (httpServer.listening) {
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
      }
      await apolloServer.stop();
      ownFetcher?.destroy();
    },
  };
}
