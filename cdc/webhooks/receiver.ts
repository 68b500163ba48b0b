/**
 * The Standard-Webhooks receiver (https://www.standardwebhooks.com) for PSAs and ERPs that push.
 *
 * POST /webhooks with `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> …`
 * (HMAC-SHA256 over `id.timestamp.body`, verified with the `standardwebhooks` package: constant-
 * time compare, ±5 min tolerance; every `whsec_` secret of WEBHOOK_SECRETS is tried, so secrets
 * rotate without downtime). The answer is 2xx only once the event is committed to the inbox; it
 * is applied asynchronously by the engine. The webhook-id is the dedupe key: a redelivery is
 * answered 200 `{ duplicate: true }` and recorded once.
 *
 * Refused, recorded as a FAILED inbox row (source "webhooks", reason = status + why), nothing
 * applied: oversize body 413, missing headers 400, stale/future timestamp 401, bad signature
 * 401, malformed JSON 400, unknown event envelope 422. Only the first bytes of a refused body are
 * kept (an unsigned body is not trusted data).
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type DbClient, type Logger, type ServiceMetrics, sync } from "@pshub/db";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { z } from "zod";
import type { InboundRecord } from "../engine/types.ts";
import { systemOfEvent } from "./events.ts";

export const WEBHOOK_SOURCE = "webhooks";

export interface WebhookReceiverOptions {
  client: DbClient;
  /** `whsec_…` secrets; any of them may have signed a delivery. */
  secrets: string[];
  maxBodyBytes?: number;
  logger?: Logger;
  /** The process's metrics: served at GET /metrics, and the receiver's HTTP requests recorded. */
  metrics?: ServiceMetrics;
}

const ROUTES = ["/webhooks", "/healthz", "/metrics"] as const;

const envelope = z.object({
  type: z.string().regex(/^[a-z_]+\.[a-z_]+$/, "must look like time_entry.approved"),
  timestamp: z.string().optional(),
  data: z
    .record(z.string(), z.unknown())
    .and(z.object({ id: z.union([z.string().min(1), z.number()]) })),
});

