/**
 * The outbound worker: claims due `outbound_command` rows with `FOR UPDATE SKIP LOCKED`, runs them
 * through the handler for their kind, and records the outcome.
 *
 * - One command per entity at a time, in queue order (`seq`; commands queued in one transaction
 *   share `created_at`): a command is claimable only when no earlier PENDING/RUNNING command
 *   exists for the same entity (whatever its target), so an invoice is posted before its status
 *   is propagated. Different entities run in parallel, up to
 *   a per-target concurrency limit.
 * - A worker claims only the kinds it has handlers for (a command of another kind waits for a
 *   worker that knows it, and does not block the drain).
 * - Transient failures (timeouts, resets, 429, 5xx — anything with `transient: true`, fetch's
 *   network errors) are retried durably: the row goes back to PENDING with `next_attempt_at` =
 *   now + max(Retry-After, exponential backoff with full jitter). After `max_attempts` the
 *   command FAILS with an INTEGRATION exception.
 * - Permanent failures (validation errors, a locked record) FAIL the command at once and raise a
 *   sync_exception for the owner the handler names (FINANCE, PROJECT_OPS, SALES_OPS,
 *   INTEGRATION), with remediation text and the severity's SLA due time.
 * - A circuit breaker per target (cockatiel, consecutive transient failures): while open, the
 *   target's commands are not claimed; after `halfOpenAfterMs` one command is claimed as the
 *   half-open probe; its success closes the breaker.
 * - A handler's `apply(tx)` (e.g. the invoice → POSTED) runs in the same transaction that marks
 *   the command SUCCEEDED, and only while this worker still holds the command's lease: a worker
 *   that lost its lease (stalled past `leaseMs`, another took the command over) commits nothing.
 * - A command RUNNING longer than `leaseMs` (its worker was killed) is put back to PENDING; the
 *   handlers are idempotent by the command's idempotency key / the record's external id, so the
 *   re-run never creates a second record.
 */
import { randomUUID } from "node:crypto";
import type { Db, DbClient, Logger, Tx } from "@pshub/db";
import {
  pgArray,
  resolveCommandExceptions,
  schema,
  sync,
  uuidArray,
  withCorrelationId,
  writeAudit,
} from "@pshub/db";
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from "cockatiel";
import { and, eq, sql } from "drizzle-orm";

type CommandRowDb = typeof schema.outboundCommand.$inferSelect;
export type OutboundTarget = CommandRowDb["target"];
export type ExceptionOwner = (typeof schema.syncException.$inferSelect)["owner"];
export type CommandRow = CommandRowDb;

export interface HandlerOutcome {
  /** Stored on the command (internal ids, document numbers, …). */
  result?: Record<string, unknown>;
  /** Hub-side effects of the success, committed with the command's SUCCEEDED state. */
  apply?: (tx: Tx) => Promise<void>;
}

export interface HandlerContext {
  db: Db;
  signal: AbortSignal;
  actor: string;
}

export type CommandHandler = (cmd: CommandRow, ctx: HandlerContext) => Promise<HandlerOutcome>;

/** A failure a retry cannot fix: becomes a sync_exception for `owner`. */
export class PermanentCommandError extends Error {
  override name = "PermanentCommandError";
  constructor(
    message: string,
    readonly exception: {
      owner: ExceptionOwner;
      code: string;
      remediation: string;
      severity?: "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
    },
  ) {
    super(message);
  }
}

/** Transient: `transient === true` on the error (NetSuiteError, …) or a network-level failure. */
export function classify(error: unknown): { transient: boolean; retryAfterMs?: number } {
  if (error instanceof PermanentCommandError) return { transient: false };
  const e = error as { transient?: unknown; retryAfterMs?: unknown; name?: string; code?: string };
  if (typeof e?.transient === "boolean")
    return {
      transient: e.transient,
      retryAfterMs: typeof e.retryAfterMs === "number" ? e.retryAfterMs : undefined,
    };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return { transient: true };
  if (error instanceof TypeError && /fetch failed/i.test(error.message)) return { transient: true };
  if (["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE"].includes(String(e?.code)))
    return { transient: true };
  return { transient: false };
}

