/**
 * The subgraph bootstrap: an Apollo server over `buildSubgraphSchema`, served on node:http by the
 * kit's adapter (./http.ts; Apollo Server 5 has no framework adapter in core).
 *
 *   const server = createSubgraphServer({ name: "customer", typeDefs, resolvers, db });
 *   const { url, close } = await listen(server, { port: 0 });
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from "@apollo/server";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
} from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/resolverMap.js";
import {
  CORRELATION_HEADER,
  correlationIdOf,
  createLogger,
  createServiceMetrics,
  type Db,
  type LegalEntityScope,
  type Logger,
  type Principal,
  type ServiceMetrics,
  serverSpan,
  withCorrelationId,
} from "@pshub/db";
import { sql } from "drizzle-orm";
import type { DocumentNode, GraphQLSchema } from "graphql";
import { refusalAuditPlugin } from "./audit-refusals.ts";
import {
  createPrincipalVerifier,
  developmentPrincipal,
  PRINCIPAL_TOKEN_HEADER,
  PrincipalTokenError,
} from "./auth.ts";
import { enforceAuthorization, type Policy } from "./authorization.ts";
import type { SubgraphContext } from "./context.ts";
import { formatSubgraphError } from "./errors.ts";
import { HttpError, handleGraphQL, sendGraphQLError, sendJson } from "./http.ts";
import { createDocumentGuard, type DocumentLimits, SUBGRAPH_DOCUMENT_LIMITS } from "./limits.ts";
import { RequestLoaders } from "./loaders.ts";
import { graphqlObservabilityPlugin } from "./observability.ts";
import { scalarResolvers } from "./scalars.ts";
import { malformedTextPlugin } from "./text-input.ts";

export interface SubgraphOptions<L extends RequestLoaders> {
  /** Short name, e.g. "customer": used in logs and /healthz. */
  name: string;
  typeDefs: DocumentNode;
  /** The subgraph's resolver map (the kit adds Decimal, Date and DateTime). */
  resolvers: object;
  db: Db;
  /**
   * Builds the per-request loaders; default: a plain {@link RequestLoaders}. `scope` is the
   * principal's legal-entity scope: every loader statement applies it.
   */
  createLoaders?: (db: Db, warn: (message: string) => void, scope: LegalEntityScope) => L;
  /** The `@policy` rules of this subgraph's SDL, by name (authorization.ts). */
  policies?: Record<string, Policy>;
  logger?: Logger;
  /** The process's metrics registry (GET /metrics); default: a fresh one for this subgraph. */
  metrics?: ServiceMetrics;
  plugins?: ApolloServerPlugin<SubgraphContext<L>>[];
}

export interface SubgraphServer<L extends RequestLoaders = RequestLoaders> {
  name: string;
  apollo: ApolloServer<SubgraphContext<L>>;
  /** The executable subgraph schema (federation fields included). */
  schema: GraphQLSchema;
  db: Db;
  logger: Logger;
  /** Its Prometheus registry: HTTP and GraphQL series (served by `listen` at /metrics). */
  metrics: ServiceMetrics;
  /**
   * A fresh request context. `principal` is the verified one (the HTTP adapter passes it);
   * without it the development headers are read (`x-pshub-principal`, see auth.ts) — for
   * in-process callers such as tests.
   */
  createContext(
    headers?: Record<string, string | undefined>,
    principal?: Principal,
  ): SubgraphContext<L>;
  /** Runs one operation in-process with a fresh request context (tests, benchmarks). */
  execute(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string | undefined>,
  ): Promise<OperationResult>;
}

/** The result of {@link SubgraphServer.execute}: a single GraphQL response. */
export interface OperationResult {
  // biome-ignore lint/suspicious/noExplicitAny: callers walk results ad hoc
  data?: Record<string, any> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

/** What an in-process caller ({@link SubgraphServer.execute}) without `x-pshub-roles` gets. */
const IN_PROCESS_ROLES: readonly string[] = ["admin"];

/** Appends the request's warnings (e.g. a capped page size) to `extensions.warnings`. */
const warningsPlugin: ApolloServerPlugin<SubgraphContext<RequestLoaders>> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, contextValue }) {
        if (contextValue.warnings.length === 0) return;
        const unique = [...new Set(contextValue.warnings)];
        if (response.body.kind === "single") {
          const result = response.body.singleResult;
          result.extensions = { ...result.extensions, warnings: unique };
        }
      },
    };
  },
};

