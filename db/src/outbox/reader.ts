/**
 * The domain_event stream reader: one per process, fanning committed events out to many
 * subscribers, strictly in id order, with nothing lost.
 *
 * Glossary
 * - frontier: the highest id such that every id at or below it is settled: either its row has
 *   been read (and fanned out), or it will never exist (its transaction rolled back, or the
 *   sequence value was never used).
 * - hole: ids between the frontier and the next visible row. A bigserial id is taken at insert,
 *   not at commit, so a hole is usually a transaction still in flight; it may also be a rollback.
 *
 * Why not `id > last and tx_id < pg_snapshot_xmin(...)`: xids are not allocated in id order.
 * A transaction B that got its xid early (it wrote something else first) can insert id 6 and
 * commit while T, with a younger xid, holds id 5 in flight; then B's row is below xmin and T's
 * row is not yet visible, so a reader that advances to 6 loses 5 for good. The rule here:
 * 1. Read visible rows with id > frontier in id order; emit them while they are contiguous.
 * 2. At a hole, stop (later rows wait: delivery stays in id order, which for one entity is
 *    commit order, because its writers serialise on the entity row before inserting the event).
 * 3. A hole is settled, and skipped, once every transaction that could hold its ids is over:
 *    wait `holeGraceMs` after first seeing it (so a transaction that took the id a moment before
 *    getting its xid has one by then), then note the transactions in progress in this database
 *    (pg_stat_activity.backend_xid, plus prepared transactions); once none of them is in
 *    progress any more, read again: an id still missing in that read (whose snapshot is newer
 *    than their end) belongs to a rollback, or was never used, and is skipped.
 *    A role that may not see other roles' backend_xid (it needs pg_read_all_stats) falls back to
 *    a fence: a fresh xid, waited for until the snapshot xmin passes it; as correct, but xmin is
 *    cluster-wide, so any long transaction in any database delays the decision. (The snapshot's
 *    xip list alone is wrong: transactions with xids at or above its xmax are in progress but
 *    not listed.)
 * LISTEN/NOTIFY only wakes the reader; a safety poll runs anyway, so a notification lost while
 * the listener reconnects delays an event by at most `safetyPollMs`, never loses it.
 */
import postgres from "postgres";
import type { Sql } from "../client.ts";
import type { Logger } from "../logger.ts";

/** The channel the domain_event trigger notifies (migration 0001). */
export const DOMAIN_EVENT_CHANNEL = "pshub_domain_event";

/** One committed domain_event row. */
export interface DomainEventRecord {
  id: number;
  type: string;
  entityType: string;
  entityId: string;
  payload: Record<string, unknown>;
  correlationId: string | null;
  causationId: string | null;
  actor: string;
  occurredAt: string;
}

/** Which events a subscriber wants; every given list must match (an empty object takes all). */
export interface EventFilter {
  types?: readonly string[];
  entityTypes?: readonly string[];
  entityIds?: readonly string[];
}

export interface OutboxReaderOptions {
  /** Pool used for the reads. */
  sql: Sql;
  /** Connection URL for the dedicated LISTEN connection. */
  url: string;
  log?: Logger;
  /** Rows per read (default 500). */
  batchSize?: number;
  /** Wait before a hole may be judged (default 100 ms). */
  holeGraceMs?: number;
  /** Poll even without a notification, this often (default 1000 ms). */
  safetyPollMs?: number;
  /** A subscriber whose queue grows past this ends with a {@link SubscriberLaggingError}. */
  maxQueue?: number;
  /** On start, rows up to this far below the newest id are checked for in-flight holes. */
  startLookback?: number;
  /** application_name of the LISTEN connection (tests find it by this). */
  listenerName?: string;
  /** How holes are judged (default: `transactions` when this role can see them, else `fence`). */
  holeRule?: "transactions" | "fence";
}

/** A subscriber fell too far behind; it may resume with `afterEventId = lastEventId`. */
export class SubscriberLaggingError extends Error {
  override name = "SubscriberLaggingError";
  constructor(readonly lastEventId: number | null) {
    super(
      `subscriber fell more than its queue limit behind; resume with afterEventId=${lastEventId ?? ""}`,
    );
  }
}

