/**
 * The trusted-documents decision without a server: ids resolve in both modes; enforced, only
 * registered text or an ad-hoc role runs; off, an unknown APQ hash goes on to Apollo's own cache.
 */
import type { Principal } from "@pshub/db";
import { describe, expect, it } from "vitest";
import {
  buildManifest,
  createTrustedDocuments,
  documentHash,
  readManifest,
  resolveHttpDocument,
} from "./trusted-documents.ts";

const body = "query One { invoices(first: 1) { totalCount } }";
const manifest = {
  format: "apollo-persisted-query-manifest" as const,
  version: 1 as const,
  operations: [{ id: documentHash(body), name: "One", type: "query" as const, body }],
};
const who = (...roles: string[]): Principal => ({ id: "p", roles, method: "jwt" });

describe("trusted documents", () => {
  it("the committed manifest is what the generator writes (also a drift gate)", () => {
    expect(readManifest()).toEqual(buildManifest());
  });

  it("enforced: ids and registered text run for anyone; other text only for ad-hoc roles", () => {
    const trusted = createTrustedDocuments({ mode: "enforce", manifest });
    expect(trusted.decide({ documentId: `sha256:${documentHash(body)}` }, who("sales"))).toEqual({
      ok: true,
      query: body,
      fromId: true,
    });
    expect(trusted.decide({ query: body }, who("sales")).ok).toBe(true);
    expect(trusted.decide({ query: `${body} ` }, who("sales"))).toMatchObject({
      ok: false,
      code: "TRUSTED_DOCUMENT_REQUIRED",
    });
    expect(trusted.decide({ query: "{ x }" }, who("analyst")).ok).toBe(true);
    expect(trusted.decide({ documentId: "f".repeat(64) }, who("admin"))).toMatchObject({
      ok: false,
      code: "PERSISTED_QUERY_NOT_FOUND",
    });
  });

  it("off: ids resolve, any text runs, an unknown APQ hash is left to Apollo", () => {
    const trusted = createTrustedDocuments({ mode: "off", manifest });
    expect(trusted.decide({ query: "{ x }" }, who())).toEqual({ ok: true, fromId: false });
    const apq = { extensions: { persistedQuery: { version: 1, sha256Hash: "a".repeat(64) } } };
    expect(trusted.decide(apq, who())).toEqual({ ok: true, fromId: false });
    expect(trusted.decide({ documentId: "a".repeat(64) }, who()).ok).toBe(false);
  });

  it("rewrites a POST body and a GET URL to carry the document's text", () => {
    const trusted = createTrustedDocuments({ mode: "enforce", manifest });
    const url = new URL("http://x/graphql");
    const post = resolveHttpDocument(trusted, who("sales"), {
      method: "POST",
      url,
      body: {
        documentId: documentHash(body),
        variables: { a: 1 },
        extensions: { persistedQuery: { version: 1, sha256Hash: documentHash(body) }, trace: true },
      },
    });
    expect(post.body).toEqual({ query: body, variables: { a: 1 }, extensions: { trace: true } });
    const get = resolveHttpDocument(trusted, who("sales"), {
      method: "GET",
      url: new URL(`http://x/graphql?documentId=${documentHash(body)}&variables=%7B%7D`),
      body: undefined,
    });
    expect(get.url.searchParams.get("query")).toBe(body);
    expect(get.url.searchParams.has("documentId")).toBe(false);
    expect(() =>
      resolveHttpDocument(trusted, who("sales"), { method: "POST", url, body: { query: "{ x }" } }),
    ).toThrow(/trusted documents/);
  });
});
