/**
 * The one place that opens database connections. Everything else takes a `Db` (or a transaction
 * from it) as an argument.
 */
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { DatabaseUnavailableError, isConnectionError } from "./errors.ts";
import * as schema from "./schema.ts";
import { databaseSpan } from "./telemetry.ts";

export type Schema = typeof schema;
export type Db = PostgresJsDatabase<Schema>;
/** A transaction handle; every hub operation takes one. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type Sql = postgres.Sql;

export interface DbClient {
  db: Db;
  /** The raw postgres.js pool, for LISTEN/NOTIFY and hand-written set-based SQL. */
  sql: Sql;
  close(): Promise<void>;
  /** The pool's size and what holds or waits for its connections now (metrics.ts). */
  stats(): PoolStats;
}

export interface PoolStats {
  max: number;
  /** Transactions begun and not yet ended (each holds a connection, or waits for one). */
  transactionsInFlight: number;
  /** Single statements outside a transaction, running or waiting for a connection. */
  statementsInFlight: number;
  /** Statements and transactions ended, and those of them that failed. */
  completed: number;
  failed: number;
}

export interface ClientOptions {
  max?: number;
  /** Called for every SQL statement (used by tests that count queries). */
  onQuery?: (query: string) => void;
  applicationName?: string;
  /** Called when a statement or transaction is retried after its connection was lost. */
  onRetry?: (attempt: number, error: unknown) => void;
  /**
   * Called as each drizzle statement is sent, with its text, parameters and options; the function
   * it returns is called when the statement has finished (the bench's SQL floor records with it).
   */
  onStatement?: StatementTracer;
}

export type StatementTracer = (
  query: string,
  params: unknown[] | undefined,
  options: postgres.UnsafeQueryOptions | undefined,
) => () => void;

/**
 * How long a statement waits for the database to come back, in attempts: a dead pooled
 * connection (the server restarted, or terminated the backend) fails the first attempt at once
 * and a fresh connection serves the second; a server that is down is retried for ~2.5 s in all,
 * then the caller gets {@link DatabaseUnavailableError} (SERVICE_UNAVAILABLE, retryable).
 */
const RETRY_DELAYS_MS = [0, 100, 400, 800, 1200];

/** A statement that only reads: safe to run again after its connection died under it. */
const READ_ONLY = /^\s*(?:select|show|values|table)\b/i;
const WRITES =
  /\b(?:insert|update|delete|merge|into|for\s+(?:update|share|no\s+key\s+update|key\s+share)|nextval|setval|pg_advisory|notify)\b/i;
export function isReadOnlyStatement(query: string): boolean {
  return READ_ONLY.test(query) && !WRITES.test(query);
}

async function withRetries<T>(
  run: () => Promise<T>,
  safe: (error: unknown) => boolean,
  onRetry?: (attempt: number, error: unknown) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      const delay = RETRY_DELAYS_MS[attempt + 1];
      if (delay === undefined || !safe(error)) {
        throw new DatabaseUnavailableError(undefined, { cause: error });
      }
      onRetry?.(attempt + 1, error);
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * The pool as drizzle sees it, with one change: a statement or transaction that failed because
 * its connection was lost is run again on a fresh connection when that is safe — a read-only
 * statement, or a transaction whose callback had not finished (so COMMIT was never sent: the
 * server rolled it back). A failure during COMMIT, or of a single write statement, is not retried
 * (it may have committed): it becomes DatabaseUnavailableError. Anything else passes through.
 */
function resilient(
  sql: postgres.Sql,
  stats: PoolStats,
  onRetry?: (attempt: number, error: unknown) => void,
  onStatement?: StatementTracer,
): postgres.Sql {
  const track = <T>(kind: "transactionsInFlight" | "statementsInFlight", work: Promise<T>) => {
    stats[kind]++;
    return work.then(
      (value) => {
        stats[kind]--;
        stats.completed++;
        return value;
      },
      (error: unknown) => {
        stats[kind]--;
        stats.completed++;
        stats.failed++;
        throw error;
      },
    );
  };
  const unsafe = (query: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) => {
    const readOnly = isReadOnlyStatement(query);
    const run = <T>(exec: () => Promise<T>) => {
      if (!onStatement) return withRetries(exec, () => readOnly, onRetry);
      const done = onStatement(query, params, options);
      return withRetries(exec, () => readOnly, onRetry).finally(done);
    };
    const once = () => sql.unsafe(query, params as postgres.ParameterOrJSON<never>[], options);
    // drizzle awaits the query or calls .values() on it; each runs (and retries) on demand.
    let result: Promise<unknown> | undefined;
    const rows = () => {
      result ??= track(
        "statementsInFlight",
        databaseSpan("db.statement", query, () => run(() => once())),
      );
      return result;
    };
    return {
      // biome-ignore lint/suspicious/noThenProperty: a thenable, as postgres.js queries are
      then: (resolve?: (v: unknown) => unknown, reject?: (e: unknown) => unknown) =>
        rows().then(resolve, reject),
      catch: (reject: (e: unknown) => unknown) => rows().catch(reject),
      finally: (fn: () => void) => rows().finally(fn),
      values: () =>
        track(
          "statementsInFlight",
          databaseSpan("db.statement", query, () => run(() => once().values())),
        ),
    };
  };
  const begin = (...args: unknown[]) => {
    const fn = args.at(-1) as (tx: postgres.TransactionSql) => Promise<unknown>;
    const mode = args.length > 1 ? (args[0] as string) : undefined;
    let finished = false;
    const attempt = () => {
      finished = false;
      const body = async (tx: postgres.TransactionSql) => {
        const value = await fn(tx);
        finished = true;
        return value;
      };
      return mode ? sql.begin(mode, body) : sql.begin(body);
    };
    return track(
      "transactionsInFlight",
      databaseSpan("db.transaction", undefined, () =>
        withRetries(attempt, () => !finished, onRetry),
      ),
    );
  };
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === "unsafe") return unsafe;
      if (property === "begin") return begin;
      return Reflect.get(target, property, receiver);
    },
  });
}

export function createDbClient(url: string, options: ClientOptions = {}): DbClient {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "pshub" },
    // numeric and bigint stay strings: money is never a float.
    types: {},
    // An unreachable server fails a connection attempt within seconds (the default waits 30 s).
    connect_timeout: 5,
    // Seconds before reconnecting after the n-th failed connection in a row. postgres.js's default
    // (up to 20 s) is what made every request hang 12–18 s after a restart; at most ~1 s here.
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(0.05 * 2 ** retries, 1),
  });
  const stats: PoolStats = {
    max: options.max ?? 10,
    transactionsInFlight: 0,
    statementsInFlight: 0,
    completed: 0,
    failed: 0,
  };
  const db = drizzle(resilient(sql, stats, options.onRetry, options.onStatement), {
    schema,
    casing: "snake_case",
    logger: options.onQuery ? { logQuery: (query) => options.onQuery?.(query) } : false,
  });
  return { db, sql, close: () => sql.end({ timeout: 5 }), stats: () => ({ ...stats }) };
}

/** Replaces the database name in a connection URL. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
