/**
 * @pshub/db — the canonical model and the hub's operations on it. The only package that opens
 * database connections.
 */
export * from "./api-keys.ts";
export * from "./audit.ts";
export * from "./client.ts";
export * from "./database-url.ts";
export * from "./embedded.ts";
export * from "./env.ts";
export * from "./errors.ts";
export * from "./fx-rates.ts";
export * from "./group-by.ts";
export * from "./legal-entity-scope.ts";
export * from "./lifecycle/index.ts";
export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./migrate.ts";
export * from "./outbound.ts";
export * from "./ports.ts";
export * from "./principal.ts";
export * as schema from "./schema.ts";
/** The demo seed (builders, demo firm, scale loader): `seed.seedDemo(sql, { scale })`. */
export * as seed from "./seed/index.ts";
export * from "./sql-array.ts";
/** Inbound sync: inbox, set-based apply, field ownership, leader locks, resync requests. */
export * as sync from "./sync/index.ts";
export {
  EXCEPTION_SLA_HOURS,
  type RaiseExceptionInput,
  raiseSyncException,
  resolveCommandExceptions,
  resolveInboxExceptions,
} from "./sync-exceptions.ts";
export * from "./telemetry.ts";
export * from "./text.ts";