/** Inbox transactions in flight at once, and deliveries per transaction (group commit). */
const MAX_CONCURRENT_WRITES = 2;
const MAX_BATCH = 500;

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes)
    throw new Refusal(413, "PAYLOAD_TOO_LARGE", `body of ${declared} bytes exceeds ${maxBytes}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes)
      throw new Refusal(413, "PAYLOAD_TOO_LARGE", `body exceeds ${maxBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class WebhookReceiver {
  private readonly verifiers: Webhook[];
  private readonly maxBodyBytes: number;
  private server?: Server;

  constructor(private readonly options: WebhookReceiverOptions) {
    if (options.secrets.length === 0) throw new Error("at least one webhook secret is required");
    this.verifiers = options.secrets.map((s) => new Webhook(s));
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
  }

  /** Verifies and records one delivery; returns the HTTP status and body to answer. */
  async handle(req: IncomingMessage): Promise<{ status: number; body: Record<string, unknown> }> {
    const id = header(req, "webhook-id");
    const timestamp = header(req, "webhook-timestamp");
    let raw: Buffer | undefined;
    try {
      if (req.method !== "POST") throw new Refusal(405, "METHOD_NOT_ALLOWED", "use POST");
      raw = await readBody(req, this.maxBodyBytes);
      const signature = header(req, "webhook-signature");
      if (!id || !timestamp || !signature) {
        throw new Refusal(
          400,
          "MISSING_SIGNATURE_HEADERS",
          "webhook-id, webhook-timestamp and webhook-signature are required",
        );
      }
      this.verify(raw.toString("utf8"), {
        "webhook-id": id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature,
      });
      let json: unknown;
      try {
        json = JSON.parse(raw.toString("utf8"));
      } catch {
        throw new Refusal(400, "MALFORMED_JSON", "the body is not valid JSON");
      }
      const parsed = envelope.safeParse(json);
      if (!parsed.success) {
        throw new Refusal(
          422,
          "INVALID_EVENT",
          parsed.error.issues
            .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
            .join("; "),
        );
      }
      const system = systemOfEvent(parsed.data.type);
      if (!system)
        throw new Refusal(422, "UNKNOWN_EVENT", `unknown event type ${parsed.data.type}`);
      const data = parsed.data.data;
      const [object] = parsed.data.type.split(".");
      const modified =
        (typeof data.updated_at === "string" && data.updated_at) ||
        parsed.data.timestamp ||
        new Date(Number(timestamp) * 1000).toISOString();
      const record: InboundRecord = {
        system,
        object: object!,
        externalId: String(data.id),
        op: parsed.data.type.endsWith(".deleted") ? "DELETE" : "UPSERT",
        fields: { ...data, event: parsed.data.type },
        sourceModifiedAt: new Date(modified).toISOString(),
        dedupeKey: id,
      };
      const inboxEventId = await this.record({
        dedupeKey: id,
        system,
        object: record.object,
        externalId: record.externalId,
        payload: record,
        sourceModifiedAt: record.sourceModifiedAt,
      });
      return {
        status: 200,
        body: { received: true, duplicate: inboxEventId === null, inboxEventId },
      };
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      await this.recordRefusal(error, id, timestamp, raw);
      return {
        status: error.status,
        body: { error: { code: error.code, message: error.message } },
      };
    }
  }

  /**
   * Group commit: deliveries verified while a write is in flight go into the next transaction
   * together (one INSERT for all of them), so concurrent senders share a commit instead of
   * queueing for one each. Each caller still answers only after ITS row is committed; nothing
   * waits on a timer. Resolves with the inbox id, or null for a redelivery already recorded.
   */
  private record(row: sync.InboxRecordInput): Promise<number | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (this.writing < MAX_CONCURRENT_WRITES) void this.flush();
    });
  }

  private readonly queue: {
    row: sync.InboxRecordInput;
    resolve: (id: number | null) => void;
    reject: (error: unknown) => void;
  }[] = [];
  private writing = 0;

  private async flush(): Promise<void> {
    this.writing++;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          // One statement, its own transaction: resolved = every row of the batch committed.
          const written = await sync.writeInbox(
            this.options.client.db,
            WEBHOOK_SOURCE,
            batch.map((b) => b.row),
          );
          // Within one batch a repeated webhook-id is recorded once: the first caller gets it.
          const answered = new Set<string>();
          for (const b of batch) {
            const id = written.idsByKey.get(b.row.dedupeKey);
            const first = id !== undefined && !answered.has(b.row.dedupeKey);
            answered.add(b.row.dedupeKey);
            b.resolve(first ? id : null);
          }
        } catch (error) {
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.writing--;
    }
  }

  private verify(body: string, headers: Record<string, string>): void {
    let last: Error | undefined;
    for (const v of this.verifiers) {
      try {
        v.verify(body, headers, { jsonParse: false } as never);
        return;
      } catch (error) {
        last = error as Error;
        if (
          error instanceof WebhookVerificationError &&
          /timestamp|Signature Headers/i.test(error.message)
        ) {
          throw new Refusal(401, "STALE_TIMESTAMP", `${error.message} (tolerance ±5 min)`);
        }
      }
    }
    throw new Refusal(401, "BAD_SIGNATURE", last?.message ?? "no matching signature");
  }

  private async recordRefusal(
    error: Refusal,
    id: string | undefined,
    timestamp: string | undefined,
    raw: Buffer | undefined,
  ) {
    const payload = {
      webhookId: id ?? null,
      webhookTimestamp: timestamp ?? null,
      bytes: raw?.length ?? null,
      // An unverified body is not trusted data: keep only its start, for diagnosis.
      bodyStart: raw ? raw.subarray(0, 256).toString("utf8") : null,
    };
    await sync.writeInbox(this.options.client.db, WEBHOOK_SOURCE, [
      {
        dedupeKey: `refused:${randomUUID()}`,
        system: null,
        object: "(refused)",
        externalId: id ?? null,
        payload,
        status: "FAILED",
        reason: `${error.status} ${error.code}: ${error.message}`,
      },
    ]);
    this.options.logger?.warn(
      { status: error.status, code: error.code, webhookId: id },
      "webhook refused",
    );
  }

  /** Serves POST /webhooks (and GET /healthz, /metrics) on the port; resolves with the bound port. */
  async listen(port: number, host = "127.0.0.1"): Promise<number> {
    this.server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const metrics = this.options.metrics;
    metrics?.observeHttp(req, res, ROUTES);
    try {
      if (path === "/healthz") return send(200, { ok: true });
      if (path === "/metrics" && metrics) return await metrics.serve(req, res);
      if (path !== "/webhooks")
        return send(404, { error: { code: "NOT_FOUND", message: "POST /webhooks" } });
      const { status, body } = await this.handle(req);
      send(status, body);
    } catch (error) {
      this.options.logger?.error({ err: error }, "webhook could not be recorded");
      // Not recorded: the sender must retry (Standard Webhooks senders retry non-2xx).
      send(503, {
        error: { code: "UNAVAILABLE", message: "the event could not be recorded; retry" },
      });
    }
  }

  async close(): Promise<void> {
    if (!this.server) return;
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server.closeAllConnections?.();
  }
}
