/**
 * Change Data Capture over jsforce's streaming client (CometD / Bayeux via faye, long-polling).
 *
 * - Resumes from the replay id stored in sync_cursor (connector, channel): jsforce's Replay
 *   extension sends it as ext.replay on /meta/subscribe. Each event is ingested together with
 *   its replay id as the cursor (one transaction), strictly in arrival order; a replay id never
 *   moves backwards (duplicate or out-of-order deliveries).
 * - CREATE / UPDATE / UNDELETE → UPSERT (UPDATE is partial: only the changed fields, merged),
 *   DELETE → DELETE; commitUser / changeOrigin (client=<ours>) identify pshub's own changes.
 * - GAP_* events carry no data: their records are re-fetched by id. GAP_OVERFLOW: the entity's
 *   changes since the event's commit time (minus the lookback) are re-fetched. An expired replay
 *   id (subscribe refused with "replayId … invalid") re-fetches every tracked object's changes
 *   since the last event seen and resubscribes for new events.
 * - Authentication failures (advice reconnect: none) re-authenticate and reconnect.
 * The poller keeps running: it is the safety net for anything the stream misses.
 */
import type { Client, Subscription } from "faye";
import { StreamingExtension } from "jsforce/lib/api/streaming.js";
import type { CursorUpdate, InboundRecord, Ingest, SourceSystem } from "../engine/types.ts";
import type { SalesforceClient } from "./client.ts";
import type { ObjectPoller } from "./poller.ts";

export interface StreamOptions {
  connector: string;
  channel: string;
  /** Object name → its poller (fields, system, re-fetch). */
  pollers: Map<string, { poller: ObjectPoller; system: SourceSystem }>;
  lookbackMs: number;
  clientName: string;
  ownUserId?: () => string | undefined;
  readCursor: (connector: string, object: string) => Promise<Record<string, unknown> | undefined>;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

export interface CdcMessage {
  payload: Record<string, unknown> & {
    ChangeEventHeader: {
      entityName: string;
      recordIds: string[];
      changeType: string;
      changeOrigin?: string;
      commitTimestamp: number;
      commitUser?: string;
      changedFields?: string[];
      nulledFields?: string[];
      diffFields?: string[];
    };
  };
  event: { replayId: number };
}

/** Change events recorded in one inbox transaction at most. */
const MAX_EVENTS_PER_INGEST = 1000;

export class ChangeStream {
  private fayeClient?: Client;
  private subscription?: Subscription;
  private queue: Promise<void> = Promise.resolve();
  private replayId = -1;
  private lastCommit?: string;
  private stopped = false;
  private ingest?: Ingest;
  /** Events handled (for status and tests). */
  events = 0;
  gaps = 0;
  resubscribes = 0;
  lastError?: string;

  constructor(
    private readonly client: SalesforceClient,
    private readonly options: StreamOptions,
  ) {
    client.onReauthenticate(() => {
      if (!this.stopped && this.fayeClient) void this.reconnect("session renewed");
    });
  }

  async start(ingest: Ingest): Promise<void> {
    this.ingest = ingest;
    const stored = await this.options.readCursor(this.options.connector, this.options.channel);
    if (typeof stored?.replayId === "number") this.replayId = stored.replayId;
    if (typeof stored?.commitTimestamp === "string") this.lastCommit = stored.commitTimestamp;
    await this.client.connect();
    await this.subscribe();
  }

  private async subscribe(): Promise<void> {
    if (this.stopped) return;
    const o = this.options;
    const replay = new StreamingExtension.Replay(o.channel, this.replayId);
    const authFailure = new StreamingExtension.AuthFailure(() => {
      void this.onAuthFailure();
    });
    const fayeClient = this.client.conn.streaming.createClient([replay, authFailure]);
    this.fayeClient = fayeClient;
    const subscription = fayeClient.subscribe(o.channel, (message: CdcMessage) => {
      this.enqueue(message);
    });
    this.subscription = subscription;
    await subscription.then(
      () => {
        this.connectedAt = new Date().toISOString();
      },
      (error: { message?: string } | string) => {
        const text = typeof error === "string" ? error : (error?.message ?? String(error));
        void this.onSubscribeError(text);
      },
    );
  }

  private async onSubscribeError(text: string): Promise<void> {
    this.lastError = text;
    if (/replayId/i.test(text)) {
      this.options.log?.("stored replay id is no longer retained; re-fetching changes", {
        replayId: this.replayId,
        error: text,
      });
      await this.teardown();
      this.replayId = -1;
      this.resubscribes += 1;
      await this.subscribe();
      await this.refetchSince(this.lastCommit);
      return;
    }
    if (/401|Authentication invalid|Handshake denied/i.test(text)) {
      await this.onAuthFailure();
      return;
    }
    this.options.log?.("CDC subscription refused", { error: text });
  }

