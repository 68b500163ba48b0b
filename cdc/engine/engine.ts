/**
 * The sync engine of one CDC process: per connector an Ingest (inbox + cursor in one
 * transaction), per (connector, object) a poll loop that runs only while this process holds the
 * object's leader lock, one applier loop (woken by NOTIFY 'pshub_inbox', and every
 * `applyIntervalMs`), and the resync loop (NOTIFY 'pshub_resync': resyncEntity requests).
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { type DbClient, type Logger, sync } from "@pshub/db";
import { Applier, type ApplyStats } from "./applier.ts";
import type {
  AfterApplyHook,
  Connector,
  CursorUpdate,
  InboundRecord,
  Ingest,
  IngestResult,
  Mapper,
} from "./types.ts";

export interface EngineOptions {
  client: DbClient;
  /** For the leader session's dedicated connection. */
  databaseUrl: string;
  connectors: Connector[];
  /** Mappers of sources that are not connectors, by inbox source (e.g. { webhooks: [...] }). */
  sourceMappers?: Record<string, Mapper[]>;
  hooks?: AfterApplyHook[];
  logger: Logger;
  /** Default poll interval per object (ms). */
  pollIntervalMs?: number;
  /** How often a follower tries to take over a leader lock (ms). */
  leaderRetryMs?: number;
  applyIntervalMs?: number;
  batchSize?: number;
  /** Name of this process in sync_cursor.leader. */
  processName?: string;
  /** false: record only, do not apply (tests of the inbox alone). */
  apply?: boolean;
}

/** Creates the Ingest of one connector: inbox rows + cursor in ONE transaction. */
export function createIngest(client: DbClient, connector: string): Ingest {
  return async (records: InboundRecord[], cursor?: CursorUpdate): Promise<IngestResult> => {
    const result = await client.db.transaction((tx) =>
      sync.writeInbox(
        tx,
        connector,
        records.map((r) => ({
          dedupeKey: r.dedupeKey,
          system: r.system,
          object: r.object,
          externalId: r.externalId,
          payload: r,
          sourceModifiedAt: r.sourceModifiedAt ?? null,
        })),
        cursor,
      ),
    );
    return { received: result.received, duplicates: result.duplicates };
  };
}

/**
 * Waits `ms`, or until `signal` aborts, or until `woken` settles — and removes its timer and its
 * abort listener whichever comes first. (A sleep raced against a wake-up used to leave its
 * listener on the engine's stop signal until the timer fired: frequent inbox NOTIFYs piled them
 * up into a MaxListenersExceededWarning.)
 */
const sleep = (ms: number, signal?: AbortSignal, woken?: Promise<void>) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    woken?.then(done, done);
  });

export class SyncEngine {
  readonly applier: Applier;
  readonly processName: string;
  private readonly leader: sync.LeaderSession;
  private readonly stopping = new AbortController();
  /** Settles when the engine stops (one listener on the stop signal, shared by every loop). */
  private readonly stopped = new Promise<void>((resolve) =>
    this.stopping.signal.addEventListener("abort", () => resolve(), { once: true }),
  );
  private readonly loops: Promise<void>[] = [];
  private wakeApplier?: () => void;
  private wakeResync?: () => void;
  private unlisten: (() => Promise<void>)[] = [];
  private readonly ingests = new Map<string, Ingest>();

  constructor(private readonly options: EngineOptions) {
    this.applier = new Applier(options.client, {
      mappers: [],
      sourceMappers: {
        ...Object.fromEntries(options.connectors.map((c) => [c.name, c.mappers])),
        ...options.sourceMappers,
      },
      hooks: options.hooks,
      batchSize: options.batchSize,
      logger: options.logger,
    });
    this.processName =
      options.processName ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leader = sync.createLeaderSession(options.databaseUrl, {
      applicationName: "pshub-cdc-leader",
    });
  }

