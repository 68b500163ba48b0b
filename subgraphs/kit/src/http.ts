/**
 * The one node:http adapter over @apollo/server 5's `executeHTTPGraphQLRequest` (Apollo Server 5
 * has no adapter for plain node:http in core), used by every subgraph (./server.ts `listen`) and
 * by the gateway. Bodies are read up to a limit and parsed as JSON when the content type says so;
 * a body that is too large, empty or malformed is an {@link HttpError} the caller answers with
 * {@link sendGraphQLError} (413 PAYLOAD_TOO_LARGE, 400 BAD_REQUEST): never a 500.
 *
 * `checkQuery` runs the document limits (./limits.ts) before Apollo parses or validates; the
 * gateway's status codes follow the GraphQL-over-HTTP spec, decided in ONE place
 * ({@link graphQLStatus}).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ApolloServer, type BaseContext, HeaderMap } from "@apollo/server";
import type { GraphQLError } from "graphql";

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
  // Only a JSON media type (its essence, parameters aside): `text/plain; x=json` is a "simple"
  // request a browser sends cross-site without a preflight, and must never run an operation.
  const mediaType = (headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json" && !mediaType?.endsWith("+json")) return raw;
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
 * The HTTP status of a GraphQL response, as the GraphQL-over-HTTP spec says it. A request that is
 * well-formed HTTP but whose document, operation or variables GraphQL refuses (a parse or
 * validation failure, a variable that does not coerce — BAD_USER_INPUT —, a query limit) is a
 * "GraphQL request error":
 * - answered as `application/json` (the legacy type: the request accepted it, or accepted
 *   anything, or sent no Accept), it is 200 — the errors are in the body;
 * - answered as `application/graphql-response+json`, it keeps its 4xx (400).
 * Errors about the HTTP request itself keep their status whatever the type: BAD_REQUEST (invalid
 * JSON, no query, variables not an object) 400, 401, 405 (a mutation over GET), 413, …
 * `extensions.code` is the same either way.
 */
export function graphQLStatus(
  status: number,
  contentType: string | undefined,
  body: string | undefined,
): number {
  if (status !== 400 || !contentType?.startsWith("application/json") || body === undefined) {
    return status;
  }
  let errors: unknown;
  try {
    errors = (JSON.parse(body) as { errors?: unknown }).errors;
  } catch {
    return status;
  }
  if (!Array.isArray(errors) || errors.length === 0) return status;
  const requestErrors = errors.every((error: { extensions?: { code?: unknown } } | null) => {
    const code = error?.extensions?.code;
    return typeof code === "string" && code !== "BAD_REQUEST";
  });
  return requestErrors ? 200 : status;
}

/** Where a request's GraphQL document is: the JSON body's `query`, or the URL's `?query=`. */
function querySourceOf(method: string, body: unknown, url: URL): string | undefined {
  if (method === "GET") return url.searchParams.get("query") ?? undefined;
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const query = (body as { query?: unknown }).query;
    return typeof query === "string" ? query : undefined;
  }
  return undefined;
}

export interface HandleGraphQLOptions {
  maxBodyBytes: number;
  extraHeaders?: Record<string, string>;
  /**
   * Checks the document's source before Apollo parses or validates it (the document limits); an
   * error it returns is the response, formatted by Apollo as any request error.
   */
  checkQuery?: (source: string) => GraphQLError | undefined;
  /**
   * Status codes as the GraphQL-over-HTTP spec says ({@link graphQLStatus}); the gateway sets
   * it. Subgraphs keep Apollo's 400s: the gateway, their one client, sends no Accept header and
   * reads a 400 as a failed fetch.
   */
  specStatus?: boolean;
  /**
   * Rewrites the request before Apollo sees it (the gateway's trusted documents put a registered
   * document's text in place of its id); may throw {@link HttpError} to refuse it.
   */
  rewrite?: (request: { method: string; body: unknown; url: URL }) => { body: unknown; url: URL };
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
  options: HandleGraphQLOptions,
): Promise<void> {
  const headers = headerMapOf(req);
  const method = (req.method ?? "GET").toUpperCase();
  const parsed = {
    method,
    url: new URL(req.url ?? "/", "http://localhost"),
    body: await parseBody(req, headers, options.maxBodyBytes),
  };
  const { body, url } = options.rewrite ? options.rewrite(parsed) : parsed;
  const { checkQuery } = options;
  const source = checkQuery ? querySourceOf(method, body, url) : undefined;
  const response = await server.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method, headers, search: url.search, body },
    // Apollo builds the context after its own request checks and before it parses: a limit
    // error thrown here is answered like any request error (status, content type, format), and
    // the document is never validated.
    context: async () => {
      const overLimit = source === undefined ? undefined : checkQuery?.(source);
      if (overLimit) throw overLimit;
      return context(headers);
    },
  });

  const outHeaders: Record<string, string> = { ...options.extraHeaders };
  for (const [name, value] of response.headers) outHeaders[name] = value;
  if (response.body.kind === "complete") {
    outHeaders["content-length"] = String(Buffer.byteLength(response.body.string));
    const status = options.specStatus
      ? graphQLStatus(
          response.status ?? 200,
          response.headers.get("content-type"),
          response.body.string,
        )
      : (response.status ?? 200);
    res.writeHead(status, outHeaders);
    res.end(response.body.string);
    return;
  }
  res.writeHead(response.status ?? 200, outHeaders);
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}
