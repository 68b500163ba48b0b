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
