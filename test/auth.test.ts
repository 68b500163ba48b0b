/**
 * Authentication end to end, in production mode (a JWT secret and API keys configured): the four
 * subgraphs and the gateway over one real test database, HTTP and graphql-ws on the gateway's
 * port, and each subgraph's own port called directly.
 *
 * - every bad credential (none, expired, not yet valid, wrong audience, wrong issuer, alg none,
 *   tampered, revoked API key) is 401 over HTTP and 4401 over WebSocket, with no subgraph called
 *   and no row changed;
 * - a good token's `sub` acts, whatever x-pshub-principal a client claims (header or param);
 * - a subgraph called directly without the gateway's signed principal, or with a forged one,
 *   answers 401 and runs nothing.
 */
import { randomBytes } from "node:crypto";
import { createApiKey, revokeApiKey } from "@pshub/db";
import { apiKey, auditLog, domainEvent, invoice, legalEntity } from "@pshub/db/schema";
import { buildCustomerTree, type CustomerTree } from "@pshub/db/testing";
import { createPrincipalSigner, PRINCIPAL_TOKEN_HEADER } from "@pshub/subgraph-kit";
import { count, eq } from "drizzle-orm";
import { createClient } from "graphql-ws";
import { SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Stack, startStack } from "./support/stack.ts";

const SECRET = randomBytes(32).toString("base64url");
const key = new TextEncoder().encode(SECRET);

interface TokenOptions {
  sub?: string;
  roles?: string[];
  iss?: string;
  aud?: string;
  exp?: number | string | null;
  nbf?: number | string;
  secret?: Uint8Array;
}

async function token(options: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT({ roles: options.roles ?? ["finance"] })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(options.sub ?? "finance@firm.test")
    .setIssuer(options.iss ?? "pshub")
    .setAudience(options.aud ?? "pshub")
    .setIssuedAt();
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? "5m");
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(options.secret ?? key);
}

let stack: Stack;
let tree: CustomerTree;
let draftId: string;

const ISSUE = "mutation($id: ID!) { issueInvoice(invoiceId: $id) { status } }";

