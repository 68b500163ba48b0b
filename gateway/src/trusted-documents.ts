/**
 * Trusted documents (persisted operations, issue 9 item 5): the operations the repo's clients
 * send — the IDE's example tabs and test/operations/**\/*.graphql — are registered in a committed
 * manifest, gateway/trusted-documents.json, in Apollo's persisted query manifest format
 * (`{ format: "apollo-persisted-query-manifest", version: 1, operations: [{ id, name, type, body }] }`,
 * id = sha256 hex of body). `npm run trusted-documents` writes it; the drift gate fails when it is
 * stale.
 *
 * A request names a registered document by
 * - `documentId` (the GraphQL-over-HTTP persisted-documents convention), `sha256:<hex>` or `<hex>`,
 *   in the JSON body or the URL; or
 * - `extensions.persistedQuery.sha256Hash` (Apollo's APQ shape) without a query.
 * With GATEWAY_TRUSTED_DOCUMENTS=enforce, a request with query text runs only when its text is
 * registered (its sha256 is an id) or the principal holds an ad-hoc role (GATEWAY_ADHOC_ROLES,
 * default admin and analyst: the IDE keeps working for them); anything else is refused with
 * TRUSTED_DOCUMENT_REQUIRED before it is parsed. `off` (the default) still serves registered ids.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Principal } from "@pshub/db";
import { HttpError } from "@pshub/subgraph-kit/http";
import { createRequest, formatDocument, stringifyDocument } from "@urql/core";
import { type DocumentNode, getOperationAST, Kind, parse } from "graphql";
import { z } from "zod";
import { REPO_ROOT } from "./compose.ts";
import * as consoleOperations from "./console/__generated__/operations.ts";
import { EXAMPLE_TABS } from "./ide/examples.ts";

export const TRUSTED_DOCUMENTS_PATH = join(REPO_ROOT, "gateway", "trusted-documents.json");
export const TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED";
export const PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND";

export type TrustedDocumentsMode = "off" | "enforce";

const manifestSchema = z.object({
  format: z.literal("apollo-persisted-query-manifest"),
  version: z.literal(1),
  operations: z.array(
    z.object({
      id: z.string().regex(/^[0-9a-f]{64}$/),
      name: z.string(),
      type: z.enum(["query", "mutation", "subscription"]),
      body: z.string().min(1),
    }),
  ),
});
export type TrustedManifest = z.infer<typeof manifestSchema>;

export const documentHash = (body: string) => createHash("sha256").update(body).digest("hex");

/**
 * The ops console's operations (console/operations, typed by codegen) as its urql client sends
 * them: urql's own functions print each document the way its exchanges do — queries and
 * mutations with the `__typename`s the cacheExchange adds (formatDocument), subscriptions as
 * written — so the registered text is byte for byte what the browser posts.
 */
export function consoleDocuments(): string[] {
  const documents = Object.values(consoleOperations).filter(
    (value): value is DocumentNode =>
      typeof value === "object" &&
      value !== null &&
      (value as DocumentNode).kind === Kind.DOCUMENT &&
      // Fragments are exported on their own too; the client sends only operations.
      (value as DocumentNode).definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION),
  );
  // By operation name: a module namespace's key order differs between loaders (tsx, vitest).
  const named = documents.map((document) => ({
    document,
    operation: getOperationAST(document),
  }));
  named.sort((a, b) =>
    (a.operation?.name?.value ?? "").localeCompare(b.operation?.name?.value ?? ""),
  );
  return named.map(({ document, operation }) => {
    const request = createRequest(document, {});
    const sent =
      operation?.operation === "subscription" ? request.query : formatDocument(request.query);
    return stringifyDocument(sent);
  });
}

/**
 * The manifest of the repo's own operations: the IDE's tabs, test/operations by path, then the
 * ops console's.
 */
export function buildManifest(root = REPO_ROOT): TrustedManifest {
  const bodies: string[] = EXAMPLE_TABS.map((tab) => tab.query);
  const folder = join(root, "test", "operations");
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".graphql")) files.push(path);
    }
  };
  walk(folder);
  bodies.push(...files.map((file) => readFileSync(file, "utf8")));
  bodies.push(...consoleDocuments());
  const seen = new Set<string>();
  const operations: TrustedManifest["operations"] = [];
  for (const body of bodies) {
    const id = documentHash(body);
    if (seen.has(id)) continue;
    seen.add(id);
    const operation = getOperationAST(parse(body));
    if (!operation)
      throw new Error(`a trusted document must hold one operation: ${body.slice(0, 80)}`);
    operations.push({ id, name: operation.name?.value ?? "", type: operation.operation, body });
  }
  return { format: "apollo-persisted-query-manifest", version: 1, operations };
}

