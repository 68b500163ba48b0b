/**
 * How a lifecycle operation runs: `execute(db, operation, ctx, input, { idempotencyKey })`
 * parses the input (zod, text Postgres can store → BAD_USER_INPUT), opens ONE transaction, applies the idempotency key,
 * runs the operation (which locks its rows and checks its transition), writes the audit row, and
 * commits. Any error rolls everything back; it is mapped to a typed DomainError, audited in its own
 * small transaction (every refusal, malformed input included), and — for a RemediableError — queued as a sync exception for its owner.
 *
 * An operation's `run(tx, ctx, input)` can also be called inside a caller's own transaction
 * (the sync engine applies inbound changes with the same transitions).
 */
import { z } from "zod";
import { writeAudit } from "../audit.ts";
import type { Db, Tx } from "../client.ts";
import { ConflictError, DomainError, InvalidInputError, ValidationError } from "../errors.ts";
import { withIdempotency } from "../idempotency.ts";
import { type RaiseExceptionInput, raiseSyncException } from "../sync-exceptions.ts";
import { findMalformedText } from "../text.ts";

export interface OperationContext {
  /** Who acts: the principal the gateway authenticated, or a connector's name. */
  actor: string;
  /** The actor's roles (a verified principal's; none for a connector): recorded in the audit row. */
  roles?: readonly string[];
  /** The request's correlation id (recorded as the domain events' causation id and in the audit row). */
  requestId?: string | null;
}

export interface EntityRef {
  entityType: string;
  entityId: string;
  /** The lineage id of the entity, when it has one. */
  correlationId?: string | null;
}

export interface Operation<I extends z.ZodType, R> {
  name: string;
  input: I;
  run(tx: Tx, ctx: OperationContext, input: z.output<I>): Promise<R>;
  /** What the audit row points at. */
  auditRef(input: z.output<I>, result: R | undefined): EntityRef | null;
}

export function defineOperation<I extends z.ZodType, R>(op: Operation<I, R>): Operation<I, R> {
  return op;
}

/** A validation failure that someone must fix at the source: it becomes a sync exception. */
export class RemediableError extends ValidationError {
  constructor(
    message: string,
    readonly exception: Omit<RaiseExceptionInput, "actor">,
    details: Record<string, unknown> = {},
  ) {
    super(message, details);
  }
}

export interface ExecuteOptions {
  idempotencyKey?: string | null;
}

/**
 * Parses raw input with the operation's schema. Text Postgres cannot store (NUL, lone surrogates)
 * anywhere in it, and zod issues, become one BAD_USER_INPUT naming the field(s): the input is
 * malformed by itself.
 */
export function parseInput<I extends z.ZodType>(schema: I, raw: unknown): z.output<I> {
  const malformed = findMalformedText(raw);
  if (malformed) {
    throw new InvalidInputError(`invalid input: ${malformed.message}`, {
      issues: [{ field: malformed.path, message: malformed.message }],
      field: malformed.path,
      reason: malformed.problem,
    });
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({ field: i.path.join("."), message: i.message }));
  throw new InvalidInputError(
    `invalid input: ${issues.map((i) => `${i.field || "(input)"}: ${i.message}`).join("; ")}`,
    { issues, field: issues[0]?.field },
  );
}

/** Maps PostgreSQL errors to domain errors by SQLSTATE; anything else is rethrown unchanged. */
export function toDomainError(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  // drizzle wraps driver errors (DrizzleQueryError) with the postgres.js error as `cause`.
  const pg = (error as { cause?: unknown })?.cause ?? error;
  if (pg instanceof DomainError) return pg;
  const code = (pg as { code?: unknown })?.code;
  const message = (pg as Error)?.message ?? String(pg);
  const constraint = (pg as { constraint_name?: string }).constraint_name;
  switch (code) {
    case "23505":
      return new ConflictError(`already exists (${constraint ?? "unique"}): ${message}`, {
        constraint,
      });
    case "40001":
    case "40P01":
    case "55P03":
      return new ConflictError(`concurrent update, retry: ${message}`, { sqlstate: code });
    case "23514":
    case "23502":
      return new ValidationError(message, { sqlstate: code, constraint });
    // Values the database cannot read or hold: malformed input, whatever the data says.
    case "22P02": // invalid_text_representation
    case "22003": // numeric_value_out_of_range
    case "22007": // invalid_datetime_format
    case "22008": // datetime_field_overflow
    case "22021": // character_not_in_repertoire (a NUL byte)
    case "22P05": // untranslatable_character (\u0000 in jsonb)
      return new InvalidInputError(message, { sqlstate: code, constraint });
    default:
      return error;
  }
}

