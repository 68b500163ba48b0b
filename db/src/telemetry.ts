/**
 * OpenTelemetry traces, exported over OTLP/HTTP only when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; otherwise nothing is loaded and every span below is
 * the API's no-op. The standard OTEL_* variables apply (OTEL_SERVICE_NAME overrides the service
 * name, OTEL_TRACES_SAMPLER, OTEL_BSP_SCHEDULE_DELAY, OTEL_EXPORTER_OTLP_HEADERS, …).
 *
 * What makes one trace of a request across processes:
 * - each server (gateway, subgraphs) opens its SERVER span with {@link serverSpan}, continuing
 *   the caller's W3C `traceparent`;
 * - @apollo/gateway's own spans (gateway.request, gateway.plan, gateway.execute, gateway.fetch)
 *   nest under it, through the SDK's async context;
 * - the gateway's subgraph client is undici, whose instrumentation (below) opens a CLIENT span
 *   under gateway.fetch and injects its context into the request, so a subgraph's span is a
 *   child of the gateway's fetch;
 * - database work is a CLIENT span per statement or transaction (client.ts);
 * - outgoing `fetch` (undici) and CommonJS `http` clients (jsforce, …) are instrumented by
 *   @opentelemetry/instrumentation-undici and -http.
 *
 * The servers open their spans themselves rather than through instrumentation-http: our modules
 * are ES modules that import node:http by name, which the http instrumentation cannot patch
 * without a loader hook; explicit spans work the same under tsx, vitest and plain node.
 */
import {
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";

export interface Telemetry {
  /** Flushes buffered spans and stops exporting. */
  shutdown(): Promise<void>;
}

const TRACER = "@pshub/hub";

/** Set once the SDK runs: until then database work opens no span at all (not even a no-op). */
let tracing = false;

/** Whether an OTLP endpoint is configured (the only case in which the SDK is started). */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts the OpenTelemetry SDK for one service when an OTLP endpoint is set; call it first in a
 * process's entry. Returns undefined (and loads nothing) otherwise.
 */
export async function startTelemetry(
  service: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Telemetry | undefined> {
  if (!tracingConfigured(env)) return undefined;
  const [{ NodeSDK }, { OTLPTraceExporter }, { HttpInstrumentation }, { UndiciInstrumentation }] =
    await Promise.all([
      import("@opentelemetry/sdk-node"),
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/instrumentation-http"),
      import("@opentelemetry/instrumentation-undici"),
    ]);
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? `pshub-${service}`,
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [
      // Incoming requests get their span from serverSpan (see above); outgoing CommonJS http
      // clients are traced here.
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
      new UndiciInstrumentation(),
    ],
    // Logs go through pino and metrics through prom-client: traces only.
    logRecordProcessors: [],
  });
  sdk.start();
  tracing = true;
  return { shutdown: () => sdk.shutdown() };
}

/**
 * Runs `fn` in a SERVER span that continues the caller's trace (W3C `traceparent` in `headers`).
 * A thrown error or a 5xx status marks the span as an error.
 */
export function serverSpan<T>(
  name: string,
  headers: Record<string, string | string[] | undefined>,
  attributes: Record<string, string | number>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), headers);
  return trace
    .getTracer(TRACER)
    .startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, parent, async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
}

/** Sets attributes on the current span (the request's SERVER span), if tracing is on. */
export function annotateSpan(attributes: Record<string, string | number>): void {
  if (tracing) trace.getActiveSpan()?.setAttributes(attributes);
}

/** A CLIENT span around one database statement or transaction (no-op unless tracing is on). */
export function databaseSpan<T>(name: string, statement: string | undefined, work: () => T): T {
  if (!tracing) return work();
  const tracer = trace.getTracer(TRACER);
  return tracer.startActiveSpan(
    name,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        "db.system": "postgresql",
        ...(statement ? { "db.statement": statement.slice(0, 500) } : {}),
      },
    },
    (span) => {
      try {
        const result = work();
        if (result instanceof Promise) {
          return result.then(
            (value) => {
              span.end();
              return value;
            },
            (error: unknown) => {
              span.setStatus({ code: SpanStatusCode.ERROR });
              span.end();
              throw error;
            },
          ) as T;
        }
        span.end();
        return result;
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        throw error;
      }
    },
  );
}