export interface TargetOptions {
  /** Commands of this target running at once (default 8). */
  concurrency?: number;
  /** Consecutive transient failures that open the breaker (default 5). */
  breakerThreshold?: number;
  /** How long the breaker stays open before one half-open probe (default 30 s). */
  halfOpenAfterMs?: number;
}

export interface WorkerOptions {
  client: DbClient;
  handlers: Record<string, CommandHandler>;
  targets?: Partial<Record<OutboundTarget, TargetOptions>>;
  /** Identifies this worker in locked_by (default outbound-<random>). */
  workerId?: string;
  /** Idle poll interval (default 500 ms). */
  pollMs?: number;
  /** A RUNNING command older than this is taken back (default 120 s). */
  leaseMs?: number;
  /** Backoff: base × 2^(attempt-1), capped, full jitter (defaults 1 s, 5 min). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** The actor of audit rows and domain events (default "outbound"). */
  actor?: string;
  /** Default owner of a failure per command kind (else INTEGRATION). */
  owners?: Record<string, ExceptionOwner>;
  onError?: (error: unknown) => void;
  /** One line per command outcome, with the command's correlation id. */
  logger?: Logger;
}

interface TargetState {
  options: Required<TargetOptions>;
  breaker: CircuitBreakerPolicy;
  openedAt?: number;
  inflight: number;
  probing: boolean;
  /** No claim for this target before this time (its last claim found nothing). */
  idleUntil: number;
}

const TARGETS: OutboundTarget[] = ["ERP", "SALESFORCE", "PSA"];