export function createSubgraphServer<L extends RequestLoaders = RequestLoaders>(
  options: SubgraphOptions<L>,
): SubgraphServer<L> {
  const logger = options.logger ?? createLogger(options.name);
  const metrics = options.metrics ?? createServiceMetrics(options.name);
  // Roles as the SDL declares them (@authenticated, @requiresScopes, @policy), enforced here.
  const schema = enforceAuthorization(
    buildSubgraphSchema({
      typeDefs: options.typeDefs,
      resolvers: { ...scalarResolvers, ...options.resolvers } as GraphQLResolverMap<unknown>,
    }),
    options.policies,
  );
  const apollo = new ApolloServer<SubgraphContext<L>>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // The process entry (./process.ts) owns SIGINT/SIGTERM: Apollo's own handlers would stop the
    // server a second time and re-raise the signal mid-shutdown.
    stopOnTerminationSignals: false,
    // Apollo pretty-prints by default: compact JSON costs the gateway fewer bytes to parse.
    stringifyResult: (value) => JSON.stringify(value),
    formatError: (formatted, error) =>
      formatSubgraphError(formatted, error, (cause) =>
        logger.error({ err: cause }, "unexpected error in resolver"),
      ),
    plugins: [
      // Federated tracing (ftv1) is off: the gateway has its own metrics.
      ApolloServerPluginInlineTraceDisabled(),
      // No field declares a cache hint: the default cache-control plugin would still hook every
      // field resolution (willResolveField; 10 % of a 4,478-row billingLeakage's CPU at scale 40).
      ApolloServerPluginCacheControlDisabled(),
      warningsPlugin as unknown as ApolloServerPlugin<SubgraphContext<L>>,
      malformedTextPlugin as ApolloServerPlugin<SubgraphContext<L>>,
      graphqlObservabilityPlugin({ registry: metrics.registry, logger }) as ApolloServerPlugin<
        SubgraphContext<L>
      >,
      // A mutation refused before its operation ran (FORBIDDEN, UNAUTHENTICATED) is audited too.
      refusalAuditPlugin(options.db, (cause) =>
        logger.error({ err: cause }, "audit row for a refused mutation not written"),
      ) as unknown as ApolloServerPlugin<SubgraphContext<L>>,
      ...(options.plugins ?? []),
    ],
  });
  const createContext = (
    headers: Record<string, string | undefined> = {},
    verified?: Principal,
  ) => {
    const warnings: string[] = [];
    const warn = (message: string) => {
      warnings.push(message);
    };
    // In-process callers (tests, benchmarks) without headers are trusted code: admin unless they
    // name roles. Over HTTP, listen() always passes the principal it established.
    const auth = verified ?? developmentPrincipal(headers, IN_PROCESS_ROLES);
    const loaders = options.createLoaders
      ? options.createLoaders(options.db, warn, auth.legalEntities)
      : (new RequestLoaders(options.db, warn, auth.legalEntities) as L);
    return {
      db: options.db,
      loaders,
      principal: auth.id,
      auth,
      scope: auth.legalEntities,
      correlationId: correlationIdOf(headers[CORRELATION_HEADER]),
      warnings,
      warn,
    };
  };
  const execute = async (
    query: string,
    variables: Record<string, unknown> = {},
    headers: Record<string, string | undefined> = {},
  ): Promise<OperationResult> => {
    const response = await apollo.executeOperation(
      { query, variables },
      { contextValue: createContext(headers) },
    );
    if (response.body.kind !== "single") throw new Error("expected a single result");
    return response.body.singleResult as OperationResult;
  };
  return {
    name: options.name,
    apollo,
    schema,
    db: options.db,
    logger,
    metrics,
    createContext,
    execute,
  };
}

// ---------------------------------------------------------------------------------------------
// node:http serving (the adapter itself is ./http.ts, shared with the gateway)
// ---------------------------------------------------------------------------------------------

export interface ListenOptions {
  port: number;
  host?: string;
  /** Largest accepted request body; default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Document limits, checked before Apollo parses or validates (default
   * SUBGRAPH_DOCUMENT_LIMITS): a subgraph reached directly, not through the gateway, must not run
   * what the gateway would refuse.
   */
  limits?: Partial<DocumentLimits>;
  /**
   * GATEWAY_SUBGRAPH_SECRET: when set, every GraphQL request must carry the gateway's signed
   * `x-pshub-principal-token` (401 otherwise); unset, the development headers are trusted.
   */
  gatewaySecret?: string;
}

