/**
 * The HTTP client the gateway calls subgraphs with: node:http over a keep-alive agent. It
 * implements the small part of `fetch` that @apollo/gateway's RemoteGraphQLDataSource uses
 * (POST a string body; read status, headers and a JSON or text body), without the per-request
 * cost of WHATWG streams (Node's fetch) or an HTTP cache layer (make-fetch-happen, the default).
 *
 * Identical query requests in flight at the same time (same URL, body and headers but the
 * correlation id) share one subgraph round trip, as Hive Gateway's HTTP executor does by
 * default. Mutations are never shared.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface MinimalResponse {
  ok: boolean;
  status: number;
  statusText: string;
  url: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  json(): Promise<unknown>;
}

export interface MinimalRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export type SubgraphFetcher = (url: string, init?: MinimalRequestInit) => Promise<MinimalResponse>;

interface RawResponse {
  status: number;
  statusText: string;
  headers: IncomingMessage["headers"];
  text: string;
}

/** The correlation id and trace context differ per client request but do not change a read's answer. */
const NOT_IN_DEDUPE_KEY = new Set([
  "x-correlation-id",
  "traceparent",
  "tracestate",
  "content-length",
]);

function isQuery(body: string): boolean {
  return body.startsWith('{"query":"query') || body.startsWith('{"query":"{');
}

export function createSubgraphFetcher(
  options: { maxSockets?: number; timeoutMs?: number; dedupe?: boolean } = {},
): SubgraphFetcher & {
  destroy(): void;
} {
  const dedupe = options.dedupe ?? true;
  const inflight = new Map<string, Promise<RawResponse>>();
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 256,
    maxFreeSockets: 64,
  };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent(agentOptions);
  const timeoutMs = options.timeoutMs ?? 30_000;

  // A keep-alive socket the subgraph closed while idle fails the next request sent on it
  // (ECONNRESET, "socket hang up") before the subgraph read it: a query is sent once more, on a
  // fresh socket (the retry Node's http docs give for `reusedSocket`). Mutations are not resent.
  const send = (url: string, init: MinimalRequestInit, body: string): Promise<RawResponse> =>
    sendOnce(url, init, body).catch((error: Error & { reusedSocket?: boolean; code?: string }) => {
      if (error.reusedSocket && error.code === "ECONNRESET" && isQuery(body))
        return sendOnce(url, init, body);
      throw error;
    });

  const sendOnce = (url: string, init: MinimalRequestInit, body: string) =>
    new Promise<RawResponse>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === "https:";
      const req = (secure ? httpsRequest : httpRequest)(
        target,
        {
          method: init.method ?? "POST",
          agent: secure ? httpsAgent : httpAgent,
          headers: { ...init.headers, "content-length": Buffer.byteLength(body) },
          timeout: timeoutMs,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? "",
              headers: res.headers,
              text: Buffer.concat(chunks).toString("utf8"),
            }),
          );
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`subgraph request to ${url} timed out after ${timeoutMs} ms`)),
      );
      req.on("error", (error: Error & { reusedSocket?: boolean }) => {
        error.reusedSocket = req.reusedSocket;
        reject(error);
      });
      req.end(body);
    });

  const toResponse = (url: string, raw: RawResponse): MinimalResponse => ({
    ok: raw.status >= 200 && raw.status < 300,
    status: raw.status,
    statusText: raw.statusText,
    url,
    headers: {
      get: (name) => {
        const value = raw.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
      },
    },
    text: async () => raw.text,
    // Each caller parses its own copy: the gateway mutates what it receives.
    json: async () => JSON.parse(raw.text),
  });

  const fetcher = async (url: string, init: MinimalRequestInit = {}): Promise<MinimalResponse> => {
    const body = init.body ?? "";
    if (!dedupe || !isQuery(body)) return toResponse(url, await send(url, init, body));
    const headerKey = Object.entries(init.headers ?? {})
      .filter(([name]) => !NOT_IN_DEDUPE_KEY.has(name.toLowerCase()))
      .map(([name, value]) => `${name.toLowerCase()}:${value}`)
      .sort()
      .join("\n");
    const key = `${url}\n${headerKey}\n${body}`;
    let pending = inflight.get(key);
    if (!pending) {
      pending = send(url, init, body).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return toResponse(url, await pending);
  };

  return Object.assign(fetcher, {
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  });
}
