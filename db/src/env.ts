/**
 * The database package's configuration, parsed once with zod. Nothing else in db/ reads
 * process.env. A bad value stops the process with one line naming the variable.
 */
import { z } from "zod";

const postgresUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === "postgres:" || url.protocol === "postgresql:";
  } catch {
    return false;
  }
}, "must be a postgres:// or postgresql:// URL, e.g. postgres://user@127.0.0.1:5432/pshub");

export const dbEnvSchema = z.object({
  DATABASE_URL: postgresUrl.optional(),
  /** Where embedded Postgres keeps its data when DATABASE_URL is unset. */
  PSHUB_DATA_DIR: z.string().min(1).optional(),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  /** pretty | json; unset: pretty on a terminal, JSON lines otherwise (logger.ts). */
  LOG_FORMAT: z.enum(["pretty", "json"]).optional(),
  /**
   * Who may scrape GET /metrics from another host: a caller sending `Authorization: Bearer
   * <METRICS_TOKEN>`. Loopback callers may always scrape; unset, only they may (metrics.ts).
   */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
});

export type DbEnv = z.infer<typeof dbEnvSchema>;

/**
 * Parses an environment object. Throws a {@link ConfigError} whose message names every bad
 * variable, one per line.
 */
export function parseEnv<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "(environment)";
    const got = issue.path.length ? source[String(issue.path[0])] : undefined;
    return `invalid environment variable ${name}${got === undefined ? "" : `=${JSON.stringify(got)}`}: ${issue.message}`;
  });
  throw new ConfigError(lines.join("\n"));
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * For a service's entry point: parse or exit(78) with the message on stderr, no stack trace.
 */
export function loadEnvOrExit<S extends z.ZodType>(schema: S, source = process.env): z.infer<S> {
  try {
    return parseEnv(schema, source);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

let cached: DbEnv | undefined;
/** The db package's own settings, parsed on first use. */
export function dbEnv(): DbEnv {
  cached ??= parseEnv(dbEnvSchema, process.env);
  return cached;
}