/** Full-jitter exponential backoff: random in [0, min(max, base × 2^(attempt-1))]. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

export class OutboundWorker {
  readonly workerId: string;
  private readonly targets = new Map<OutboundTarget, TargetState>();
  private readonly running = new Set<Promise<void>>();
  private stopped = true;
  private wake?: () => void;
  private loop?: Promise<void>;
  private readonly abort = new AbortController();
  private leasesRecoveredAt = 0;
  /** Counters for tests and the benchmark. */
  readonly stats = { claimed: 0, succeeded: 0, retried: 0, failed: 0, rejectedByBreaker: 0 };

  /** The kinds this worker has handlers for: it claims (and drains) only those. */
  private readonly kinds: string[];

  constructor(private readonly options: WorkerOptions) {
    this.kinds = Object.keys(options.handlers);
    this.workerId = options.workerId ?? `outbound-${randomUUID().slice(0, 8)}`;
    for (const target of TARGETS) {
      const o = options.targets?.[target] ?? {};
      const opts: Required<TargetOptions> = {
        concurrency: o.concurrency ?? 8,
        breakerThreshold: o.breakerThreshold ?? 5,
        halfOpenAfterMs: o.halfOpenAfterMs ?? 30_000,
      };
      const breaker = circuitBreaker(
        handleWhen((e) => classify(e).transient),
        {
          halfOpenAfter: opts.halfOpenAfterMs,
          breaker: new ConsecutiveBreaker(opts.breakerThreshold),
        },
      );
      const state: TargetState = {
        options: opts,
        breaker,
        inflight: 0,
        probing: false,
        idleUntil: 0,
      };
      breaker.onBreak(() => {
        state.openedAt = Date.now();
      });
      breaker.onReset(() => {
        state.openedAt = undefined;
      });
      this.targets.set(target, state);
    }
  }

  /** The breaker state per target (ops, tests). */
  breakerState(target: OutboundTarget): "closed" | "open" | "half-open" {
    const s = this.targets.get(target)!.breaker.state;
    return s === CircuitState.Closed
      ? "closed"
      : s === CircuitState.HalfOpen
        ? "half-open"
        : "open";
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops claiming, waits for running commands to finish. */
  /**
   * Stops claiming and waits for running commands, at most `graceMs` (default: no limit). A
   * process shutting down passes a grace shorter than its own kill timeout: a command still
   * running then (a slow target) is left RUNNING, and its lease expires and is taken back by the
   * next worker (handlers are idempotent by external id).
   */
  async stop(graceMs?: number): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    const settled = Promise.allSettled([...this.running]);
    if (graceMs === undefined) {
      await settled;
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      settled,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (this.running.size > 0) {
      this.abort.abort();
      this.options.logger?.warn(
        { running: this.running.size, graceMs },
        "outbound worker stopped with commands still running; their leases will be taken back",
      );
    }
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let claimed = 0;
      try {
        claimed = await this.tick();
      } catch (error) {
        this.options.onError?.(error);
      }
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, claimed > 0 ? 0 : (this.options.pollMs ?? 500));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /**
   * Takes back expired leases (at most every quarter lease, 5 s at most: a tick runs after every
   * finished command), then claims what each target has room for — the targets' claims at once,
   * and a target whose last claim found nothing not again before `pollMs` has passed (a tick per
   * finished command would otherwise spend most of its time claiming for idle targets). Returns
   * claimed.
   */
  async tick(): Promise<number> {
    const now = Date.now();
    const leaseMs = this.options.leaseMs ?? 120_000;
    if (now - this.leasesRecoveredAt >= Math.min(leaseMs / 4, 5_000)) {
      this.leasesRecoveredAt = now;
      await this.recoverLeases();
    }
    const counts = await Promise.all(
      [...this.targets].map(([target, state]) => this.claimFor(target, state, now)),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  private async claimFor(target: OutboundTarget, state: TargetState, now: number): Promise<number> {
    if (now < state.idleUntil) return 0;
    let room = state.options.concurrency - state.inflight;
    let probe = false;
    if (state.breaker.state === CircuitState.HalfOpen || state.probing) room = 0;
    else if (state.breaker.state !== CircuitState.Closed) {
      const ready =
        state.openedAt !== undefined &&
        Date.now() - state.openedAt >= state.options.halfOpenAfterMs;
      room = ready && state.inflight === 0 ? 1 : 0;
      probe = room === 1;
    }
    if (room <= 0) return 0;
    const rows = await this.claim(target, room);
    if (rows.length === 0) state.idleUntil = Date.now() + (this.options.pollMs ?? 500);
    for (const row of rows) {
      if (probe) state.probing = true;
      state.inflight++;
      const p = this.execute(row, state, probe).finally(() => {
        state.inflight--;
        if (probe) state.probing = false;
        this.running.delete(p);
        this.wake?.();
      });
      this.running.add(p);
    }
    return rows.length;
  }

  /** Runs until no command is due or running (tests, the benchmark). */
  async drain(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const claimed = await this.tick();
      if (claimed === 0 && this.running.size === 0) {
        const [row] = await this.options.client.sql<{ n: number }[]>`
          select count(*)::int as n from outbound_command
          where state in ('PENDING','RUNNING') and kind = any(${pgArray(this.kinds)}::text[])`;
        if (row!.n === 0) return;
      }
      if (Date.now() > until) throw new Error("outbound drain timed out");
      if (this.running.size > 0) await Promise.race(this.running);
      else if (claimed === 0) await new Promise((r) => setTimeout(r, this.options.pollMs ?? 50));
    }
  }

  private async recoverLeases(): Promise<void> {
    const leaseMs = this.options.leaseMs ?? 120_000;
    await this.options.client.sql`
      update outbound_command
      set state = 'PENDING', locked_at = null, locked_by = null, next_attempt_at = now(),
          last_error = coalesce(last_error || ' · ', '') || 'lease of ' || locked_by || ' expired',
          updated_at = now()
      where state = 'RUNNING' and locked_at < now() - make_interval(secs => ${leaseMs / 1000})`;
  }

  private async claim(target: OutboundTarget, n: number): Promise<CommandRow[]> {
    const rows = await this.options.client.db.execute<{ id: string }>(sql`
      with due as (
        select c.id from outbound_command c
        where c.state = 'PENDING' and c.target = ${target} and c.next_attempt_at <= now()
          and c.kind = any(${pgArray(this.kinds)}::text[])
          and not exists (
            select 1 from outbound_command p
            where p.entity_type = c.entity_type and p.entity_id = c.entity_id
              and p.state in ('PENDING', 'RUNNING')
              and p.seq < c.seq)
        order by c.next_attempt_at, c.seq
        limit ${n}
        for update of c skip locked
      )
      update outbound_command c
      set state = 'RUNNING', attempts = c.attempts + 1, locked_at = now(),
          locked_by = ${this.workerId}, updated_at = now()
      from due where c.id = due.id
      returning c.id`);
    if (rows.length === 0) return [];
    this.stats.claimed += rows.length;
    const ids = rows.map((r) => r.id);
    return this.options.client.db
      .select()
      .from(schema.outboundCommand)
      .where(sql`${schema.outboundCommand.id} = any(${uuidArray(ids)})`);
  }

  /** Runs one command under its correlation id: every log line of its work carries it. */
  private execute(cmd: CommandRow, state: TargetState, probe: boolean): Promise<void> {
    return withCorrelationId(cmd.correlationId, () => this.executeCommand(cmd, state, probe));
  }

  private async executeCommand(cmd: CommandRow, state: TargetState, probe: boolean): Promise<void> {
    const actor = this.options.actor ?? "outbound";
    const handler = this.options.handlers[cmd.kind];
    try {
      if (!handler)
        throw new PermanentCommandError(`no handler for outbound command kind ${cmd.kind}`, {
          owner: "INTEGRATION",
          code: "OUTBOUND_UNKNOWN_KIND",
          remediation: `Deploy a worker that handles ${cmd.kind}, then replay command ${cmd.id}.`,
        });
      const outcome = await state.breaker.execute(() =>
        handler(cmd, { db: this.options.client.db, signal: this.abort.signal, actor }),
      );
      await this.options.client.db.transaction(async (tx) => {
        const done = await tx
          .update(schema.outboundCommand)
          .set({
            state: "SUCCEEDED",
            result: outcome.result ?? {},
            lockedAt: null,
            lockedBy: null,
            updatedAt: sql`now()`,
          })
          .where(
            and(
              eq(schema.outboundCommand.id, cmd.id),
              eq(schema.outboundCommand.state, "RUNNING"),
              eq(schema.outboundCommand.lockedBy, this.workerId),
            ),
          )
          .returning({ id: schema.outboundCommand.id });
        if (done.length === 0) throw new LeaseLostError(cmd.id);
        // Before apply: an exception apply raises for this command (ERP_TAX_DIFFERS) stays open.
        await resolveCommandExceptions(tx, cmd, actor);
        await outcome.apply?.(tx);
        await auditCommand(tx, cmd, actor, "ok");
      });
      this.stats.succeeded++;
      this.options.logger?.info(
        { commandId: cmd.id, kind: cmd.kind, target: cmd.target, attempts: cmd.attempts },
        `outbound ${cmd.kind} succeeded`,
      );
    } catch (error) {
      if (error instanceof LeaseLostError) return;
      this.options.logger?.warn(
        { commandId: cmd.id, kind: cmd.kind, target: cmd.target, err: error },
        `outbound ${cmd.kind} failed`,
      );
      await this.fail(cmd, error, probe);
    }
  }

  private async fail(cmd: CommandRow, error: unknown, _probe: boolean): Promise<void> {
    const actor = this.options.actor ?? "outbound";
    const message = (error as Error)?.message ?? String(error);
    if (error instanceof BrokenCircuitError) {
      // Not run: back to the queue without spending an attempt.
      this.stats.rejectedByBreaker++;
      await this.release(cmd, sql`${schema.outboundCommand.attempts} - 1`, 1000, message);
      return;
    }
    const { transient, retryAfterMs } = classify(error);
    if (transient && cmd.attempts < cmd.maxAttempts) {
      this.stats.retried++;
      const delay = Math.max(
        retryAfterMs ?? 0,
        backoffMs(
          cmd.attempts,
          this.options.backoffBaseMs ?? 1000,
          this.options.backoffMaxMs ?? 300_000,
        ),
      );
      await this.options.client.db.transaction(async (tx) => {
        await this.release(cmd, sql`${schema.outboundCommand.attempts}`, delay, message, tx);
        await auditCommand(tx, cmd, actor, "RETRY_SCHEDULED", message);
      });
      return;
    }
    this.stats.failed++;
    const exception =
      error instanceof PermanentCommandError
        ? error.exception
        : {
            owner: transient ? "INTEGRATION" : (this.options.owners?.[cmd.kind] ?? "INTEGRATION"),
            code: transient ? "OUTBOUND_RETRIES_EXHAUSTED" : "OUTBOUND_FAILED",
            remediation: transient
              ? `${cmd.target} kept failing for ${cmd.kind} of ${cmd.entityType} ${cmd.entityId} (${cmd.attempts} attempts). Check the ${cmd.target} connection and its status page, then retry the exception (or replay command ${cmd.id}).`
              : `Read the error of command ${cmd.id} (${cmd.kind} of ${cmd.entityType} ${cmd.entityId}), correct the data it names, then retry the exception.`,
            severity: "HIGH" as const,
          };
    await this.options.client.db.transaction(async (tx) => {
      const done = await tx
        .update(schema.outboundCommand)
        .set({
          state: "FAILED",
          lastError: message.slice(0, 2000),
          lockedAt: null,
          lockedBy: null,
          updatedAt: sql`now()`,
        })
        .where(
          and(
            eq(schema.outboundCommand.id, cmd.id),
            eq(schema.outboundCommand.state, "RUNNING"),
            eq(schema.outboundCommand.lockedBy, this.workerId),
          ),
        )
        .returning({ id: schema.outboundCommand.id });
      if (done.length === 0) return;
      await auditCommand(tx, cmd, actor, exception.code, message);
      await sync.raiseSyncException(tx, {
        owner: exception.owner,
        severity: exception.severity ?? "HIGH",
        code: exception.code,
        entityType: cmd.entityType,
        entityId: cmd.entityId,
        sourceSystem: cmd.target,
        sourceRef: cmd.idempotencyKey,
        commandId: cmd.id,
        message: `${cmd.kind} of ${cmd.entityType} ${cmd.entityId} failed: ${message}`.slice(
          0,
          2000,
        ),
        remediation: exception.remediation,
        correlationId: cmd.correlationId,
        actor,
      });
    });
  }

  private async release(
    cmd: CommandRow,
    attempts: ReturnType<typeof sql>,
    delayMs: number,
    message: string,
    tx: Db | Tx = this.options.client.db,
  ): Promise<void> {
    await tx
      .update(schema.outboundCommand)
      .set({
        state: "PENDING",
        attempts,
        nextAttemptAt: sql`now() + make_interval(secs => ${delayMs / 1000})`,
        lastError: message.slice(0, 2000),
        lockedAt: null,
        lockedBy: null,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(schema.outboundCommand.id, cmd.id),
          eq(schema.outboundCommand.state, "RUNNING"),
          eq(schema.outboundCommand.lockedBy, this.workerId),
        ),
      );
  }
}

class LeaseLostError extends Error {
  constructor(id: string) {
    super(`lease on outbound command ${id} was lost`);
  }
}

/**
 * One audit row per attempt's outcome (issue 9 item 6), in the transaction that records it:
 * `outbound:<kind>` on the command's entity, its lineage id, the command as input, the payload
 * hashed; outcome "ok", "RETRY_SCHEDULED" or the exception code of a final failure.
 */
async function auditCommand(
  tx: Tx,
  cmd: CommandRow,
  actor: string,
  outcome: string,
  error?: string,
): Promise<void> {
  await writeAudit(tx, {
    actor,
    operation: `outbound:${cmd.kind}`,
    entityType: cmd.entityType,
    entityId: cmd.entityId,
    correlationId: cmd.correlationId,
    input: {
      commandId: cmd.id,
      target: cmd.target,
      idempotencyKey: cmd.idempotencyKey,
      attempt: cmd.attempts,
      ...(error === undefined ? {} : { error: error.slice(0, 2000) }),
    },
    hashed: cmd.payload,
    outcome,
  });
}
