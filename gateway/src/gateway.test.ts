/**
 * The gateway on its own, over two tiny in-process subgraphs (no database): routing, header
 * forwarding, subgraph warnings, limits, bad HTTP input, health, the IDE routes and execute().
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { composeServices } from "@apollo/composition";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { handleGraphQL } from "@pshub/subgraph-kit/http";
import { parse } from "graphql";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type PshubGateway } from "./gateway.ts";

const customerSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Customer @key(fields: "id") { id: ID! name: String! parent: Customer }
  type Query { customer(id: ID!): Customer customers(first: Int): [Customer!]! }
`;
const invoiceSdl = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Customer @key(fields: "id") { id: ID! invoices: [Invoice!]! }
  type Invoice @key(fields: "id") { id: ID! number: String! customer: Customer! }
  type Query { invoices: [Invoice!]! }
`;

function composeToy(): string {
  const composed = composeServices([
    { name: "customer", url: "http://127.0.0.1:1/graphql", typeDefs: parse(customerSdl) },
    { name: "invoice", url: "http://127.0.0.1:1/graphql", typeDefs: parse(invoiceSdl) },
  ]);
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join("\n"));
  return composed.supergraphSdl;
}

interface Seen {
  headers: IncomingHttpHeaders[];
}

const customers = [
  { id: "c1", name: "Contoso UK", parentId: "c0" },
  { id: "c0", name: "Contoso Group", parentId: null },
];

async function startSubgraph(
  sdl: string,
  resolvers: object,
  seen: Seen,
): Promise<{ server: Server; url: string }> {
  const apollo = new ApolloServer<{ warnings: string[] }>({
    schema: buildSubgraphSchema({ typeDefs: parse(sdl), resolvers: resolvers as never }),
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      {
        async requestDidStart() {
          return {
            async willSendResponse({ response, contextValue }) {
              if (response.body.kind === "single" && contextValue.warnings.length) {
                response.body.singleResult.extensions = { warnings: contextValue.warnings };
              }
            },
          };
        },
      },
    ],
  });
  await apollo.start();
  const server = createServer((req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200).end("{}");
      return;
    }
    seen.headers.push(req.headers);
    void handleGraphQL(apollo, req, res, async () => ({ warnings: [] }), { maxBodyBytes: 100_000 });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.on("close", () => void apollo.stop());
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` };
}

describe("gateway over two subgraphs", () => {
  const seen: Seen = { headers: [] };
  let customerSubgraph: { server: Server; url: string };
  let invoiceSubgraph: { server: Server; url: string };
  let gw: PshubGateway;
  let url: string;
  let origin: string;

  beforeAll(async () => {
    customerSubgraph = await startSubgraph(
      customerSdl,
      {
        Query: {
          customer: (_: unknown, { id }: { id: string }) =>
            customers.find((c) => c.id === id) ?? null,
          customers: (_: unknown, { first }: { first?: number }, ctx: { warnings: string[] }) => {
            if (first && first > 1) ctx.warnings.push(`first: ${first} was capped to 1`);
            return customers.slice(0, 1);
          },
        },
        Customer: {
          __resolveReference: (ref: { id: string }) => customers.find((c) => c.id === ref.id),
          parent: (c: { parentId: string | null }) =>
            customers.find((p) => p.id === c.parentId) ?? null,
        },
      },
      seen,
    );
    invoiceSubgraph = await startSubgraph(
      invoiceSdl,
      {
        Query: { invoices: () => [{ id: "i1", number: "UK-1", customerId: "c1" }] },
        Invoice: { customer: (i: { customerId: string }) => ({ id: i.customerId }) },
        Customer: {
          invoices: (c: { id: string }) => (c.id === "c1" ? [{ id: "i1", number: "UK-1" }] : []),
        },
      },
      seen,
    );
    gw = await createGateway({
      supergraph: { sdl: composeToy() },
      // The supergraph says port 1: the runtime URLs must win.
      subgraphUrls: { customer: customerSubgraph.url, invoice: invoiceSubgraph.url },
      limits: { maxDepth: 6, maxAliases: 3 },
    });
    ({ url } = await gw.listen({ port: 0 }));
    origin = new URL(url).origin;
  });

  afterAll(async () => {
    await gw?.close();
    customerSubgraph?.server.close();
    customerSubgraph?.server.closeAllConnections();
    invoiceSubgraph?.server.close();
    invoiceSubgraph?.server.closeAllConnections();
  });

  /** The spec's media type: request errors keep their 4xx (application/json gets 200). */
  const strict = { accept: "application/graphql-response+json" };

  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      json: (await response.json()) as any,
    };
  };

  it("plans a query across both subgraphs", async () => {
    const { status, json } = await post({
      query: "{ invoices { number customer { name parent { name } invoices { number } } } }",
    });
    expect(status).toBe(200);
    expect(json.errors).toBeUndefined();
    expect(json.data.invoices).toEqual([
      {
        number: "UK-1",
        customer: {
          name: "Contoso UK",
          parent: { name: "Contoso Group" },
          invoices: [{ number: "UK-1" }],
        },
      },
    ]);
  });

  it("serves spec GETs /graphql?query=…&variables=… without a preflight header", async () => {
    const query = encodeURIComponent("query($id: ID!) { customer(id: $id) { name } }");
    const variables = encodeURIComponent(JSON.stringify({ id: "c1" }));
    const ok = await fetch(`${url}?query=${query}&variables=${variables}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { data: unknown }).data).toEqual({
      customer: { name: "Contoso UK" },
    });
  });

  it("forwards the principal and a correlation id, and echoes the correlation id", async () => {
    seen.headers.length = 0;
    const correlationId = "0b7f3c52-6a41-4c1e-9d55-3f1f7a2b9e10";
    const { headers } = await post(
      { query: '{ customer(id: "c1") { name } }' },
      { "x-pshub-principal": "analyst@example.com", "x-correlation-id": correlationId },
    );
    expect(headers.get("x-correlation-id")).toBe(correlationId);
    expect(seen.headers.at(-1)?.["x-pshub-principal"]).toBe("analyst@example.com");
    expect(seen.headers.at(-1)?.["x-correlation-id"]).toBe(correlationId);

    const anonymous = await post({ query: '{ customer(id: "c1") { name } }' });
    expect(seen.headers.at(-1)?.["x-pshub-principal"]).toBe("anonymous");
    expect(anonymous.headers.get("x-correlation-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("passes subgraph warnings through to extensions.warnings", async () => {
    const { json } = await post({ query: "{ customers(first: 100000) { name } }" });
    expect(json.data.customers).toHaveLength(1);
    expect(json.extensions?.warnings).toEqual(["first: 100000 was capped to 1"]);
  });

  it("rejects a query deeper than the limit with QUERY_TOO_DEEP (400, or 200 for application/json)", async () => {
    const deep = {
      query: "{ invoices { customer { parent { parent { parent { parent { name } } } } } } }",
    };
    const { status, json } = await post(deep, strict);
    expect(status).toBe(400);
    expect(json.errors[0].extensions.code).toBe("QUERY_TOO_DEEP");
    expect(json.errors[0].extensions.limit).toBe(6);
    expect(json.data).toBeUndefined();
    const legacy = await post(deep, { accept: "application/json" });
    expect(legacy.status).toBe(200);
    expect(legacy.json.errors[0].extensions.code).toBe("QUERY_TOO_DEEP");
  });

  it("counts depth through fragments", async () => {
    const { json } = await post({
      query:
        "query { invoices { ...I } } fragment I on Invoice { customer { parent { ...P } } } fragment P on Customer { parent { parent { parent { name } } } }",
    });
    expect(json.errors[0].extensions.code).toBe("QUERY_TOO_DEEP");
  });

  it("rejects too many aliases with TOO_MANY_ALIASES", async () => {
    const { status, json } = await post(
      { query: "{ a: invoices { id } b: invoices { id } c: invoices { id } d: invoices { id } }" },
      strict,
    );
    expect(status).toBe(400);
    expect(json.errors[0].extensions.code).toBe("TOO_MANY_ALIASES");
  });

  it("answers malformed requests with coded errors, never a 500; the status follows Accept", async () => {
    for (const accept of ["application/graphql-response+json", "application/json", "*/*"]) {
      // A malformed HTTP request is a 400 whatever the client accepts.
      const badJson = await post("{not json", { accept });
      expect(badJson.status).toBe(400);
      expect(badJson.json.errors[0].extensions.code).toBe("BAD_REQUEST");
      const noQuery = await post({ qeury: "{ invoices { id } }" }, { accept });
      expect(noQuery.status).toBe(400);
      expect(noQuery.json.errors[0].extensions.code).toBe("BAD_REQUEST");

      // GraphQL request errors: 400 for the spec's media type, 200 for legacy application/json.
      const expected = accept === "application/graphql-response+json" ? 400 : 200;
      const syntax = await post({ query: "{ invoices { " }, { accept });
      expect([accept, syntax.status]).toEqual([accept, expected]);
      expect(syntax.json.errors[0].extensions.code).toBe("GRAPHQL_PARSE_FAILED");

      const unknownField = await post({ query: "{ invoices { nope } }" }, { accept });
      expect(unknownField.status).toBe(expected);
      expect(unknownField.json.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");

      const wrongType = await post(
        { query: "query($id: ID!) { customer(id: $id) { name } }", variables: { id: { no: 1 } } },
        { accept },
      );
      expect(wrongType.status).toBe(expected);
      expect(wrongType.json.errors[0].extensions.code).toBe("BAD_USER_INPUT");

      const unknownOperation = await post(
        { query: "query A { invoices { id } }", operationName: "B" },
        { accept },
      );
      expect(unknownOperation.status).toBe(expected);
      expect(unknownOperation.json.errors[0].extensions.code).toBe("OPERATION_RESOLUTION_FAILURE");

      const tooBig = await post(
        { query: `{ invoices { id } } #${"x".repeat(1_100_000)}` },
        { accept },
      );
      expect(tooBig.status).toBe(413);
      expect(tooBig.json.errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
    }
  });

  it("reports health per subgraph: 503 while any subgraph is down, readyz 200 with a schema", async () => {
    const health = await fetch(`${origin}/healthz`);
    expect(health.status).toBe(503);
    const report = (await health.json()) as any;
    expect(report.schema).toBe(true);
    expect(report.subgraphs.customer.status).toBe("ok");
    expect(report.subgraphs.invoice.status).toBe("ok");
    // project, billing and ops point at their default ports, where nothing runs in this test.
    expect(Object.keys(report.subgraphs)).toEqual([
      "customer",
      "project",
      "billing",
      "invoice",
      "ops",
    ]);
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(200);
  });

  it("serves the IDE page and its bundled assets from the gateway itself", async () => {
    for (const path of ["/", "/playground"]) {
      const page = await fetch(`${origin}${path}`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('id="graphiql"');
      expect(html).not.toMatch(/https?:\/\/(?!127)/);
      const script = html.match(/src="(\/ide\/[^"]+\.js)"/)?.[1];
      const style = html.match(/href="(\/ide\/[^"]+\.css)"/)?.[1];
      expect(script && style).toBeTruthy();
      const js = await fetch(`${origin}${script}`);
      expect(js.status).toBe(200);
      expect((await js.text()).length).toBeGreaterThan(100_000);
      expect((await fetch(`${origin}${style}`)).status).toBe(200);
    }
    expect((await fetch(`${origin}/nope`)).status).toBe(404);
  });

  it("exposes Prometheus metrics by operation name, type and outcome", async () => {
    const response = await fetch(`${origin}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(
      /pshub_graphql_operations_total\{operation_name="[^"]+",operation_type="query",outcome="ok",service="gateway"\} [1-9]/,
    );
    expect(text).toMatch(
      /pshub_graphql_operations_total\{operation_name="unknown",operation_type="unknown",outcome="rejected",service="gateway"\} [1-9]/,
    );
    expect(text).toContain("pshub_graphql_operation_duration_seconds_bucket");
    expect(text).toMatch(
      /pshub_http_requests_total\{route="\/graphql",method="POST",status="200",service="gateway"\} [1-9]/,
    );
  });

  it("composes from the running subgraphs in introspect mode (development)", async () => {
    const dev = await createGateway({
      supergraph: "introspect",
      subgraphUrls: { customer: customerSubgraph.url, invoice: invoiceSubgraph.url },
      ide: false,
    });
    try {
      const result = await dev.execute({ query: "{ invoices { number customer { name } } }" });
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({
        invoices: [{ number: "UK-1", customer: { name: "Contoso UK" } }],
      });
    } finally {
      await dev.close();
    }
  });

  it("authenticates bearer tokens when a secret is set: sub is the principal, the header cannot spoof it", async () => {
    const secret = "a-test-secret-that-is-long-enough-0123456789";
    const secured = await createGateway({
      supergraph: { sdl: composeToy() },
      subgraphUrls: { customer: customerSubgraph.url, invoice: invoiceSubgraph.url },
      auth: { jwtSecret: secret, issuer: "pshub-test" },
      ide: false,
    });
    const { url: securedUrl } = await secured.listen({ port: 0 });
    try {
      const token = await new SignJWT({ roles: ["finance"], legalEntities: ["UK"] })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject("finance@example.com")
        .setIssuer("pshub-test")
        .setAudience("pshub")
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode(secret));
      const send = (headers: Record<string, string>) =>
        fetch(securedUrl, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ query: '{ customer(id: "c1") { name } }' }),
        });
      seen.headers.length = 0;
      const ok = await send({
        authorization: `Bearer ${token}`,
        "x-pshub-principal": "ceo@example.com",
      });
      expect(ok.status).toBe(200);
      expect(seen.headers.at(-1)?.["x-pshub-principal"]).toBe("finance@example.com");
      expect(seen.headers.at(-1)?.["x-pshub-roles"]).toBe("finance");
      expect(seen.headers.at(-1)?.["x-pshub-legal-entities"]).toBe("UK");

      // Production mode: no credentials is no access, whatever header is claimed.
      seen.headers.length = 0;
      const spoofed = await send({ "x-pshub-principal": "ceo@example.com" });
      expect(spoofed.status).toBe(401);
      expect(seen.headers).toEqual([]);

      const bad = await send({ authorization: `Bearer ${token.slice(0, -4)}abcd` });
      expect(bad.status).toBe(401);
      expect(((await bad.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");
      expect(seen.headers).toEqual([]);
    } finally {
      await secured.close();
    }
  });

  it("never echoes a huge input back whole in an error (truncated)", async () => {
    const huge = "x".repeat(900_000);
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: "query($n: Int) { customers(first: $n) { name } }",
        variables: { n: huge },
      }),
    });
    const text = await response.text();
    expect(text.length).toBeLessThan(2_000);
    expect(text).toContain("more characters");
  });

  it("answers with a coded error, not a 500, when a subgraph is down", async () => {
    const partial = await createGateway({
      supergraph: { sdl: composeToy() },
      // Nothing listens on port 9 of localhost.
      subgraphUrls: { customer: "http://127.0.0.1:9/graphql", invoice: invoiceSubgraph.url },
      ide: false,
    });
    const { url: partialUrl } = await partial.listen({ port: 0 });
    try {
      const response = await fetch(partialUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ invoices { number customer { name } } }" }),
      });
      expect(response.status).toBe(200);
      const json = (await response.json()) as any;
      expect(json.errors[0].message).toMatch(/ECONNREFUSED|connect/);
      // No internal address reaches the client (redact.ts).
      expect(JSON.stringify(json)).not.toMatch(/127\.0\.0\.1|:9\/graphql/);
      expect(json.errors[0].extensions.code).toBeTruthy();
      expect((await fetch(`${new URL(partialUrl).origin}/healthz`)).status).toBe(503);
    } finally {
      await partial.close();
    }
  });

  it("executes operations for in-process callers (subscriptions) through the same pipeline", async () => {
    const result = await gw.execute({
      query: "{ invoices { customer { name } } }",
      principal: { id: "subscriber", roles: ["analyst"], method: "jwt" },
    });
    expect(result.data).toEqual({ invoices: [{ customer: { name: "Contoso UK" } }] });
    expect(seen.headers.at(-1)?.["x-pshub-principal"]).toBe("subscriber");
    expect(gw.schema()?.getQueryType()?.getFields().invoices).toBeDefined();
  });
});
