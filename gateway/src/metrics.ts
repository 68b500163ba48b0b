/**
 * Prometheus metrics of the gateway (GET /metrics): requests by operation type and outcome,
 * their duration, and subgraph fetch errors. One registry per gateway instance, so several
 * gateways in one test process do not collide.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

export interface GatewayMetrics {
  registry: Registry;
  plugin: ApolloServerPlugin;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics)
    collectDefaultMetrics({ register: registry, prefix: "pshub_gateway_" });
  const requests = new Counter({
    name: "pshub_gateway_requests_total",
    help: "GraphQL requests by operation type and outcome (ok, error: any error in the response, rejected: parse/validation/limits)",
    labelNames: ["operation", "outcome"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "pshub_gateway_request_duration_seconds",
    help: "Time from receiving a GraphQL request to sending its response",
    labelNames: ["operation"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const plugin: ApolloServerPlugin = {
    // The document limits refuse a request before Apollo parses it (see http.ts checkQuery).
    async contextCreationDidFail() {
      requests.inc({ operation: "unknown", outcome: "rejected" });
    },
    async requestDidStart() {
      const started = performance.now();
      let operation = "unknown";
      let rejected = false;
      return {
        async didResolveOperation({ operation: resolved }) {
          operation = resolved?.operation ?? "unknown";
        },
        async parsingDidStart() {
          return async (error) => {
            if (error) rejected = true;
          };
        },
        async validationDidStart() {
          return async (errors) => {
            if (errors?.length) rejected = true;
          };
        },
        async willSendResponse({ response, errors }) {
          const hasErrors =
            (errors?.length ?? 0) > 0 ||
            (response.body.kind === "single" &&
              (response.body.singleResult.errors?.length ?? 0) > 0);
          const outcome = rejected ? "rejected" : hasErrors ? "error" : "ok";
          requests.inc({ operation, outcome });
          duration.observe({ operation }, (performance.now() - started) / 1000);
        },
      };
    },
  };
  return { registry, plugin };
}
