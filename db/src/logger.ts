/**
 * One logger for every pshub process, and one log format.
 *
 * Every line is one record with the same schema — `time` (ISO 8601), `level` (its name),
 * `service`, `msg`, `correlationId` when the line belongs to a request, command or event, and the
 * line's own fields. `LOG_FORMAT=json` writes the records as JSON lines; `LOG_FORMAT=pretty`
 * renders them as one readable line each (pino-pretty); unset, pretty on a terminal and JSON
 * otherwise. The `npm start` launcher runs its children with `LOG_FORMAT=json` and renders their
 * lines in its own format (scripts/start.ts `pipeLines`), so a file or a log shipper gets JSON
 * from every process and a terminal gets pretty lines from every process.
 *
 * The correlation id comes from the async context: code running inside
 * {@link withCorrelationId} (the gateway's and each subgraph's request handling, the outbound
 * worker's command) logs it on every line without passing it around.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import pino, { type Logger } from "pino";
import { prettyFactory } from "pino-pretty";

export type { Logger };

export type LogFormat = "pretty" | "json";
export const LOG_FORMATS = ["pretty", "json"] as const;

/** The header a correlation id travels in: client → gateway → subgraph (and back in responses). */
export const CORRELATION_HEADER = "x-correlation-id";

/** Correlation ids are uuids end to end (domain_event.correlation_id is a uuid column). */
const CORRELATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The correlation id a request header carries when it is a uuid, else a fresh one. */
export function correlationIdOf(header: string | string[] | undefined): string {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  return value && CORRELATION_ID.test(value) ? value.toLowerCase() : randomUUID();
}

const correlation = new AsyncLocalStorage<string>();

/** Runs `fn` with `id` as the correlation id of every log line written inside it. */
export function withCorrelationId<T>(id: string | null | undefined, fn: () => T): T {
  return id ? correlation.run(id, fn) : fn();
}

/** The correlation id of the current request, command or event, if any. */
export function currentCorrelationId(): string | undefined {
  return correlation.getStore();
}

/** LOG_FORMAT, else pretty on a terminal and JSON lines otherwise. */
export function logFormat(
  value = process.env.LOG_FORMAT,
  tty = process.stdout.isTTY === true,
): LogFormat {
  if (value === "pretty" || value === "json") return value;
  return tty ? "pretty" : "json";
}

/** Renders one JSON log record as the pretty line (also used by the launcher for its children). */
export function prettyLine(colorize = process.stdout.isTTY === true): (record: object) => string {
  return prettyFactory({
    colorize,
    translateTime: "HH:MM:ss.l",
    ignore: "pid,hostname,service",
    messageFormat: "[{service}] {msg}",
    singleLine: true,
  });
}

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
  /** Where the lines go (default stdout): tests pass a stream to read them back. */
  destination?: { write(line: string): unknown };
}

/**
 * The logger of one service (`service` is its name in scripts/services.ts: "gateway",
 * "customer", "cdc", …). A second argument that is a string is the level, as before.
 */
export function createLogger(service: string, options: LoggerOptions | string = {}): Logger {
  const {
    level = process.env.LOG_LEVEL ?? "info",
    format = logFormat(),
    destination,
  } = typeof options === "string" ? { level: options } : options;
  const out = destination ?? pino.destination({ dest: 1, sync: true });
  const render = format === "pretty" ? prettyLine() : undefined;
  const stream = render
    ? { write: (line: string) => out.write(`${render(JSON.parse(line))}\n`) }
    : out;
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => {
        const id = correlation.getStore();
        return id ? { correlationId: id } : {};
      },
    },
    stream,
  );
}