export interface RunningSubgraph {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4001/graphql */
  url: string;
  port: number;
  /** GraphQL requests received, and those refused before anything ran (401). */
  stats(): { requests: number; unauthenticated: number };
  close(): Promise<void>;
}

const ROUTES = ["/graphql", "/healthz", "/metrics"] as const;

/**
 * Serves the subgraph at /graphql (POST and GET), /healthz and /metrics on a node:http server.
 * Each GraphQL request runs under its `x-correlation-id` (a fresh one when absent): its log
 * lines and its domain events carry it.
 */
export async function listen<L extends RequestLoaders>(
  server: SubgraphServer<L>,
  options: ListenOptions,
): Promise<RunningSubgraph> {
  const { apollo, logger } = server;
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const guard = createDocumentGuard({ ...SUBGRAPH_DOCUMENT_LIMITS, ...options.limits });
  const verify = options.gatewaySecret ? createPrincipalVerifier(options.gatewaySecret) : undefined;
  await apollo.start();
  let ready = true;
  let requests = 0;
  let unauthenticated = 0;

  const http = createServer(async (req, res) => {
    server.metrics.observeHttp(req, res, ROUTES);
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname === "/metrics") return await server.metrics.serve(req, res);
      if (url.pathname === "/healthz") {
        if (!ready) return sendJson(res, 503, { status: "stopping", name: server.name });
        try {
          await server.db.execute(sql`select 1`);
          return sendJson(res, 200, { status: "ok", name: server.name });
        } catch (error) {
          return sendJson(res, 503, {
            status: "database unavailable",
            name: server.name,
            error: (error as Error).message,
          });
        }
      }
      if (url.pathname !== "/graphql") {
        return sendGraphQLError(
          res,
          new HttpError(404, "NOT_FOUND", `no route ${url.pathname}; use /graphql`),
        );
      }
      if (req.method !== "GET" && req.method !== "POST") {
        return sendGraphQLError(res, new HttpError(405, "METHOD_NOT_ALLOWED", "use GET or POST"), {
          allow: "GET, POST",
        });
      }
      requests++;
      // The principal first: a caller the gateway did not sign for gets nothing else.
      let principal: Principal = developmentPrincipal(req.headers);
      if (verify) {
        try {
          const token = req.headers[PRINCIPAL_TOKEN_HEADER];
          principal = await verify(Array.isArray(token) ? token[0] : token);
        } catch (error) {
          if (!(error instanceof PrincipalTokenError)) throw error;
          unauthenticated++;
          return sendGraphQLError(res, new HttpError(401, "UNAUTHENTICATED", error.message), {
            "www-authenticate": "Bearer",
          });
        }
      }
      const correlationId = correlationIdOf(req.headers[CORRELATION_HEADER]);
      req.headers[CORRELATION_HEADER] = correlationId;
      await serverSpan(
        `${server.name} ${req.method} /graphql`,
        req.headers,
        { "http.request.method": req.method ?? "", "pshub.correlation_id": correlationId },
        (span) =>
          withCorrelationId(correlationId, async () => {
            await handleGraphQL(
              apollo,
              req,
              res,
              async (headers) => server.createContext(Object.fromEntries(headers), principal),
              { maxBodyBytes: limit, checkQuery: (source) => guard.check(source) },
            );
            span.setAttribute("http.response.status_code", res.statusCode);
          }),
      );
    } catch (error) {
      if (error instanceof HttpError) return sendGraphQLError(res, error);
      logger.error({ err: error }, "request failed");
      if (!res.headersSent) {
        sendGraphQLError(res, new HttpError(500, "INTERNAL_SERVER_ERROR", "Internal server error"));
      } else res.end();
    }
  });

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host ?? "127.0.0.1", () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const host = options.host && options.host !== "0.0.0.0" ? options.host : "127.0.0.1";
  return {
    url: `http://${host}:${port}/graphql`,
    port,
    stats: () => ({ requests, unauthenticated }),
    async close() {
      ready = false;
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await apollo.stop();
    },
  };
}

export type { BaseContext };
