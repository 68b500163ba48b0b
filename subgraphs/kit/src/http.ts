/**
 * The one node:http adapter over @apollo/server 5's `executeHTTPGraphQLRequest` (Apollo Server 5
 * has no adapter for plain node:http in core), used by every subgraph (./server.ts `listen`) and
 * by the gateway. Bodies are read up to a limit and parsed as JSON when the content type says so;
 * a body that is too large, empty or malformed is an {@link HttpError} the caller answers with
 * {@link sendGraphQLError} (413 PAYLOAD_TOO_LARGE, 400 BAD_REQUEST): never a 500.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ApolloServer, type BaseContext, HeaderMap } from "@apollo/server";

/** A failure before Apollo Server sees the request: an HTTP status and a GraphQL error code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The request body as text; over `maxBytes` (declared or streamed) is a 413. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new HttpError(413, "PAYLOAD_TOO_LARGE", `request body exceeds ${maxBytes} bytes`);
  if (Number(req.headers["content-length"] ?? 0) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The request's headers as Apollo's HeaderMap (repeated headers joined with ", "). */
export function headerMapOf(req: IncomingMessage): HeaderMap {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** A GraphQL-shaped error body, for failures before Apollo Server sees the request. */
export function sendGraphQLError(
  res: ServerResponse,
  error: HttpError,
  headers: Record<string, string> = {},
): void {
  sendJson(
    res,
    error.status,
    { errors: [{ message: error.message, extensions: { code: error.code } }] },
    headers,
  );
}

async function parseBody(
  req: IncomingMessage,
  headers: HeaderMap,
  maxBytes: number,
): Promise<unknown> {
  if (req.method !== "POST") return undefined;
  const raw = await readBody(req, maxBytes);
  if (!(headers.get("content-type") ?? "").includes("json")) return raw;
  if (raw.trim() === "") {
    throw new HttpError(400, "BAD_REQUEST", "request body is empty; send a JSON object");
  }
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new HttpError(
      400,
      "BAD_REQUEST",
      `request body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

/**
 * Runs one HTTP request through Apollo Server and writes the response (complete or incremental).
 * `context` receives the request's headers. Throws {@link HttpError} for a body it cannot read.
 */
export async function handleGraphQL<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
  context: (headers: HeaderMap) => Promise<TContext>,
  options: { maxBodyBytes: number; extraHeaders?: Record<string, string> },
): Promise<void> {
  const headers = headerMapOf(req);
  const url = new URL(req.url ?? "/", "http://localhost");
  const body = await parseBody(req, headers, options.maxBodyBytes);
  const response = await server.executeHTTPGraphQLRequest({
    httpGraphQLRequest: {
      method: (req.method ?? "GET").toUpperCase(),
      headers,
      search: url.search,
      body,
    },
    context: () => context(headers),
  });

  const outHeaders: Record<string, string> = { ...options.extraHeaders };
  for (const [name, value] of response.headers) outHeaders[name] = value;
  if (response.body.kind === "complete") {
    outHeaders["content-length"] = String(Buffer.byteLength(response.body.string));
    res.writeHead(response.status ?? 200, outHeaders);
    res.end(response.body.string);
    return;
  }
  res.writeHead(response.status ?? 200, outHeaders);
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}