export class OutboxClosedError extends Error {
  override name = "OutboxClosedError";
  constructor() {
    super("the event stream is shutting down; reconnect and resume with afterEventId");
  }
}

export interface EventStream extends AsyncIterableIterator<DomainEventRecord> {
  /** Stops the stream; a pending `next()` resolves as done. */
  close(): void;
  /** Live events waiting: that many `next()` calls resolve without waiting (a batch to take). */
  readonly queued: number;
}

export interface SubscribeOptions {
  /** Replay every event after this id first (from the table), then live ones. */
  afterEventId?: number | null;
  filter?: EventFilter;
}

interface Hole {
  from: number;
  to: number;
  firstSeen: number;
  /** Transactions in progress once the grace had passed (see rule 3). */
  waitFor: Set<string> | null;
  /** All of them ended before the current read began: skip the hole if it is still there. */
  clear: boolean;
}

interface Subscriber {
  filter: CompiledFilter;
  queue: DomainEventRecord[];
  /** Live events at or below this id are skipped (they come from the replay). */
  skipUpTo: number;
  wake: (() => void) | null;
  failed: Error | null;
  closed: boolean;
}

interface CompiledFilter {
  types: Set<string> | null;
  entityTypes: Set<string> | null;
  entityIds: Set<string> | null;
}

function compile(filter: EventFilter = {}): CompiledFilter {
  const set = (list?: readonly string[]) => (list ? new Set(list) : null);
  return {
    types: set(filter.types),
    entityTypes: set(filter.entityTypes),
    entityIds: set(filter.entityIds),
  };
}

function matches(f: CompiledFilter, e: DomainEventRecord): boolean {
  return (
    (!f.types || f.types.has(e.type)) &&
    (!f.entityTypes || f.entityTypes.has(e.entityType)) &&
    (!f.entityIds || f.entityIds.has(e.entityId))
  );
}

interface RawRow {
  id: number;
  type: string;
  entity_type: string;
  entity_id: string;
  payload: Record<string, unknown>;
  correlation_id: string | null;
  causation_id: string | null;
  actor: string;
  occurred_at: string;
}

function toRecord(r: RawRow): DomainEventRecord {
  return {
    id: Number(r.id),
    type: r.type,
    entityType: r.entity_type,
    entityId: r.entity_id,
    payload: r.payload ?? {},
    correlationId: r.correlation_id,
    causationId: r.causation_id,
    actor: r.actor,
    occurredAt: new Date(r.occurred_at).toISOString(),
  };
}

const COLUMNS = `id, type, entity_type, entity_id, payload, correlation_id, causation_id, actor, occurred_at`;

/** Reads committed events in (afterId, upToId] in id order, filtered in SQL (for replays). */
export async function readEvents(
  sql: Sql,
  afterId: number,
  upToId: number,
  filter: EventFilter = {},
  limit = 500,
): Promise<DomainEventRecord[]> {
  const rows = await sql<RawRow[]>`
    select ${sql.unsafe(COLUMNS)} from domain_event
    where id > ${afterId} and id <= ${upToId}
      ${filter.types ? sql`and type = any(${filter.types as string[]})` : sql``}
      ${filter.entityTypes ? sql`and entity_type = any(${filter.entityTypes as string[]})` : sql``}
      ${filter.entityIds ? sql`and entity_id = any(${filter.entityIds as string[]}::uuid[])` : sql``}
    order by id limit ${limit}`;
  return rows.map(toRecord);
}

export interface OutboxStats {
  frontier: number;
  polls: number;
  emitted: number;
  holesSkipped: number;
  listenerReconnects: number;
  subscribers: number;
}

/**
 * The process-wide event reader. `start()` then `subscribe()` as often as needed; `close()` ends
 * every stream with {@link OutboxClosedError}.
 */
export class OutboxReader {
  private readonly sql: Sql;
  private readonly url: string;
  private readonly log: Logger | undefined;
  private readonly batchSize: number;
  private readonly holeGraceMs: number;
  private readonly safetyPollMs: number;
  private readonly maxQueue: number;
  private readonly startLookback: number;
  private readonly listenerName: string;

