/**
 * A Standard-Webhooks sender (the sandbox's PSA/ERP that pushes): signs `id.timestamp.body` with
 * a `whsec_` secret (HMAC-SHA256, `v1,<base64>`), POSTs JSON, and can be told to misbehave
 * (wrong secret, old timestamp, tampered body, duplicate id) for tests and fault drills.
 */
import { randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";

export interface SendOptions {
  /** The webhook-id (dedupe key); a fresh msg_… by default. Reuse it to redeliver. */
  id?: string;
  timestamp?: Date;
  /** Sign with this secret instead (e.g. a wrong one). */
  secret?: string;
  /** Change the body after signing. */
  tamper?: (body: string) => string;
  /** Send this raw body (signed as is) instead of the JSON envelope. */
  rawBody?: string;
  omitHeaders?: boolean;
}

export interface SendResult {
  id: string;
  status: number;
  body: unknown;
}

/** A random `whsec_` secret (24 bytes, base64). */
export function newWebhookSecret(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return `whsec_${Buffer.from(bytes).toString("base64")}`;
}

export class WebhookSender {
  constructor(
    private readonly url: string,
    private readonly secret: string,
  ) {}

  async send(
    type: string,
    data: Record<string, unknown>,
    options: SendOptions = {},
  ): Promise<SendResult> {
    const id = options.id ?? `msg_${randomUUID().replace(/-/g, "")}`;
    const timestamp = options.timestamp ?? new Date();
    const body =
      options.rawBody ?? JSON.stringify({ type, timestamp: timestamp.toISOString(), data });
    const signature = new Webhook(options.secret ?? this.secret).sign(id, timestamp, body);
    const sent = options.tamper ? options.tamper(body) : body;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (!options.omitHeaders) {
      headers["webhook-id"] = id;
      headers["webhook-timestamp"] = String(Math.floor(timestamp.getTime() / 1000));
      headers["webhook-signature"] = signature;
    }
    const res = await fetch(this.url, { method: "POST", headers, body: sent });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { id, status: res.status, body: parsed };
  }
}