export async function execute<I extends z.ZodType, R>(
  db: Db,
  op: Operation<I, R>,
  ctx: OperationContext,
  rawInput: unknown,
  options: ExecuteOptions = {},
): Promise<R> {
  let input: z.output<I> | undefined;
  try {
    const key = findMalformedText(options.idempotencyKey, "idempotencyKey");
    if (key) throw new InvalidInputError(key.message, { field: key.path, reason: key.problem });
    input = parseInput(op.input, rawInput);
    const parsed = input;
    return await db.transaction(async (tx) => {
      const { value, replayed } = await withIdempotency(
        tx,
        {
          key: options.idempotencyKey,
          principal: ctx.actor,
          operation: op.name,
          request: parsed,
        },
        () => op.run(tx, ctx, parsed),
      );
      const ref = op.auditRef(parsed, value);
      await writeAudit(tx, {
        actor: ctx.actor,
        roles: ctx.roles,
        operation: op.name,
        entityType: ref?.entityType,
        entityId: ref?.entityId,
        correlationId: ref?.correlationId,
        requestId: ctx.requestId,
        input: {
          input: parsed,
          idempotencyKey: options.idempotencyKey ?? null,
          requestId: ctx.requestId ?? null,
        },
        hashed: parsed,
        outcome: replayed ? "replayed" : "ok",
      });
      return value;
    });
  } catch (raw) {
    const error = toDomainError(raw);
    if (error instanceof DomainError) {
      await recordFailure(db, op, ctx, rawInput, input, error);
    }
    throw error;
  }
}

async function recordFailure<I extends z.ZodType, R>(
  db: Db,
  op: Operation<I, R>,
  ctx: OperationContext,
  rawInput: unknown,
  input: z.output<I> | undefined,
  error: DomainError,
): Promise<void> {
  await db.transaction(async (tx) => {
    if (error instanceof RemediableError) {
      const exception = await raiseSyncException(tx, { ...error.exception, actor: ctx.actor });
      error.details.exceptionId = exception.id;
      error.details.owner = exception.owner;
    }
    const ref = input ? op.auditRef(input, undefined) : null;
    await writeAudit(tx, {
      actor: ctx.actor,
      roles: ctx.roles,
      operation: op.name,
      entityType: ref?.entityType,
      entityId: ref?.entityId,
      requestId: ctx.requestId,
      input: { input: input ?? rawInput ?? null, requestId: ctx.requestId ?? null },
      hashed: input ?? rawInput ?? null,
      outcome: error.code,
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Input building blocks
// ---------------------------------------------------------------------------------------------

export const id = () => z.uuid({ error: "must be a UUID" });
/** A money amount as a decimal string with at most 2 decimals (never a float). */
export const decimal = () =>
  z.string().regex(/^-?\d{1,16}(\.\d{1,2})?$/, { error: "must be a decimal string like 1234.50" });
/** A decimal > 0: "-5.00" and "0.00" are refused as not positive, not as malformed. */
export const positiveDecimal = () =>
  decimal().refine((v) => !v.startsWith("-") && /[1-9]/.test(v), {
    error: (issue) => `must be positive (greater than zero); got ${String(issue.input)}`,
  });
export const isoDate = () =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: "must be a date YYYY-MM-DD" })
    .refine(
      (v) => {
        const d = new Date(`${v}T00:00:00Z`);
        return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
      },
      { error: "must be a real calendar date" },
    );

/** What a caller at the edge (a subgraph resolver) has: the pool, who asks, the request id. */
export interface CallerContext {
  db: Db;
  principal: string;
  /** The verified principal (a subgraph context's `auth`): its roles go into the audit row. */
  auth?: { roles: readonly string[] };
  correlationId?: string | null;
}

/** Nulls (GraphQL's "not given") become absent, so optional inputs parse. */
function withoutNulls(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

/**
 * For resolvers: `args` are the field's arguments; `idempotencyKey` is taken out of them, nulls
 * are dropped, and the operation runs as the caller's principal.
 */
export function executeAs<I extends z.ZodType, R>(
  caller: CallerContext,
  op: Operation<I, R>,
  args: Record<string, unknown>,
): Promise<R> {
  const { idempotencyKey, ...input } = withoutNulls(args);
  return execute(
    caller.db,
    op,
    { actor: caller.principal, roles: caller.auth?.roles, requestId: caller.correlationId ?? null },
    input,
    { idempotencyKey: (idempotencyKey as string | undefined) ?? null },
  );
}