  private async onAuthFailure(): Promise<void> {
    if (this.stopped) return;
    const before = this.client.reauthentications;
    try {
      // Any REST call re-authenticates on INVALID_SESSION_ID (and reconnects us through
      // onReauthenticate).
      await this.client.call((c) => c.request("/services/data"));
    } catch (err) {
      this.lastError = (err as Error).message;
    }
    if (this.client.reauthentications === before) await this.reconnect("authentication failed");
  }

  private reconnecting?: Promise<void>;
  private connectedAt?: string;

  private reconnect(reason: string): Promise<void> {
    this.reconnecting ??= (async () => {
      this.options.log?.("CDC reconnecting", { reason, replayId: this.replayId });
      const since = this.connectedAt;
      await this.teardown();
      await this.subscribe();
      this.resubscribes += 1;
      // No event seen yet: nothing to replay from, so read what changed while disconnected.
      if (this.replayId === -1 && since) await this.refetchSince(since);
    })().finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }

  private async teardown(): Promise<void> {
    try {
      this.subscription?.cancel();
    } catch {}
    try {
      (this.fayeClient as unknown as { disconnect?(): void } | undefined)?.disconnect?.();
    } catch {}
    this.subscription = undefined;
    this.fayeClient = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.teardown();
    await this.queue.catch(() => {});
  }

  /** Waits until every event received so far is ingested. */
  async drain(): Promise<void> {
    await this.queue;
  }

  /**
   * Events are recorded in arrival order, one ingest at a time; the events that arrive while an
   * ingest is in flight are recorded together in the next one (one transaction, the highest replay
   * id as its cursor), so a burst does not queue up one commit per event.
   */
  private enqueue(message: CdcMessage): void {
    this.pending.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    this.queue = this.queue
      .then(async () => {
        this.scheduled = false;
        while (this.pending.length > 0) {
          await this.handleBatch(this.pending.splice(0, MAX_EVENTS_PER_INGEST));
        }
      })
      .catch((err) => {
        this.pending = [];
        this.lastError = (err as Error).message;
        this.options.log?.(
          "CDC event could not be recorded; resubscribing from the stored replay id",
          { error: this.lastError },
        );
        void this.restartFromStored();
      });
  }

  private pending: CdcMessage[] = [];
  private scheduled = false;

  private async restartFromStored(): Promise<void> {
    const stored = await this.options
      .readCursor(this.options.connector, this.options.channel)
      .catch(() => undefined);
    if (typeof stored?.replayId === "number") this.replayId = stored.replayId;
    await this.reconnect("ingest failed");
  }

  /** The channel's cursor; `committedAt` (ms) of the newest change it covers gives the lag. */
  private cursor(replayId: number, committedAt?: number): CursorUpdate {
    const next = Math.max(replayId, this.replayId);
    return {
      connector: this.options.connector,
      object: this.options.channel,
      cursor: { replayId: next, ...(this.lastCommit ? { commitTimestamp: this.lastCommit } : {}) },
      ...(committedAt === undefined ? {} : { lagMs: Math.max(0, Date.now() - committedAt) }),
    };
  }

  private async handleBatch(messages: CdcMessage[]): Promise<void> {
    const records: InboundRecord[] = [];
    let replayId = -1;
    let committedAt: number | undefined;
    for (const message of messages) {
      records.push(...(await this.recordsOf(message)));
      replayId = Math.max(replayId, message.event.replayId);
      const commit = message.payload.ChangeEventHeader.commitTimestamp;
      if (Number.isFinite(commit)) committedAt = Math.max(committedAt ?? commit, commit);
    }
    await this.ingest!(records, this.cursor(replayId, committedAt));
    if (replayId > this.replayId) this.replayId = replayId;
  }

