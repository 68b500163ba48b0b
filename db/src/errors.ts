/**
 * Domain errors raised by the hub's operations. Subgraphs turn them into GraphQL errors with
 * `extensions.code` = `code` (see subgraphs/kit); connectors turn them into sync exceptions.
 * An operation that throws one has changed nothing (its transaction rolls back).
 *
 * Two codes for refused input, split by what decides it:
 * - BAD_USER_INPUT: the input is malformed by itself (a uuid that is not one, a negative amount,
 *   an empty reason, a NUL character) — the same code GraphQL gives a malformed argument;
 * - VALIDATION_FAILED: well-formed input that the data refuses (over-payment, nothing to invoice,
 *   missing data on the record, a payment dated before its invoice).
 *
 * Errors speak the graph's names: `entityType` is the GraphQL type name ("TimeEntry", never
 * "time_entry"), states are the GraphQL enum values (see {@link graphTypeName}).
 */
export type DomainErrorCode =
  | "BAD_USER_INPUT"
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

/**
 * The GraphQL type name of an entity type as the hub's tables and events spell it:
 * "time_entry" → "TimeEntry", "INVOICE" (a LineageEntityType value) → "Invoice"; a name that is
 * already PascalCase is returned as it is.
 */
export function graphTypeName(entityType: string): string {
  if (/^[A-Z][A-Za-z0-9]*$/.test(entityType) && /[a-z]/.test(entityType)) return entityType;
  return entityType
    .toLowerCase()
    .split(/[_\s]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join("");
}

export class NotFoundError extends DomainError {
  constructor(entityType: string, id: string) {
    const type = graphTypeName(entityType);
    super("NOT_FOUND", `${type} ${id} does not exist`, { entityType: type, id });
  }
}

export class InvalidTransitionError extends DomainError {
  /**
   * `from`/`to` are states of the entity's GraphQL status enum. `message` replaces the generic
   * "cannot go from … to …" when the refusal has a plainer explanation ("is already paid").
   */
  constructor(
    entityType: string,
    id: string,
    from: string,
    to: string,
    options: { message?: string; details?: Record<string, unknown> } = {},
  ) {
    const type = graphTypeName(entityType);
    super(
      "INVALID_TRANSITION",
      options.message ?? `${type} ${id} cannot go from ${from} to ${to}`,
      {
        entityType: type,
        id,
        from,
        to,
        ...options.details,
      },
    );
  }
}

/**
 * Input that is malformed by itself, whatever the data says: BAD_USER_INPUT (the code GraphQL
 * gives a malformed argument), with the offending `field` when there is one.
 */
export class InvalidInputError extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("BAD_USER_INPUT", message, details);
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
