/**
 * A small node:http adapter over @apollo/server 5's `executeHTTPGraphQLRequest` (Apollo Server
 * has no built-in adapter for plain node:http). Bodies are read up to a limit and parsed as JSON
 * when the content type says so; anything malformed is a 400 with a coded GraphQL error.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ApolloServer, type BaseContext, HeaderMap } from "@apollo/server";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes) {
    throw new HttpError(413, "PAYLOAD_TOO_LARGE", `request body exceeds ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      throw new HttpError(413, "PAYLOAD_TOO_LARGE", `request body exceeds ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
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

/**
 * Runs one HTTP request through Apollo Server and writes the response (complete or incremental).
 */
export async function handleGraphQL<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
  context: () => Promise<TContext>,
  options: { maxBodyBytes: number; extraHeaders?: Record<string, string> },
): Promise<void> {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  let body: unknown;
  if (req.method === "POST") {
    const raw = await readBody(req, options.maxBodyBytes);
    const contentType = headers.get("content-type") ?? "";
    if (contentType.includes("json")) {
      try {
        body = raw.length ? JSON.parse(raw) : undefined;
      } catch {
        throw new HttpError(400, "BAD_REQUEST", "request body is not valid JSON");
      }
    } else {
      body = raw;
    }
  }

  const response = await server.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? "GET", headers, search: url.search, body },
    context,
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
