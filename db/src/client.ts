/**
 * The one place that opens database connections. Everything else takes a `Db` (or a transaction
 * from it) as an argument.
 */
import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema.ts";

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
}

export interface ClientOptions {
  max?: number;
  /** Called for every SQL statement (used by tests that count queries). */
  onQuery?: (query: string) => void;
  applicationName?: string;
}

export function createDbClient(url: string, options: ClientOptions = {}): DbClient {
  const sql = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "pshub" },
    // numeric and bigint stay strings: money is never a float.
    types: {},
  });
  const db = drizzle(sql, {
    schema,
    casing: "snake_case",
    logger: options.onQuery ? { logQuery: (query) => options.onQuery?.(query) } : false,
  });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

/** Replaces the database name in a connection URL. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