  /**
   * The inbound records of one change event. A GAP_* event, a wildcard record id (`001*`: a
   * custom field type conversion touched every record) and an UPDATE whose text arrives as a diff
   * (`diffFields`) re-fetch the records from the org instead of taking the event's body.
   */
  async recordsOf(message: CdcMessage): Promise<InboundRecord[]> {
    const header = message.payload.ChangeEventHeader;
    const replayId = message.event.replayId;
    const target = this.options.pollers.get(header.entityName);
    const commitIso = new Date(header.commitTimestamp).toISOString();
    if (!this.lastCommit || commitIso > this.lastCommit) this.lastCommit = commitIso;
    this.events += 1;
    let records: InboundRecord[] = [];
    if (target) {
      const { poller, system } = target;
      const type = header.changeType;
      const recordIds = header.recordIds ?? [];
      const wildcard = recordIds.some((id) => id.includes("*"));
      const diffed = type === "UPDATE" && (header.diffFields?.length ?? 0) > 0;
      if (type.startsWith("GAP_") || wildcard || diffed) {
        this.gaps += 1;
        if (type === "GAP_OVERFLOW" || recordIds.length === 0 || wildcard) {
          const since = new Date(header.commitTimestamp - this.options.lookbackMs).toISOString();
          records = await poller.fetchChangedSince(since);
        } else {
          records = await poller.fetchByIds(recordIds);
          if (type === "GAP_DELETE") {
            const present = new Set(records.map((r) => r.externalId));
            records.push(
              ...recordIds
                .filter((id) => !present.has(id))
                .map((id) => poller.deleteRecord(id, commitIso)),
            );
          }
        }
      } else {
        const own = this.isOwn(header);
        const modifiedBy = own
          ? (this.options.ownUserId?.() ?? header.commitUser)
          : header.commitUser;
        const { ChangeEventHeader: _h, ...body } = message.payload;
        const fields = type === "UPDATE" ? changedFieldsOf(body, header) : flatten(body);
        for (const id of recordIds) {
          if (type === "DELETE") {
            records.push(poller.deleteRecord(id, commitIso, modifiedBy));
            continue;
          }
          records.push({
            system,
            object: header.entityName,
            externalId: id,
            op: "UPSERT",
            fields: { ...fields, Id: id },
            partial: type === "UPDATE",
            // The commit time, not the body's LastModifiedDate: that one is the record's last
            // user edit (a system update such as a roll-up leaves it unchanged) and is set when
            // the save starts, not when the change became visible in the source.
            sourceModifiedAt: commitIso,
            ...(modifiedBy ? { modifiedBy } : {}),
            // Two changes of one record can share a second: the replay id tells them apart.
            dedupeKey: `cdc:${replayId}:${id}`,
          });
        }
      }
    }
    return records;
  }

  private isOwn(header: CdcMessage["payload"]["ChangeEventHeader"]): boolean {
    const own = this.options.ownUserId?.();
    if (own && header.commitUser === own) return true;
    return changeOriginClient(header.changeOrigin) === this.options.clientName;
  }

  /** After an expired replay id: every tracked object's changes since the last event seen. */
  private async refetchSince(since: string | undefined): Promise<void> {
    const from = new Date(
      (since ? Date.parse(since) : Date.now()) - this.options.lookbackMs,
    ).toISOString();
    for (const { poller } of this.options.pollers.values()) {
      const records = await poller.fetchChangedSince(from);
      if (records.length > 0) await this.ingest!(records);
    }
  }
}

/**
 * The client id in a changeOrigin, `com/salesforce/api/<api>/<version>;client=<client id>` (the
 * Sforce-Call-Options client the change was made with); undefined when none was set.
 */
export function changeOriginClient(origin: string | undefined): string | undefined {
  const m = /;client=([^;]*)$/.exec(origin ?? "");
  return m ? m[1]!.replace(/\/$/, "") : undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === "object" && !Array.isArray(v);

/**
 * The fields an UPDATE event changed, by its header: `changedFields` names them (a compound
 * field's component as `Name.LastName`, nested in the body as `Name: { LastName }`) and
 * `nulledFields` the ones set to null. Only those are taken: a body may also carry unchanged
 * fields — empty (Pub/Sub API, "unchanged fields have an empty value") or enriched — and those
 * must not overwrite the hub's values. LastModifiedDate / LastModifiedById come along when sent.
 * Without a changedFields list (CometD before API 47.0) the body holds only the changed fields.
 */
export function changedFieldsOf(
  body: Record<string, unknown>,
  header: { changedFields?: string[]; nulledFields?: string[] },
): Record<string, unknown> {
  const changed = header.changedFields ?? [];
  if (changed.length === 0) return flatten(body);
  const out: Record<string, unknown> = {};
  for (const name of changed) {
    const dot = name.indexOf(".");
    if (dot > 0) {
      const compound = body[name.slice(0, dot)];
      const component = name.slice(dot + 1);
      out[component] = isObject(compound) ? (compound[component] ?? null) : null;
    } else if (isObject(body[name])) {
      for (const [k, v] of Object.entries(body[name] as Record<string, unknown>))
        if (v !== null && v !== undefined) out[k] = v;
    } else {
      out[name] = body[name] ?? null;
    }
  }
  for (const name of header.nulledFields ?? []) out[name.slice(name.indexOf(".") + 1)] = null;
  for (const system of ["LastModifiedDate", "LastModifiedById"])
    if (body[system] !== null && body[system] !== undefined) out[system] = body[system];
  return out;
}

/** CDC compound fields (Contact Name: { FirstName, LastName }) become their component fields. */
function flatten(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (v && typeof v === "object" && !Array.isArray(v)) Object.assign(out, v);
    else out[k] = v;
  }
  return out;
}