export function readManifest(path = TRUSTED_DOCUMENTS_PATH): TrustedManifest {
  return manifestSchema.parse(JSON.parse(readFileSync(path, "utf8")));
}

export interface TrustedDocumentsOptions {
  mode: TrustedDocumentsMode;
  /** Roles that may send query text that is not registered (default admin, analyst). */
  adhocRoles?: readonly string[];
  manifest?: TrustedManifest;
}

/** A GraphQL request's parts that name its document (HTTP body or URL, or a subscribe payload). */
export interface DocumentRequest {
  query?: unknown;
  documentId?: unknown;
  extensions?: unknown;
}

export type DocumentDecision =
  | { ok: true; query?: string; fromId: boolean }
  | { ok: false; code: string; message: string };

export interface TrustedDocuments {
  mode: TrustedDocumentsMode;
  size: number;
  /** Which document a request runs, or why it may not. */
  decide(request: DocumentRequest, principal: Principal): DocumentDecision;
}

const idOf = (request: DocumentRequest): string | undefined => {
  if (typeof request.documentId === "string") return request.documentId.replace(/^sha256:/, "");
  const extensions = request.extensions as
    | { persistedQuery?: { sha256Hash?: unknown } }
    | undefined;
  const hash = extensions?.persistedQuery?.sha256Hash;
  return typeof hash === "string" ? hash : undefined;
};

export function createTrustedDocuments(options: TrustedDocumentsOptions): TrustedDocuments {
  const manifest = options.manifest ?? readManifest();
  const bodies = new Map(manifest.operations.map((op) => [op.id, op.body]));
  const adhoc = new Set(options.adhocRoles ?? ["admin", "analyst"]);
  const enforce = options.mode === "enforce";
  return {
    mode: options.mode,
    size: bodies.size,
    decide(request, principal) {
      const hasQuery = typeof request.query === "string" && request.query.length > 0;
      if (!hasQuery) {
        const id = idOf(request);
        if (id === undefined) return { ok: true, fromId: false };
        const body = bodies.get(id.toLowerCase());
        if (body) return { ok: true, query: body, fromId: true };
        // Off: an unknown APQ hash goes on to Apollo's own APQ cache; enforced: never.
        if (!enforce && typeof request.documentId !== "string") return { ok: true, fromId: false };
        return {
          ok: false,
          code: PERSISTED_QUERY_NOT_FOUND,
          message: `no trusted document has id ${id.slice(0, 80)}; ids are the sha256 of a document in gateway/trusted-documents.json`,
        };
      }
      if (!enforce) return { ok: true, fromId: false };
      if (principal.roles.some((role) => adhoc.has(role))) return { ok: true, fromId: false };
      if (bodies.has(documentHash(request.query as string))) return { ok: true, fromId: false };
      return {
        ok: false,
        code: TRUSTED_DOCUMENT_REQUIRED,
        message: `this gateway runs only trusted documents: send a registered document's documentId (gateway/trusted-documents.json); ad-hoc queries are for the roles ${[...adhoc].join(", ")}`,
      };
    },
  };
}

/**
 * The HTTP side: a request body (POST) or URL (GET) rewritten to carry the registered document's
 * text as `query`, or an HttpError (400) to answer with.
 */
export function resolveHttpDocument(
  trusted: TrustedDocuments,
  principal: Principal,
  request: { method: string; body: unknown; url: URL },
): { body: unknown; url: URL } {
  const isGet = request.method === "GET";
  const params = request.url.searchParams;
  let extensions: unknown;
  if (isGet) {
    try {
      extensions = params.has("extensions") ? JSON.parse(params.get("extensions")!) : undefined;
    } catch {
      extensions = undefined; // Apollo answers a malformed extensions parameter itself.
    }
  }
  const fields: DocumentRequest = isGet
    ? {
        query: params.get("query") ?? undefined,
        documentId: params.get("documentId") ?? undefined,
        extensions,
      }
    : request.body && typeof request.body === "object" && !Array.isArray(request.body)
      ? (request.body as DocumentRequest)
      : {};
  const decision = trusted.decide(fields, principal);
  if (!decision.ok) throw new HttpError(400, decision.code, decision.message);
  if (!decision.fromId || decision.query === undefined) return request;
  if (isGet) {
    const url = new URL(request.url);
    url.searchParams.set("query", decision.query);
    url.searchParams.delete("documentId");
    url.searchParams.delete("extensions");
    return { body: request.body, url };
  }
  const { documentId: _id, extensions: ext, ...rest } = request.body as Record<string, unknown>;
  const { persistedQuery: _pq, ...otherExtensions } = (ext ?? {}) as Record<string, unknown>;
  return {
    body: {
      ...rest,
      query: decision.query,
      ...(Object.keys(otherExtensions).length ? { extensions: otherExtensions } : {}),
    },
    url: request.url,
  };
}
