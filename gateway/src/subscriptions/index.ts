/**
 * Live subscriptions on the gateway: `attachSubscriptions(gateway, { sql, url })` puts a
 * graphql-ws server on the gateway's HTTP server (same port and /graphql path), fed by one
 * outbox reader per process. Call its `close()` before the gateway's.
 */

import type { Server } from "node:http";
import type { ApolloGateway } from "@apollo/gateway";
import {
  Counter,
  Gauge,
  Histogram,
  type Logger,
  type Principal,
  type Registry,
  type Sql,
} from "@pshub/db";
import { EventFactsLoader, OutboxReader } from "@pshub/db/outbox";
import type { Requirement } from "@pshub/subgraph-kit/authorization";
import type { DocumentLimits } from "@pshub/subgraph-kit/limits";
import type { GraphQLSchema } from "graphql";
import type { RateLimiter } from "../rate-limit.ts";
import type { TrustedDocuments } from "../trusted-documents.ts";
import type { FederatedExecutor } from "./execute.ts";
import {
  type Authenticate,
  createSubscriptionServer,
  type SubscriptionServer,
  type SubscriptionStats,
} from "./server.ts";

export * from "./execute.ts";
export * from "./fields.ts";
export * from "./server.ts";

/** What of the gateway subscriptions need (PshubGateway has all of it). */
export interface GatewayLike {
  httpServer: Server;
  gateway?: ApolloGateway;
  /** The gateway's document limits and body limit: subscribe messages get the same. */
  documentGuard?: { limits: DocumentLimits };
  maxBodyBytes?: number;
  /** The gateway's per-principal budget: subscribes spend from it as HTTP requests do. */
  rateLimiter?: RateLimiter;
  /** The gateway's trusted documents, applied to subscribe messages too. */
  trustedDocuments?: TrustedDocuments;
  schema(): GraphQLSchema | undefined;
  /** What each Subscription field requires (PshubGateway reads it from the supergraph). */
  subscriptionRequirements?(): ReadonlyMap<string, Requirement> | undefined;
  execute: (request: {
    query: import("graphql").DocumentNode;
    variables?: Record<string, unknown>;
    principal?: Principal;
  }) => ReturnType<FederatedExecutor>;
  /** The gateway's authenticator: sockets are authenticated exactly as HTTP requests are. */
  authenticate?: Authenticate;
  /** The gateway's metrics registry: the subscription series are added to it. */
  metrics?: { registry: Registry };
}

export interface AttachSubscriptionsOptions {
  /** Pool for event reads and filter lookups. */
  sql: Sql;
  /** Database URL, for the reader's dedicated LISTEN connection. */
  url: string;
  log?: Logger;
  /** Default: the gateway's own (`gateway.authenticate`). */
  authenticate?: Authenticate;
  maxSubscriptionsPerConnection?: number;
  /** Subscriptions this process serves in all. */
  maxSubscriptions?: number;
  keepAliveMs?: number;
  /** Per-subscriber queue limit before it is ended as lagging. */
  maxQueue?: number;
  /** Estimated bytes of parsed subscription documents kept for reuse (default 32 MB). */
  documentCacheBytes?: number;
  /** Live fan-out: sockets written per turn of the event loop (fanout.ts; 0 = a batch per turn). */
  fanoutWriteTurn?: number;
}

export interface AttachedSubscriptions extends SubscriptionServer {
  reader: OutboxReader;
  stats(): SubscriptionStats & { frontier: number; listening: boolean };
}

export async function attachSubscriptions(
  gateway: GatewayLike,
  options: AttachSubscriptionsOptions,
): Promise<AttachedSubscriptions> {
  const reader = new OutboxReader({
    sql: options.sql,
    url: options.url,
    log: options.log,
    maxQueue: options.maxQueue,
  });
  await reader.start();
  const fanout = gateway.metrics
    ? new Histogram({
        name: "pshub_subscription_fanout_seconds",
        help: "Live fan-out per batch of events: resolving the shared results (phase=resolve), then writing them to every member's socket (phase=write)",
        labelNames: ["phase"],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [gateway.metrics.registry],
      })
    : undefined;
  const server = createSubscriptionServer({
    httpServer: gateway.httpServer,
    schema: () => gateway.schema(),
    requirements: () => gateway.subscriptionRequirements?.(),
    execute: (request) => gateway.execute(request),
    reader,
    facts: new EventFactsLoader(options.sql),
    authenticate: options.authenticate ?? gateway.authenticate,
    maxSubscriptionsPerConnection: options.maxSubscriptionsPerConnection,
    maxSubscriptions: options.maxSubscriptions,
    rateLimiter: gateway.rateLimiter,
    trustedDocuments: gateway.trustedDocuments,
    keepAliveMs: options.keepAliveMs,
    maxPayloadBytes: gateway.maxBodyBytes,
    documentLimits: gateway.documentGuard?.limits,
    documentCacheBytes: options.documentCacheBytes,
    fanoutWriteTurn: options.fanoutWriteTurn,
    fannedOut: fanout
      ? (resolveSeconds, writeSeconds) => {
          fanout.observe({ phase: "resolve" }, resolveSeconds);
          fanout.observe({ phase: "write" }, writeSeconds);
        }
      : undefined,
    log: options.log,
  });
  // A reloaded supergraph: running subscriptions go on, or end with a retryable error.
  const unsubscribe = gateway.gateway?.onSchemaLoadOrUpdate(({ apiSchema }) =>
    server.schemaChanged(apiSchema),
  );
  if (gateway.metrics) registerSubscriptionMetrics(gateway.metrics.registry, server, reader);
  return {
    reader,
    schemaChanged: (schema) => server.schemaChanged(schema),
    stats: () => ({
      ...server.stats(),
      frontier: reader.position,
      listening: reader.isListening,
    }),
    async close() {
      unsubscribe?.();
      await server.close();
      await reader.close();
    },
  };
}

/** Subscriptions and connections open now, events delivered, and how far the outbox was read. */
function registerSubscriptionMetrics(
  registry: Registry,
  server: SubscriptionServer,
  reader: OutboxReader,
): void {
  new Gauge({
    name: "pshub_subscriptions_active",
    help: "GraphQL subscriptions running on this gateway",
    registers: [registry],
    collect() {
      this.set(server.stats().subscriptions);
    },
  });
  new Gauge({
    name: "pshub_subscription_connections",
    help: "graphql-ws connections open on this gateway",
    registers: [registry],
    collect() {
      this.set(server.stats().connections);
    },
  });
  let counted = 0;
  const delivered = new Counter({
    name: "pshub_subscription_events_delivered_total",
    help: "Events sent to subscribers (one per subscription per event)",
    registers: [registry],
    collect() {
      const now = server.stats().delivered;
      delivered.inc(now - counted);
      counted = now;
    },
  });
  let laggingCounted = 0;
  const lagging = new Counter({
    name: "pshub_subscriptions_lagging_total",
    help: "Subscriptions ended with SUBSCRIPTION_LAGGING (a client not reading, or too far behind)",
    registers: [registry],
    collect() {
      const now = server.stats().lagging;
      lagging.inc(now - laggingCounted);
      laggingCounted = now;
    },
  });
  new Gauge({
    name: "pshub_outbox_frontier_event_id",
    help: "The last domain_event id the gateway's outbox reader has passed",
    registers: [registry],
    collect() {
      this.set(reader.position);
    },
  });
}
