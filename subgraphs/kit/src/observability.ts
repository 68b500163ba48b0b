/**
 * GraphQL metrics and the request log line, for the gateway and every subgraph alike: one Apollo
 * plugin over a service's registry (@pshub/db metrics.ts).
 *
 * - `pshub_graphql_operations_total{operation_name, operation_type, outcome}` — outcome `ok`,
 *   `error` (any error in the response) or `rejected` (parse, validation or a document limit);
 * - `pshub_graphql_operation_duration_seconds{operation_name, operation_type}`;
 * - `pshub_graphql_errors_total{operation_name, code}` — each error by its `extensions.code`.
 *
 * Operation names are the client's own: at most {@link MAX_OPERATION_NAMES} distinct ones become
 * label values (the rest are `other`), so a client cannot grow the registry without bound.
 *
 * One log line per operation with its name, type, outcome and duration: `info` for mutations,
 * `debug` for queries, `warn` when the hub itself failed (INTERNAL_SERVER_ERROR,
 * SERVICE_UNAVAILABLE). The correlation id is on it through the logger's async context.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import {
  annotateSpan,
  Counter,
  Histogram,
  LATENCY_BUCKETS,
  type Logger,
  type Registry,
} from "@pshub/db";

export const MAX_OPERATION_NAMES = 200;

/** `query Name`, `mutation Name`, `subscription Name` at the start of a document. */
const DECLARED = /^\s*(query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

const HUB_FAILURES = new Set(["INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"]);

export function graphqlObservabilityPlugin(options: {
  registry: Registry;
  logger?: Logger;
}): ApolloServerPlugin {
  const { registry, logger } = options;
  const operations = new Counter({
    name: "pshub_graphql_operations_total",
    help: "GraphQL operations by name, type and outcome (ok; error: any error in the response; rejected: parse, validation or a document limit)",
    labelNames: ["operation_name", "operation_type", "outcome"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "pshub_graphql_operation_duration_seconds",
    help: "Time from receiving a GraphQL operation to sending its response, by name and type",
    labelNames: ["operation_name", "operation_type"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const errors = new Counter({
    name: "pshub_graphql_errors_total",
    help: "Errors in GraphQL responses, by operation name and extensions.code",
    labelNames: ["operation_name", "code"] as const,
    registers: [registry],
  });
  const names = new Set<string>();
  const label = (name: string | null | undefined): string => {
    if (!name) return "anonymous";
    const cut = name.slice(0, 100);
    if (names.has(cut)) return cut;
    if (names.size >= MAX_OPERATION_NAMES) return "other";
    names.add(cut);
    return cut;
  };

  return {
    // The document limits refuse a request before Apollo parses it (http.ts checkQuery).
    async contextCreationDidFail() {
      operations.inc({ operation_name: "unknown", operation_type: "unknown", outcome: "rejected" });
    },
    async requestDidStart({ request }) {
      const started = performance.now();
      let type = "unknown";
      let rejected = false;
      return {
        async didResolveOperation({ operation }) {
          type = operation?.operation ?? "unknown";
        },
        async parsingDidStart() {
          return async (error) => {
            if (error) rejected = true;
          };
        },
        async validationDidStart() {
          return async (validationErrors) => {
            if (validationErrors?.length) rejected = true;
          };
        },
        async willSendResponse({ response, errors: requestErrors, operationName }) {
          // A document refused before it resolved still has the name its text gives it.
          const declared = DECLARED.exec(request.query ?? "");
          const name = label(operationName ?? request.operationName ?? declared?.[2]);
          if (type === "unknown" && declared?.[1]) type = declared[1];
          const sent =
            response.body.kind === "single" ? (response.body.singleResult.errors ?? []) : [];
          const all = sent.length > 0 ? sent : (requestErrors ?? []);
          const codes = all.map((e) => String(e.extensions?.code ?? "UNKNOWN"));
          const outcome = rejected ? "rejected" : codes.length > 0 ? "error" : "ok";
          const seconds = (performance.now() - started) / 1000;
          operations.inc({ operation_name: name, operation_type: type, outcome });
          duration.observe({ operation_name: name, operation_type: type }, seconds);
          for (const code of codes) errors.inc({ operation_name: name, code });
          annotateSpan({
            "graphql.operation.name": name,
            "graphql.operation.type": type,
            "pshub.graphql.outcome": outcome,
          });
          if (!logger) return;
          const line = {
            operationName: name,
            operationType: type,
            outcome,
            durationMs: Math.round(seconds * 10_000) / 10,
            ...(codes.length > 0 ? { codes: [...new Set(codes)] } : {}),
          };
          const message = `${type} ${name} ${outcome}`;
          if (codes.some((code) => HUB_FAILURES.has(code))) logger.warn(line, message);
          else if (type === "mutation") logger.info(line, message);
          else logger.debug(line, message);
        },
      };
    },
  };
}
