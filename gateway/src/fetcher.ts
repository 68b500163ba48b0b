/**
 * The HTTP client the gateway calls subgraphs with: undici's connection pools (one per subgraph
 * origin, keep-alive). It implements the small part of `fetch` that @apollo/gateway's
 * RemoteGraphQLDataSource uses (POST a string body; read status, headers and a JSON or text
 * body), without the per-request cost of WHATWG streams (Node's fetch), an HTTP cache layer
 * (make-fetch-happen, the default) or node:http's ClientRequest (undici's `request` costs about
 * half the CPU per call of node:http over a keep-alive Agent: bench/RESULTS.md, #13).
 *
 * Identical query requests in flight at the same time (same URL, body and headers but the
 * correlation id) share one subgraph round trip, as Hive Gateway's HTTP executor does by
 * default. Mutations are never shared.
 */
import { STATUS_CODES } from "node:http";
import { Agent, type Dispatcher } from "undici";

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
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface Target {
  origin: string;
  path: string;
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

/** A connection the subgraph closed (reset, or closed before answering). */
function isDroppedConnection(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === "UND_ERR_SOCKET" || code === "ECONNRESET";
}

export function createSubgraphFetcher(
  options: { maxSockets?: number; timeoutMs?: number; dedupe?: boolean } = {},
): SubgraphFetcher & {
  destroy(): void;
} {
  const dedupe = options.dedupe ?? true;
  const inflight = new Map<string, Promise<RawResponse>>();
  const timeoutMs = options.timeoutMs ?? 30_000;
  // One pool per origin. undici honours the subgraph's `Keep-Alive: timeout=…` hint and retires
  // an idle socket before the subgraph would close it.
  const agent = new Agent({
    connections: options.maxSockets ?? 256,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  // The subgraph URLs, parsed once each.
  const targets = new Map<string, Target>();
  const targetOf = (url: string): Target => {
    let target = targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: parsed.pathname + parsed.search };
      targets.set(url, target);
    }
    return target;
  };

  // A keep-alive socket the subgraph closed while idle can still fail the next request sent on
  // it before the subgraph read it: a query is sent once more (a fresh socket is opened for it).
  // Mutations are not resent.
  const send = (url: Target, init: MinimalRequestInit, body: string): Promise<RawResponse> =>
    sendOnce(url, init, body).catch((error: unknown) => {
      if (isDroppedConnection(error) && isQuery(body)) return sendOnce(url, init, body);
      throw error;
    });

  const sendOnce = async (
    url: Target,
    init: MinimalRequestInit,
    body: string,
  ): Promise<RawResponse> => {
    const response = await agent.request({
      origin: url.origin,
      path: url.path,
      method: (init.method ?? "POST") as Dispatcher.HttpMethod,
      headers: init.headers,
      body,
    });
    return {
      status: response.statusCode,
      headers: response.headers,
      text: await response.body.text(),
    };
  };

  const toResponse = (url: string, raw: RawResponse): MinimalResponse => ({
    ok: raw.status >= 200 && raw.status < 300,
    status: raw.status,
    statusText: STATUS_CODES[raw.status] ?? "",
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
    const target = targetOf(url);
    if (!dedupe || !isQuery(body)) return toResponse(url, await send(target, init, body));
    const headerKey = Object.entries(init.headers ?? {})
      .filter(([name]) => !NOT_IN_DEDUPE_KEY.has(name.toLowerCase()))
      .map(([name, value]) => `${name.toLowerCase()}:${value}`)
      .sort()
      .join("\n");
    const key = `${url}\n${headerKey}\n${body}`;
    let pending = inflight.get(key);
    if (!pending) {
      pending = send(target, init, body).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    return toResponse(url, await pending);
  };

  return Object.assign(fetcher, {
    destroy() {
      void agent.destroy();
    },
  });
}
