/**
 * The gateway's HTTP routes: /graphql (CORS preflight, authentication, rate limit, trusted
 * documents, then Apollo through the kit's HTTP adapter), /healthz, /readyz, /metrics, the IDE (./ide/serve.ts) and a 404
 * naming the routes, the ops console on /ops (./console/serve.ts). The Apollo wiring is in ./gateway.ts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApolloServer } from "@apollo/server";
import {
  CORRELATION_HEADER,
  correlationIdOf,
  type ServiceMetrics,
  serverSpan,
  withCorrelationId,
} from "@pshub/db";
import { LEGAL_ENTITIES_HEADER, PRINCIPAL_ID_HEADER, ROLES_HEADER } from "@pshub/subgraph-kit";
import { HttpError, handleGraphQL, sendGraphQLError, sendJson } from "@pshub/subgraph-kit/http";
import type { DocumentGuard } from "@pshub/subgraph-kit/limits";
import { API_KEY_HEADER, type Authenticator } from "./auth.ts";
import { serveConsole } from "./console/serve.ts";
import type { GatewayContext } from "./gateway.ts";
import type { HealthReport } from "./health.ts";
import type { ExampleTab } from "./ide/examples.ts";
import { serveIde } from "./ide/serve.ts";
import { type createRateLimiter, RATE_LIMITED, rateLimitMessage } from "./rate-limit.ts";
import { resolveHttpDocument, type TrustedDocuments } from "./trusted-documents.ts";

export interface RouteDependencies {
  apolloServer: ApolloServer<GatewayContext>;
  authenticate: Authenticator;
  rateLimiter: ReturnType<typeof createRateLimiter>;
  documentGuard: DocumentGuard;
  trustedDocuments: TrustedDocuments;
  metrics: ServiceMetrics;
  health: () => Promise<HealthReport>;
  maxBodyBytes: number;
  /** The IDE's example tabs; undefined: no IDE. */
  ide: ExampleTab[] | undefined;
  /** Serve the ops console on /ops. */
  opsConsole: boolean;
  hasSchema: () => boolean;
  isClosing: () => boolean;
}

/** The gateway's routes (also the `route` label values of its HTTP metrics; others are "other"). */
export const ROUTES = [
  "/graphql",
  "/",
  "/playground",
  "/ops",
  "/healthz",
  "/readyz",
  "/metrics",
  "/favicon.ico",
] as const;

/** The gateway's request handler (errors it throws are the caller's: a 500). */
export function createRequestHandler(
  deps: RouteDependencies,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const {
    apolloServer,
    authenticate,
    rateLimiter,
    documentGuard,
    trustedDocuments,
    metrics,
    health,
    maxBodyBytes,
    ide,
    opsConsole,
    hasSchema,
    isClosing,
  } = deps;
  const corsHeaders = {
    "access-control-allow-origin": "*",
    "access-control-allow-headers": `content-type, authorization, ${API_KEY_HEADER}, ${PRINCIPAL_ID_HEADER}, ${ROLES_HEADER}, ${LEGAL_ENTITIES_HEADER}, ${CORRELATION_HEADER}, apollo-require-preflight`,
    "access-control-allow-methods": "GET, POST, OPTIONS",
  };

  return async (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const method = req.method ?? "GET";
    if (path === "/graphql") {
      if (method === "OPTIONS") {
        res.writeHead(204, { ...corsHeaders, "access-control-max-age": "600" });
        res.end();
        return;
      }
      const correlationId = correlationIdOf(req.headers[CORRELATION_HEADER]);
      const extraHeaders = { ...corsHeaders, [CORRELATION_HEADER]: correlationId };
      const auth = await authenticate(req.headers);
      if (!auth.ok) {
        sendGraphQLError(res, new HttpError(401, "UNAUTHENTICATED", auth.message), {
          ...extraHeaders,
          "www-authenticate": "Bearer",
        });
        return;
      }
      const allowed = await rateLimiter.consume(auth.principal, req.socket.remoteAddress);
      if (!allowed.ok) {
        sendGraphQLError(
          res,
          new HttpError(429, RATE_LIMITED, rateLimitMessage(allowed.retryAfterSeconds)),
          { ...extraHeaders, "retry-after": String(allowed.retryAfterSeconds) },
        );
        return;
      }
      const context: GatewayContext = { principal: auth.principal, correlationId, warnings: [] };
      try {
        await serverSpan(
          `gateway ${method} /graphql`,
          req.headers,
          { "http.request.method": method, "pshub.correlation_id": correlationId },
          (span) =>
            withCorrelationId(correlationId, async () => {
              await handleGraphQL(apolloServer, req, res, async () => context, {
                maxBodyBytes,
                extraHeaders,
                checkQuery: (source) => documentGuard.check(source),
                specStatus: true,
                // Trusted documents: an id becomes its registered text; unregistered text may be refused.
                rewrite: (request) =>
                  resolveHttpDocument(trustedDocuments, auth.principal, request),
              });
              span.setAttribute("http.response.status_code", res.statusCode);
            }),
        );
      } catch (error) {
        if (error instanceof HttpError) sendGraphQLError(res, error, extraHeaders);
        else throw error;
      }
      return;
    }
    if (method !== "GET" && method !== "HEAD") {
      sendJson(res, 405, { error: `${method} is not allowed on ${path}` }, { allow: "GET" });
      return;
    }
    if (path === "/healthz") {
      const report = await health();
      sendJson(res, report.status === "ok" && !isClosing() ? 200 : 503, report);
      return;
    }
    if (path === "/metrics") {
      await metrics.serve(req, res);
      return;
    }
    if (path === "/readyz") {
      const ready = hasSchema() && !isClosing();
      sendJson(res, ready ? 200 : 503, {
        status: ready ? "ok" : "unavailable",
        schema: hasSchema(),
      });
      return;
    }
    if (path === "/favicon.ico") {
      res.writeHead(204, { "cache-control": "public, max-age=86400" });
      res.end();
      return;
    }
    if (ide && (await serveIde(path, res, ide))) return;
    if (opsConsole && (await serveConsole(path, res))) return;
    sendJson(res, 404, {
      error: `no route for ${path}`,
      routes: ROUTES.filter((route) => route !== "/favicon.ico"),
    });
  };
}
