/**
 * Domain errors raised by the hub's operations. Subgraphs turn them into GraphQL errors with
 * `extensions.code` = `code` (see subgraphs/kit); connectors turn them into sync exceptions.
 * An operation that throws one has changed nothing (its transaction rolls back).
 */
export type DomainErrorCode =
  | "INVALID_TRANSITION"
  | "NOT_FOUND"
  | "VALIDATION_FAILED"
  | "CONFLICT"
  | "FORBIDDEN"
  | "IDEMPOTENCY_MISMATCH";

export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    /** Machine-readable details, copied into `extensions` (e.g. { from, to }, { field }). */
    readonly details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class NotFoundError extends DomainError {
  constructor(entityType: string, id: string) {
    super("NOT_FOUND", `${entityType} ${id} does not exist`, { entityType, id });
  }
}

export class InvalidTransitionError extends DomainError {
  constructor(entityType: string, id: string, from: string, to: string) {
    super("INVALID_TRANSITION", `${entityType} ${id} cannot go from ${from} to ${to}`, {
      entityType,
      id,
      from,
      to,
    });
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("VALIDATION_FAILED", message, details);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("CONFLICT", message, details);
  }
}

export class IdempotencyMismatchError extends DomainError {
  constructor(key: string) {
    super(
      "IDEMPOTENCY_MISMATCH",
      `idempotency key ${key} was used before with a different request`,
      { key },
    );
  }
}

/**
 * SQLSTATEs and driver codes meaning "the connection or the server went away", not "the statement
 * was wrong": admin/crash shutdown, the server starting up, connection exceptions, and
 * postgres.js's own socket-level codes.
 */
const CONNECTION_CODES = new Set([
  "57P01", // admin_shutdown (pg_terminate_backend, a server stop)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up or shutting down)
  "08000", // connection_exception
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08003", // connection_does_not_exist
  "08004", // sqlserver_rejected_establishment_of_sqlconnection
  "08006", // connection_failure
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/** True when `error` (or its cause chain) is a lost or refused database connection. */
export function isConnectionError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && typeof e === "object" && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return true;
    if (e instanceof DatabaseUnavailableError) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The database cannot be reached (after the safe retries, see client.ts). Subgraphs answer it as
 * SERVICE_UNAVAILABLE with `extensions.retryable: true`: nothing was changed that the caller does
 * not know about, except when `committed` is unknown (a COMMIT whose answer was lost), which is
 * why write mutations take idempotency keys.
 */
export class DatabaseUnavailableError extends Error {
  override name = "DatabaseUnavailableError";
  constructor(message = "the database is unavailable; retry shortly", options?: ErrorOptions) {
    super(message, options);
  }
}
