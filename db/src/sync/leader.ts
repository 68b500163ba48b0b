/**
 * Leader locks: exactly one active poller per (connector, object) across processes. Each process
 * holds its locks as session-level PostgreSQL advisory locks on ONE dedicated connection (not a
 * pooled one: a pool would hand the session to someone else and the lock with it). If that
 * connection dies, PostgreSQL releases the locks and another process takes them over; the
 * heartbeat notices the loss here (backend pid changed or lock gone) and aborts the pollers.
 */
import postgres from "postgres";

export interface LeaderSession {
  /** Tries to become the leader for `key` now; true when this session holds it. */
  tryAcquire(key: string): Promise<boolean>;
  /** Aborted when this session loses `key` (connection lost, released). */
  signal(key: string): AbortSignal | undefined;
  release(key: string): Promise<void>;
  /** Keys this session holds. */
  held(): string[];
  /** Verifies the locks are still held; aborts the signals of lost ones. */
  heartbeat(): Promise<void>;
  close(): Promise<void>;
}

/** The 64-bit advisory lock id of a key (hashtextextended, stable across processes). */
const LOCK = (key: string) => `pshub:leader:${key}`;

export function createLeaderSession(
  url: string,
  options: { applicationName?: string } = {},
): LeaderSession {
  const sql = postgres(url, {
    max: 1,
    idle_timeout: 0,
    max_lifetime: null,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? "pshub-leader" },
  });
  const locks = new Map<string, { controller: AbortController; pid: number }>();
  let closed = false;
  // One statement at a time: the session is one connection.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => {});
    return next;
  };

  const lose = (key: string) => {
    const held = locks.get(key);
    if (!held) return;
    locks.delete(key);
    held.controller.abort(new Error(`leader lock ${key} lost`));
  };

  return {
    tryAcquire: (key) =>
      serial(async () => {
        if (closed) return false;
        if (locks.has(key)) return true;
        const [row] = await sql<{ ok: boolean; pid: number }[]>`
          select pg_try_advisory_lock(hashtextextended(${LOCK(key)}, 0)) as ok,
            pg_backend_pid() as pid`;
        if (!row?.ok) return false;
        locks.set(key, { controller: new AbortController(), pid: row.pid });
        return true;
      }),
    signal: (key) => locks.get(key)?.controller.signal,
    held: () => [...locks.keys()],
    release: (key) =>
      serial(async () => {
        if (!locks.has(key)) return;
        lose(key);
        if (!closed)
          await sql`select pg_advisory_unlock(hashtextextended(${LOCK(key)}, 0))`.catch(() => {});
      }),
    heartbeat: () =>
      serial(async () => {
        if (locks.size === 0 || closed) return;
        try {
          const rows = await sql<{ pid: number; held: boolean; key: string }[]>`
            select pg_backend_pid() as pid, k.key,
              exists (select 1 from pg_locks l where l.locktype = 'advisory'
                and l.pid = pg_backend_pid() and l.granted
                and ((l.classid::bigint << 32) | l.objid::bigint)
                  = hashtextextended('pshub:leader:' || k.key, 0)) as held
            from unnest(${[...locks.keys()]}::text[]) as k(key)`;
          for (const r of rows) {
            if (!r.held || r.pid !== locks.get(r.key)?.pid) lose(r.key);
          }
        } catch {
          for (const key of [...locks.keys()]) lose(key);
        }
      }),
    close: async () => {
      closed = true;
      for (const key of [...locks.keys()]) lose(key);
      await sql.end({ timeout: 5 });
    },
  };
}