  /** The Ingest of a connector (or of any named source, e.g. "webhooks"). Unless the engine
   *  only records (`apply: false`), a batch is applied in the transaction that records it. */
  ingestFor(connector: string): Ingest {
    let ingest = this.ingests.get(connector);
    if (!ingest) {
      ingest =
        this.options.apply === false
          ? createIngest(this.options.client, connector)
          : async (records, cursor) => {
              const r = await this.applier.ingest(connector, records, cursor);
              // Rows recorded without being applied, or children woken by parents applied here.
              if (r.woken > 0 || (r.received > 0 && r.batches === 0)) this.wakeApplier?.();
              return { received: r.received, duplicates: r.duplicates };
            };
      this.ingests.set(connector, ingest);
    }
    return ingest;
  }

  /** Keys of the leader locks this process holds (`connector:object`). */
  leading(): string[] {
    return this.leader.held();
  }

  async start(): Promise<void> {
    const { client, connectors, logger } = this.options;
    const signal = this.stopping.signal;
    const inbox = await client.sql.listen(sync.INBOX_CHANNEL, () => this.wakeApplier?.());
    const resync = await client.sql.listen(sync.RESYNC_CHANNEL, () => this.wakeResync?.());
    this.unlisten.push(
      () => inbox.unlisten(),
      () => resync.unlisten(),
    );
    // Objects start in the order the connectors list them (parents first: Account before
    // Contact, a PSA project before its timecards): each waits until the one before it has caught
    // up once (a poll with nothing more to read), failed, paused, or is led elsewhere. A full load
    // of children before their parents would make nearly every child wait and be applied twice.
    let before: Promise<void> = Promise.resolve();
    for (const c of connectors) {
      await c.start?.({ ingest: this.ingestFor(c.name), signal });
      for (const object of c.objects) {
        let caughtUp!: () => void;
        const gate = new Promise<void>((resolve) => {
          caughtUp = resolve;
        });
        this.loops.push(this.pollLoop(c, object, before, caughtUp).finally(caughtUp));
        before = gate;
      }
    }
    if (this.options.apply !== false) this.loops.push(this.applyLoop());
    this.loops.push(this.resyncLoop());
    this.loops.push(this.heartbeatLoop());
    logger.info(
      {
        connectors: connectors.map((c) => `${c.name}(${c.objects.join(",")})`),
        process: this.processName,
      },
      "sync engine started",
    );
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wakeApplier?.();
    this.wakeResync?.();
    await Promise.allSettled(this.loops);
    for (const u of this.unlisten) await u().catch(() => {});
    for (const c of this.options.connectors) await c.stop().catch(() => {});
    await this.leader.close();
  }

  /** Applies everything due now (tests, and the applier loop). */
  applyNow(): Promise<ApplyStats> {
    return this.applier.drain();
  }