  private frontier = 0;
  /** Rows visible when the reader started: history, not emitted live. */
  private startupIds: Set<number> | null = null;
  private startupMax = 0;
  private holes: Hole[] = [];
  /** Whether pg_stat_activity shows other roles' backend_xid (null: not checked yet). */
  private canSeeTransactions: boolean | null = null;
  private readonly subscribers = new Set<Subscriber>();

  private listener: postgres.Sql | null = null;
  private listening = false;
  private started: Promise<void> | null = null;
  private ready = false;
  private closed = false;
  private pollLoop: Promise<void> | null = null;
  private pollAgain = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private safetyTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly emitListeners = new Set<(e: DomainEventRecord) => void>();
  private stats = { polls: 0, emitted: 0, holesSkipped: 0, listenerReconnects: 0 };

  constructor(options: OutboxReaderOptions) {
    this.sql = options.sql;
    this.url = options.url;
    this.log = options.log;
    this.batchSize = options.batchSize ?? 500;
    this.holeGraceMs = options.holeGraceMs ?? 100;
    this.safetyPollMs = options.safetyPollMs ?? 1000;
    this.maxQueue = options.maxQueue ?? 10_000;
    this.startLookback = options.startLookback ?? 1000;
    this.listenerName = options.listenerName ?? "pshub-outbox-listener";
    if (options.holeRule) this.canSeeTransactions = options.holeRule === "transactions";
  }

  /** Positions the frontier at the newest committed event and starts listening. */
  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  private async doStart() {
    const [row] = await this.sql<{ ids: number[] | null; newest: number | null }[]>`
      with recent as (
        select id from domain_event
        where id > coalesce((select max(id) from domain_event), 0) - ${this.startLookback}
      )
      select (select array_agg(id::int8) from recent) as ids, (select max(id) from recent) as newest`;
    const ids = (row?.ids ?? []).map(Number);
    this.startupMax = Number(row?.newest ?? 0);
    this.frontier = Math.max(0, this.startupMax - this.startLookback);
    this.startupIds = new Set(ids);
    await this.connectListener();
    this.safetyTimer = setInterval(() => this.wake(), this.safetyPollMs);
    this.safetyTimer.unref();
    this.wake();
    await this.pollLoop;
    this.ready = true;
  }