/** Each refused credential, as the Authorization (or x-api-key) header it is sent in. */
async function badCredentials(): Promise<Record<string, Record<string, string>>> {
  const good = await token();
  const [header, payload] = good.split(".");
  const forgedPayload = Buffer.from(
    JSON.stringify({
      ...JSON.parse(Buffer.from(payload ?? "", "base64url").toString()),
      roles: ["admin"],
    }),
  ).toString("base64url");
  return {
    unauthenticated: {},
    "unauthenticated with a claimed principal": { "x-pshub-principal": "ceo@firm.test" },
    expired: {
      authorization: `Bearer ${await token({ exp: Math.floor(Date.now() / 1000) - 60 })}`,
    },
    "without exp": { authorization: `Bearer ${await token({ exp: null })}` },
    "not yet valid": { authorization: `Bearer ${await token({ nbf: "10m" })}` },
    "wrong audience": { authorization: `Bearer ${await token({ aud: "another-api" })}` },
    "wrong issuer": { authorization: `Bearer ${await token({ iss: "https://evil.example" })}` },
    "alg none": {
      authorization: `Bearer ${new UnsecuredJWT({ roles: ["admin"] })
        .setSubject("admin@firm.test")
        .setIssuer("pshub")
        .setAudience("pshub")
        .setExpirationTime("5m")
        .encode()}`,
    },
    "tampered payload": {
      authorization: `Bearer ${header}.${forgedPayload}.${good.split(".")[2]}`,
    },
    "signed with another secret": {
      authorization: `Bearer ${await token({ secret: new TextEncoder().encode("x".repeat(40)) })}`,
    },
    "unknown API key": { "x-api-key": `pshub_${randomBytes(32).toString("base64url")}` },
    "not a bearer": { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` },
  };
}

const subgraphRequests = () =>
  Object.values(stack.subgraphs).reduce((sum, s) => sum + s.stats().requests, 0);

async function rowCounts() {
  const [audit] = await stack.db.select({ n: count() }).from(auditLog);
  const [events] = await stack.db.select({ n: count() }).from(domainEvent);
  const [row] = await stack.db
    .select({ status: invoice.status })
    .from(invoice)
    .where(eq(invoice.id, draftId));
  return { audit: audit?.n, events: events?.n, status: row?.status };
}

beforeAll(async () => {
  stack = await startStack({
    subscriptions: true,
    gateway: { auth: { jwtSecret: SECRET, apiKeys: true, apiKeyCacheMs: 0 } },
  });
  tree = await buildCustomerTree(stack.db, { invoices: 3 });
  draftId = tree.invoiceIds[0] ?? "";
  await stack.db
    .update(invoice)
    .set({ status: "DRAFT", number: null, amountPaid: "0", issuedOn: null, dueOn: null })
    .where(eq(invoice.id, draftId));
});

afterAll(async () => {
  await stack?.stop();
});

describe("HTTP", () => {
  it("refuses every bad credential with 401 UNAUTHENTICATED: no subgraph called, no row changed", async () => {
    const before = await rowCounts();
    const requestsBefore = subgraphRequests();
    for (const [name, headers] of Object.entries(await badCredentials())) {
      for (const query of ["{ invoices(first: 5) { totalCount } }", ISSUE]) {
        const response = await stack.query(query, { id: draftId }, headers);
        expect(response.status, name).toBe(401);
        expect(response.headers.get("www-authenticate"), name).toBe("Bearer");
        expect(response.json.errors?.[0]?.extensions?.code, name).toBe("UNAUTHENTICATED");
        expect(response.json.data, name).toBeUndefined();
      }
    }
    expect(subgraphRequests()).toBe(requestsBefore);
    expect(await rowCounts()).toEqual(before);
    expect(before.status).toBe("DRAFT");
  });

  it("a good token acts as its subject, whatever x-pshub-principal says", async () => {
    const response = await stack.query(
      ISSUE,
      { id: draftId },
      { authorization: `Bearer ${await token()}`, "x-pshub-principal": "ceo@firm.test" },
    );
    expect(response.status).toBe(200);
    expect(response.json.data.issueInvoice.status).toBe("ISSUED");
    const [event] = await stack.db
      .select({ actor: domainEvent.actor })
      .from(domainEvent)
      .where(eq(domainEvent.entityId, draftId));
    expect(event?.actor).toBe("finance@firm.test");
  });

  it("accepts a live API key (x-api-key or Bearer), records its use, refuses it once revoked", async () => {
    // A key scoped to the tree's legal entity, with a role that may read invoices.
    const [entity] = await stack.db
      .select({ code: legalEntity.code })
      .from(legalEntity)
      .where(eq(legalEntity.id, tree.legalEntityId));
    const { key: secret } = await createApiKey(stack.db, {
      name: "netsuite-sync",
      roles: ["finance"],
      legalEntities: [entity!.code],
    });
    const query = "{ invoices(first: 1) { totalCount } }";
    const viaHeader = await stack.query(query, {}, { "x-api-key": secret });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.json.data.invoices.totalCount).toBeGreaterThan(0);
    const viaBearer = await stack.query(query, {}, { authorization: `Bearer ${secret}` });
    expect(viaBearer.status).toBe(200);
    await expect
      .poll(async () => {
        const [row] = await stack.db
          .select({ lastUsedAt: apiKey.lastUsedAt })
          .from(apiKey)
          .where(eq(apiKey.name, "netsuite-sync"));
        return row?.lastUsedAt instanceof Date;
      })
      .toBe(true);
    // Only the hash is stored.
    const [stored] = await stack.db.select().from(apiKey).where(eq(apiKey.name, "netsuite-sync"));
    expect(JSON.stringify(stored)).not.toContain(secret.slice(12));

    expect(await revokeApiKey(stack.db, "netsuite-sync")).toBe(true);
    const before = subgraphRequests();
    const revoked = await stack.query(query, {}, { "x-api-key": secret });
    expect(revoked.status).toBe(401);
    expect(revoked.json.errors[0].message).toContain("revoked");
    expect(subgraphRequests()).toBe(before);
  });
});

describe("rate limit", () => {
  it("answers 429 with Retry-After once a principal spends its budget; others are not affected", async () => {
    const limited = await startStack({
      gateway: { auth: { jwtSecret: SECRET }, rateLimit: { points: 3, windowSeconds: 60 } },
    });
    try {
      const query = "{ invoices(first: 1) { totalCount } }";
      const alice = { authorization: `Bearer ${await token({ sub: "alice@firm.test" })}` };
      for (let i = 0; i < 3; i++) expect((await limited.query(query, {}, alice)).status).toBe(200);
      const before = Object.values(limited.subgraphs).reduce((n, s) => n + s.stats().requests, 0);
      const refused = await limited.query(query, {}, alice);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(refused.json.errors[0].extensions.code).toBe("RATE_LIMITED");
      expect(Object.values(limited.subgraphs).reduce((n, s) => n + s.stats().requests, 0)).toBe(
        before,
      );
      const bob = { authorization: `Bearer ${await token({ sub: "bob@firm.test" })}` };
      expect((await limited.query(query, {}, bob)).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});

describe("WebSocket", () => {
  const wsUrl = () => stack.url.replace(/^http/, "ws");

  /**
   * Speaks graphql-transport-ws by hand: connection_init with `connectionParams`, then a
   * subscribe right away; resolves with the close code and every message the server sent.
   */
  function attempt(connectionParams: Record<string, unknown>) {
    return new Promise<{ code: number; messages: { type: string }[] }>((resolve, reject) => {
      const messages: { type: string }[] = [];
      const socket = new WebSocket(wsUrl(), "graphql-transport-ws");
      socket.on("open", () => {
        socket.send(JSON.stringify({ type: "connection_init", payload: connectionParams }));
        socket.send(
          JSON.stringify({
            id: "1",
            type: "subscribe",
            payload: { query: "subscription { invoiceEvents { eventId } }" },
          }),
        );
      });
      socket.on("message", (data) => messages.push(JSON.parse(String(data))));
      socket.on("close", (code) => resolve({ code, messages }));
      socket.on("error", reject);
    });
  }

  it("closes the connection with 4401 for every bad credential; nothing is subscribed", async () => {
    for (const [name, headers] of Object.entries(await badCredentials())) {
      // Connection params as the IDE sends them: the headers editor's names and values.
      const outcome = await attempt(headers);
      expect(outcome.code, name).toBe(4401);
      expect(outcome.messages, name).toEqual([]);
    }
  });

  it("a spoofed x-pshub-principal param is ignored: the token's subject is the principal", async () => {
    const seen: string[] = [];
    const original = stack.gateway.execute;
    stack.gateway.execute = (request) => {
      seen.push(request.principal?.id ?? "(none)");
      return original(request);
    };
    const client = createClient({
      url: wsUrl(),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: {
        Authorization: `Bearer ${await token({ sub: "viewer@firm.test", roles: ["analyst"] })}`,
        "x-pshub-principal": "ceo@firm.test",
      },
    });
    try {
      const first = new Promise<unknown>((resolve, reject) => {
        client.subscribe(
          {
            query: `subscription { invoiceStatusChanged(invoiceId: "${tree.invoiceIds[1]}", afterEventId: "0") { status invoice { number } } }`,
          },
          { next: resolve, error: reject, complete: () => {} },
        );
      });
      // afterEventId 0: the event arrives however late the subscription is registered.
      const response = await stack.query(
        'mutation($id: ID!) { disputeInvoice(invoiceId: $id, reason: "wrong rate") { invoice { status } } }',
        { id: tree.invoiceIds[1] },
        { authorization: `Bearer ${await token()}` },
      );
      expect(response.json.data?.disputeInvoice?.invoice?.status).toBe("DISPUTED");
      const result = (await first) as {
        data: { invoiceStatusChanged: { invoice: { number: string } } };
      };
      expect(result.data.invoiceStatusChanged.invoice.number).toBeTruthy();
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen)).toEqual(new Set(["viewer@firm.test"]));
    } finally {
      stack.gateway.execute = original;
      await client.dispose();
    }
  });
});

describe("subgraphs trust only the gateway", () => {
  const direct = (url: string, headers: Record<string, string>, query: string) =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ query, variables: { id: draftId } }),
    });

  it("each subgraph port refuses a missing or forged principal with 401 and runs nothing", async () => {
    const forgedSigner = createPrincipalSigner(randomBytes(32).toString("base64url"));
    const forged = await forgedSigner({ id: "admin@firm.test", roles: ["admin"], method: "jwt" });
    const expired = await new SignJWT({ roles: ["admin"], method: "jwt" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("admin@firm.test")
      .setIssuer("pshub-gateway")
      .setAudience("pshub-subgraph")
      .setExpirationTime(Math.floor(Date.now() / 1000) - 120)
      .sign(new TextEncoder().encode(stack.subgraphSecret));
    const attempts: Record<string, Record<string, string>> = {
      missing: {},
      "plain principal header": {
        "x-pshub-principal": "admin@firm.test",
        "x-pshub-roles": "admin",
      },
      "signed with another key": { [PRINCIPAL_TOKEN_HEADER]: forged },
      "expired gateway token": { [PRINCIPAL_TOKEN_HEADER]: expired },
      garbage: { [PRINCIPAL_TOKEN_HEADER]: "not-a-token" },
    };
    const before = await rowCounts();
    for (const [name, subgraph] of Object.entries(stack.subgraphs)) {
      for (const [attempt, headers] of Object.entries(attempts)) {
        for (const query of ["{ _service { sdl } }", "{ __typename }"]) {
          const response = await direct(subgraph.url, headers, query);
          expect(response.status, `${name}: ${attempt}`).toBe(401);
          const json = (await response.json()) as { errors: { extensions: { code: string } }[] };
          expect(json.errors[0]?.extensions.code, `${name}: ${attempt}`).toBe("UNAUTHENTICATED");
        }
      }
      // A mutation straight to its subgraph, forged: refused, nothing changed.
      const voided = await direct(
        subgraph.url,
        { [PRINCIPAL_TOKEN_HEADER]: forged },
        'mutation($id: ID!) { voidInvoice(invoiceId: $id, reason: "forged") { status } }',
      );
      expect(voided.status).toBe(401);
    }
    expect(await rowCounts()).toEqual(before);
    for (const subgraph of Object.values(stack.subgraphs))
      expect(subgraph.stats().unauthenticated).toBeGreaterThanOrEqual(11);

    // The gateway's own signature is accepted (the same port, a correctly signed principal).
    const signer = createPrincipalSigner(stack.subgraphSecret);
    const good = await direct(
      stack.subgraphs.customer.url,
      { [PRINCIPAL_TOKEN_HEADER]: await signer({ id: "x", roles: ["analyst"], method: "jwt" }) },
      "{ __typename }",
    );
    expect(good.status).toBe(200);
  });
});
