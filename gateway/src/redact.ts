/**
 * What an error may show a client: never an internal address (a subgraph's URL, host:port, the
 * body a subgraph answered with) and never a huge input echoed back (a 900 KB id used to come
 * back whole in "invalid id …"). Applied to every error the gateway sends, over HTTP and
 * WebSocket.
 */
import type { GraphQLFormattedError } from "graphql";

/** Longest message or extension string sent; the rest is replaced by a count. */
const MAX_ERROR_TEXT = 500;

const URL_PATTERN = /\b(?:https?|wss?|postgres(?:ql)?):\/\/[^\s"'<>)]+/gi;
const ADDRESS_PATTERN =
  /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b|\[[0-9a-f:]+\](?::\d{1,5})?|\blocalhost:\d{1,5}\b/gi;
/** Extensions that carry a subgraph's HTTP exchange or server internals. */
const DROPPED_EXTENSIONS = new Set(["response", "exception", "stacktrace", "request"]);

function redactText(text: string): string {
  const scrubbed = text
    .replace(URL_PATTERN, "[internal URL]")
    .replace(ADDRESS_PATTERN, "[internal address]");
  if (scrubbed.length <= MAX_ERROR_TEXT) return scrubbed;
  return `${scrubbed.slice(0, MAX_ERROR_TEXT)}… (${scrubbed.length - MAX_ERROR_TEXT} more characters)`;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === "string") return redactText(value);
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    const items = value.slice(0, 20).map((item) => redactValue(item, depth + 1));
    return value.length > 20 ? [...items, `… (${value.length - 20} more)`] : items;
  }
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !DROPPED_EXTENSIONS.has(key))
      .map(([key, item]) => [key, redactValue(item, depth + 1)]),
  );
}

export function redactFormattedError(error: GraphQLFormattedError): GraphQLFormattedError {
  return {
    ...error,
    message: redactText(error.message),
    ...(error.extensions
      ? { extensions: redactValue(error.extensions, 0) as Record<string, unknown> }
      : {}),
  };
}
