/**
 * The HTTP client the gateway calls subgraphs with: node:http over a keep-alive agent. It
 * implements the small part of `fetch` that @apollo/gateway's RemoteGraphQLDataSource uses
 * (POST a string body; read status, headers and a JSON or text body), without the per-request
 * cost of WHATWG streams (Node's fetch) or an HTTP cache layer (make-fetch-happen, the default).
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

export function createSubgraphFetcher(
  options: { maxSockets?: number; timeoutMs?: number } = {},
): SubgraphFetcher & {
  destroy(): void;
} {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 256,
    maxFreeSockets: 64,
  };
  const httpAgent = new HttpAgent(agentOptions);
  const httpsAgent = new HttpsAgent(agentOptions);
  const timeoutMs = options.timeoutMs ?? 30_000;

  const fetcher = (url: string, init: MinimalRequestInit = {}) =>
    new Promise<MinimalResponse>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === "https:";
      const body = init.body ?? "";
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
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const status = res.statusCode ?? 0;
            resolve({
              ok: status >= 200 && status < 300,
              status,
              statusText: res.statusMessage ?? "",
              url,
              headers: {
                get: (name) => {
                  const value = res.headers[name.toLowerCase()];
                  return value === undefined
                    ? null
                    : Array.isArray(value)
                      ? value.join(", ")
                      : value;
                },
              },
              text: async () => text,
              json: async () => JSON.parse(text),
            });
          });
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`subgraph request to ${url} timed out after ${timeoutMs} ms`)),
      );
      req.on("error", reject);
      req.end(body);
    });

  return Object.assign(fetcher, {
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  });
}