  private async connectListener(): Promise<void> {
    if (this.closed) return;
    // postgres.js supports `onnotify` on a client; its typings only declare it on `listen`.
    const options = {
      max: 1,
      idle_timeout: 0,
      max_lifetime: null,
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: this.listenerName },
      onnotify: () => this.wake(),
      onclose: () => {
        if (this.closed) return;
        this.listening = false;
        this.stats.listenerReconnects++;
        this.log?.warn("outbox listener connection closed; reconnecting");
        this.scheduleReconnect(50);
      },
    } as postgres.Options<Record<string, never>>;
    this.listener ??= postgres(this.url, options);
    try {
      await this.listener.unsafe(`listen "${DOMAIN_EVENT_CHANNEL}"`);
      this.listening = true;
      // Anything committed while we were not listening is picked up by this poll.
      this.wake();
    } catch (error) {
      this.log?.warn({ err: error }, "outbox listener could not LISTEN; retrying");
      this.scheduleReconnect(500);
    }
  }

  private scheduleReconnect(ms: number) {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connectListener();
    }, ms);
  }

  /** Requests a poll (coalesced with one in progress). */
  wake(): void {
    if (this.closed || !this.started) return;
    if (this.pollLoop) {
      this.pollAgain = true;
      return;
    }
    this.pollLoop = this.pollNow().finally(() => {
      this.pollLoop = null;
    });
  }

  /** The only reader of rows: never two at once (wake() coalesces into `pollAgain`). */
  private async pollNow(): Promise<void> {
    if (this.closed) return;
    let retryIn: number | null = null;
    try {
      do {
        this.pollAgain = false;
        const result = await this.pollOnce();
        if (result === "full") this.pollAgain = true;
        else if (result === "blocked") retryIn = Math.min(this.holeGraceMs, 25);
      } while (this.pollAgain && !this.closed);
    } catch (error) {
      this.log?.warn({ err: error }, "outbox poll failed; retrying");
      retryIn = 250;
    }
    if (retryIn !== null && !this.closed && !this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.wake();
      }, retryIn);
    }
  }

  /** One read: returns whether it read a full batch, stopped at an open hole, or is done. */
  private async pollOnce(): Promise<"full" | "blocked" | "done"> {
    this.stats.polls++;
    const [row] = await this.sql<{ rows: RawRow[] }[]>`
      select coalesce((select json_agg(e order by e.id) from (
          select ${this.sql.unsafe(COLUMNS)} from domain_event
          where id > ${this.frontier} order by id limit ${this.batchSize}) e), '[]'::json) as rows`;
    if (!row) return "done";
    const rows = row.rows;
    for (const raw of rows) {
      const id = Number(raw.id);
      if (id > this.frontier + 1) {
        if (!(await this.holeSettled(this.frontier + 1, id - 1))) return "blocked";
        this.stats.holesSkipped++;
      }
      this.frontier = id;
      this.holes = this.holes.filter((h) => h.to > id);
      this.emit(toRecord(raw));
    }
    if (this.startupIds && this.frontier >= this.startupMax) this.startupIds = null;
    return rows.length === this.batchSize ? "full" : "done";
  }

  private async holeSettled(from: number, to: number): Promise<boolean> {
    // A hole only shrinks (rows appear, the frontier moves), so an earlier observation of a
    // range containing it still applies: its ids were all taken before that observation.
    const seen = this.holes.find((h) => h.from <= from && h.to >= to);
    if (!seen) {
      this.holes.push({ from, to, firstSeen: Date.now(), waitFor: null, clear: false });
      return false;
    }
    if (seen.clear) return true;
    if (seen.waitFor === null) {
      if (Date.now() - seen.firstSeen < this.holeGraceMs) return false;
      seen.waitFor = await this.transactionsInProgress();
    } else if (this.canSeeTransactions) {
      const now = await this.transactionsInProgress();
      for (const xid of seen.waitFor) if (!now.has(xid)) seen.waitFor.delete(xid);
    } else {
      const [fence] = seen.waitFor;
      const [row] = await this.sql<{ done: boolean }[]>`
        select pg_snapshot_xmin(pg_current_snapshot()) > ${fence ?? "0"}::xid8 as done`;
      if (row?.done) seen.waitFor.clear();
    }
    // Decided on the next read, which begins after they ended.
    if (seen.waitFor.size === 0) seen.clear = true;
    return false;
  }

  /**
   * The transactions in progress in this database, or, when this role may not see other
   * roles' backend_xid (it needs pg_read_all_stats), a fence: a fresh xid, above every
   * transaction alive now; they are all over once the snapshot xmin passes it (slower: xmin is
   * cluster-wide, so any long transaction anywhere delays the hole's decision).
   */
  private async transactionsInProgress(): Promise<Set<string>> {
    if (this.canSeeTransactions === null) {
      const [row] = await this.sql<{ ok: boolean }[]>`
        select coalesce((select rolsuper from pg_roles where rolname = current_user), false)
          or pg_has_role(current_user, 'pg_read_all_stats', 'member') as ok`;
      this.canSeeTransactions = row?.ok ?? false;
    }
    if (!this.canSeeTransactions) {
      const [fence] = await this.sql<{ xid: string }[]>`select pg_current_xact_id()::text as xid`;
      return new Set([fence?.xid ?? "0"]);
    }
    const rows = await this.sql<{ xid: string }[]>`
      select backend_xid::text as xid from pg_stat_activity
      where datname = current_database() and backend_xid is not null
      union all
      select transaction::text from pg_prepared_xacts where database = current_database()`;
    return new Set(rows.map((r) => r.xid));
  }

  private emit(event: DomainEventRecord) {
    if (this.startupIds?.has(event.id)) return;
    this.stats.emitted++;
    for (const listener of this.emitListeners) listener(event);
    for (const sub of this.subscribers) {
      if (sub.closed || event.id <= sub.skipUpTo || !matches(sub.filter, event)) continue;
      if (sub.queue.length >= this.maxQueue) {
        // The queued events are still delivered; the client resumes after the last of them.
        sub.failed = new SubscriberLaggingError(sub.queue.at(-1)?.id ?? null);
        this.subscribers.delete(sub);
      } else {
        sub.queue.push(event);
      }
      const wake = sub.wake;
      sub.wake = null;
      wake?.();
    }
  }

  /** Called for every event the reader emits (metrics, tests). Returns an unsubscribe. */
  onEvent(listener: (e: DomainEventRecord) => void): () => void {
    this.emitListeners.add(listener);
    return () => this.emitListeners.delete(listener);
  }

  /** The settled frontier: every event with an id at or below it has been read. */
  get position(): number {
    return this.frontier;
  }

  get isListening(): boolean {
    return this.listening;
  }

  get statistics(): OutboxStats {
    return { ...this.stats, frontier: this.frontier, subscribers: this.subscribers.size };
  }

  /**
   * A stream of events matching `filter`: first every event after `afterEventId` (read from the
   * table, in id order), then live ones, with no gap and no duplicate between the two.
   */
  subscribe(options: SubscribeOptions = {}): EventStream {
    const sub: Subscriber = {
      filter: compile(options.filter),
      queue: [],
      skipUpTo: -1,
      wake: null,
      failed: null,
      closed: false,
    };
    const after = options.afterEventId ?? null;
    const reader = this;
    let replay: { next: number; upTo: number; buffer: DomainEventRecord[] } | null = null;
    let registered = false;

    const registerNow = () => {
      if (reader.closed) throw new OutboxClosedError();
      // Synchronous: the frontier read and the registration are one step.
      const upTo = reader.frontier;
      sub.skipUpTo = Math.max(upTo, after ?? -1);
      reader.subscribers.add(sub);
      registered = true;
      if (after !== null && after < upTo) replay = { next: after, upTo, buffer: [] };
    };
    const register = async () => {
      await reader.start();
      registerNow();
    };
    // Live from this call when the reader is running; from the first next() otherwise.
    if (this.ready && !this.closed) registerNow();

    const stream: EventStream = {
      async next(): Promise<IteratorResult<DomainEventRecord>> {
        if (!registered) await register();
        while (true) {
          if (sub.closed) return { done: true, value: undefined };
          if (replay) {
            if (replay.buffer.length === 0 && replay.next < replay.upTo) {
              replay.buffer = await readEvents(
                reader.sql,
                replay.next,
                replay.upTo,
                options.filter,
                reader.batchSize,
              );
              if (replay.buffer.length === 0) replay.next = replay.upTo;
              else replay.next = replay.buffer[replay.buffer.length - 1]!.id;
            }
            const event = replay.buffer.shift();
            if (event) return { done: false, value: event };
            replay = null;
          }
          const event = sub.queue.shift();
          if (event) return { done: false, value: event };
          if (sub.failed) {
            const error = sub.failed;
            stream.close();
            throw error;
          }
          await new Promise<void>((resolve) => {
            sub.wake = resolve;
          });
        }
      },
      async return() {
        stream.close();
        return { done: true, value: undefined };
      },
      get queued() {
        return registered && !replay && !sub.closed ? sub.queue.length : 0;
      },
      close() {
        if (sub.closed) return;
        sub.closed = true;
        reader.subscribers.delete(sub);
        const wake = sub.wake;
        sub.wake = null;
        wake?.();
      },
      [Symbol.asyncIterator]() {
        return stream;
      },
    };
    return stream;
  }

  /** Stops reading and listening; open streams end with {@link OutboxClosedError}. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of [this.retryTimer, this.reconnectTimer]) if (timer) clearTimeout(timer);
    if (this.safetyTimer) clearInterval(this.safetyTimer);
    for (const sub of this.subscribers) {
      sub.failed = new OutboxClosedError();
      const wake = sub.wake;
      sub.wake = null;
      wake?.();
    }
    this.subscribers.clear();
    await this.listener?.end({ timeout: 2 });
  }
}
