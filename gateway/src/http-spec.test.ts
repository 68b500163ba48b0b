/**
 * GraphQL over HTTP: graphql-http's own audit suite (`auditServer`, from the spec's reference
 * implementation) against the gateway serving the real supergraph — all 61 audits must pass —
 * and the behaviour that makes serving spec GETs without a CSRF header safe (README "CSRF and
 * GET"): a request a browser sends cross-site without a preflight never runs a mutation.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { auditServer } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, type PshubGateway } from "./gateway.ts";

describe("GraphQL over HTTP", () => {
  let gw: PshubGateway;
  let url: string;
  /** Stands in for every subgraph: counts what reaches it. */
  let subgraph: Server;
  let subgraphHits = 0;

  beforeAll(async () => {
    subgraph = createServer((_req, res) => {
      subgraphHits++;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => subgraph.listen(0, "127.0.0.1", resolve));
    const subgraphUrl = `http://127.0.0.1:${(subgraph.address() as AddressInfo).port}/graphql`;
    // The audit's operations ({ __typename }, __type) are answered by the gateway itself.
    gw = await createGateway({
      ide: false,
      subgraphUrls: {
        customer: subgraphUrl,
        project: subgraphUrl,
        billing: subgraphUrl,
        invoice: subgraphUrl,
      },
    });
    ({ url } = await gw.listen({ port: 0 }));
  });
  afterAll(async () => {
    await gw?.close();
    subgraph?.close();
    subgraph?.closeAllConnections();
  });

  it("passes all 61 of graphql-http's audits", async () => {
    const results = await auditServer({ url });
    const failed = results
      .filter((result) => result.status !== "ok")
      .map(
        (result) =>
          `${result.status} ${result.id} ${result.name}: ${"reason" in result ? result.reason : ""}`,
      );
    expect(failed).toEqual([]);
    expect(results).toHaveLength(61);
  });

  it("never runs a mutation from a request a browser sends cross-site without a preflight", async () => {
    const mutation = 'mutation { runBilling(periodEnd: "2026-11-30") { eventsCreated } }';
    subgraphHits = 0;
    // GET (a link, an <img>, a form with method=get): 405 for mutations, whatever it accepts.
    for (const accept of ["application/json", "application/graphql-response+json", "*/*"]) {
      const get = await fetch(`${url}?query=${encodeURIComponent(mutation)}`, {
        headers: { accept },
      });
      expect(get.status).toBe(405);
      expect(get.headers.get("allow")).toBe("POST");
    }
    // POST with the content types a cross-site form or fetch may send without a preflight.
    for (const [type, body] of [
      ["text/plain", JSON.stringify({ query: mutation })],
      ["text/plain; x=json", JSON.stringify({ query: mutation })],
      ["application/x-www-form-urlencoded", `query=${encodeURIComponent(mutation)}`],
      [
        "multipart/form-data; boundary=x",
        `--x\r\ncontent-disposition: form-data; name="query"\r\n\r\n${mutation}\r\n--x--`,
      ],
    ] as const) {
      const post = await fetch(url, { method: "POST", headers: { "content-type": type }, body });
      expect([type, post.status]).toEqual([type, 400]);
      const json = (await post.json()) as { errors: { extensions: { code: string } }[] };
      expect(json.errors[0]?.extensions.code).toBe("BAD_REQUEST");
    }
    // A JSON POST (which needs a CORS preflight cross-site) does run it: the mutation is real.
    const json = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: mutation }),
    });
    expect(json.status).toBe(200);
    expect(subgraphHits).toBe(1);
  });

  it("serves queries over GET with URL-encoded variables and extensions, as the spec allows", async () => {
    const query = "query Type($name: String!) { __type(name: $name) { name kind } }";
    const search = new URLSearchParams({
      query,
      variables: JSON.stringify({ name: "Invoice" }),
      extensions: JSON.stringify({}),
    });
    const response = await fetch(`${url}?${search}`, {
      headers: { accept: "application/graphql-response+json" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/graphql-response+json");
    expect(await response.json()).toEqual({
      data: { __type: { name: "Invoice", kind: "OBJECT" } },
    });
  });
});