  private async heartbeatLoop(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      await sleep(this.options.leaderRetryMs ?? 2_000, signal);
      await this.leader.heartbeat().catch(() => {});
    }
  }

  private async pollLoop(
    connector: Connector,
    object: string,
    after: Promise<void>,
    caughtUp: () => void,
  ): Promise<void> {
    const { client, logger } = this.options;
    const stop = this.stopping.signal;
    const key = `${connector.name}:${object}`;
    const interval = connector.pollIntervalMs ?? this.options.pollIntervalMs ?? 5_000;
    const retry = this.options.leaderRetryMs ?? 2_000;
    let failures = 0;
    // One combined signal per lock session: AbortSignal.any on every iteration would add a
    // listener to `stop` each time (MaxListenersExceededWarning, and a slow leak).
    let lockSignal: AbortSignal | undefined;
    let signal: AbortSignal = stop;
    await Promise.race([after, this.stopped]);
    while (!stop.aborted) {
      let leading = false;
      try {
        leading = await this.leader.tryAcquire(key);
      } catch (error) {
        logger.warn({ err: error, key }, "leader lock attempt failed");
      }
      if (!leading) {
        caughtUp();
        await sleep(retry, stop);
        continue;
      }
      const current = this.leader.signal(key);
      if (current !== lockSignal) {
        lockSignal = current;
        signal = current ? AbortSignal.any([stop, current]) : stop;
      }
      const { cursor, pausedUntil } = await client.db.transaction((tx) =>
        sync.readSyncCursor(tx, connector.name, object),
      );
      if (pausedUntil && pausedUntil.getTime() > Date.now()) {
        caughtUp();
        await sleep(Math.min(pausedUntil.getTime() - Date.now(), interval), signal);
        continue;
      }
      try {
        const result = await connector.pollOnce(object, {
          cursor,
          ingest: this.ingestFor(connector.name),
          signal,
        });
        failures = 0;
        await client.db.transaction((tx) =>
          sync.recordPoll(tx, {
            connector: connector.name,
            object,
            ok: true,
            pausedUntil: result.pausedUntil ?? null,
            apiBudget: result.apiBudget ?? null,
            leader: this.processName,
          }),
        );
        if (result.more && !result.pausedUntil) continue;
        caughtUp();
        await sleep(interval, signal);
      } catch (error) {
        failures++;
        caughtUp();
        const message = (error as Error)?.message ?? String(error);
        logger.warn({ key, err: message, failures }, "poll failed");
        await client.db
          .transaction((tx) =>
            sync.recordPoll(tx, {
              connector: connector.name,
              object,
              ok: false,
              error: message.slice(0, 2000),
              leader: this.processName,
            }),
          )
          .catch(() => {});
        // Exponential backoff, capped at a minute.
        await sleep(Math.min(60_000, interval * 2 ** Math.min(failures, 6)), signal);
      }
    }
    await this.leader.release(key).catch(() => {});
  }

  private async applyLoop(): Promise<void> {
    const signal = this.stopping.signal;
    const interval = this.options.applyIntervalMs ?? 1_000;
    while (!signal.aborted) {
      const woken = new Promise<void>((resolve) => {
        this.wakeApplier = resolve;
      });
      try {
        await this.applier.drain();
      } catch (error) {
        this.options.logger.error({ err: error }, "applying the inbox failed; retrying");
      }
      await sleep(interval, signal, woken);
    }
  }

  /** resyncEntity requests: fetchOne from the connector, ingest, record the outcome. */
  async resyncNow(): Promise<number> {
    const { client, connectors } = this.options;
    const systems = [...new Set(connectors.map((c) => c.system))];
    if (systems.length === 0) return 0;
    const claimed = await client.db.transaction((tx) => sync.claimResyncs(tx, systems));
    for (const r of claimed) {
      const connector = connectors.find(
        (c) => c.system === r.system && c.mappers.some((m) => m.object === r.object),
      );
      let outcome: {
        state: "DONE" | "FAILED" | "PENDING";
        result: string;
        inboxEventId?: number | null;
      };
      if (!connector) {
        outcome = { state: "FAILED", result: `no connector here reads ${r.system} ${r.object}` };
      } else {
        try {
          const record = await connector.fetchOne(r.object, r.externalId);
          if (!record) {
            outcome = {
              state: "DONE",
              result: `${r.system} ${r.object} ${r.externalId} no longer exists in the source`,
            };
          } else {
            const ids = await client.db.transaction((tx) =>
              sync.writeInbox(tx, connector.name, [
                {
                  dedupeKey: `resync:${r.id}`,
                  system: record.system,
                  object: record.object,
                  externalId: record.externalId,
                  payload: { ...record, dedupeKey: `resync:${r.id}` },
                  sourceModifiedAt: record.sourceModifiedAt ?? null,
                },
              ]),
            );
            outcome = {
              state: "DONE",
              result: `fetched and queued as inbox event ${ids.ids[0]}`,
              inboxEventId: ids.ids[0] ?? null,
            };
          }
        } catch (error) {
          const message = (error as Error)?.message ?? String(error);
          outcome =
            r.attempts >= 5
              ? { state: "FAILED", result: message }
              : { state: "PENDING", result: `retrying: ${message}` };
        }
      }
      await client.db.transaction((tx) => sync.completeResync(tx, r.id, outcome));
    }
    return claimed.length;
  }

  private async resyncLoop(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const woken = new Promise<void>((resolve) => {
        this.wakeResync = resolve;
      });
      try {
        await this.resyncNow();
      } catch (error) {
        this.options.logger.error({ err: error }, "resync failed; retrying");
      }
      await sleep(5_000, signal, woken);
    }
  }
}
