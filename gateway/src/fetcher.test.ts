import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubgraphFetcher } from "./fetcher.ts";

describe("subgraph fetcher", () => {
  let server: Server;
  let url: string;
  const received: { body: string; headers: IncomingHttpHeaders }[] = [];
  const fetcher = createSubgraphFetcher();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        received.push({ body, headers: req.headers });
        // Slow enough that concurrent callers overlap.
        setTimeout(() => {
          res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
          res.end(JSON.stringify({ data: { n: received.length } }));
        }, 50);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  afterAll(() => {
    fetcher.destroy();
    server.close();
  });

  const call = (body: string, principal = "p1", correlation = crypto.randomUUID()) =>
    fetcher(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-pshub-principal": principal,
        "x-correlation-id": correlation,
      },
      body,
    });

  it("shares one round trip between identical queries in flight, each caller its own copy", async () => {
    received.length = 0;
    const body = JSON.stringify({ query: "query Q { a }", variables: {} });
    const responses = await Promise.all(Array.from({ length: 5 }, () => call(body)));
    expect(received).toHaveLength(1);
    const parsed = await Promise.all(responses.map((response) => response.json()));
    expect(parsed.every((value) => JSON.stringify(value) === '{"data":{"n":1}}')).toBe(true);
    expect(parsed[0]).not.toBe(parsed[1]);
    expect(responses[0]?.ok).toBe(true);
    expect(responses[0]?.headers.get("Cache-Control")).toBe("no-store");
  });

  it("never shares mutations, and keeps principals apart", async () => {
    received.length = 0;
    const mutation = JSON.stringify({ query: "mutation M { b }", variables: {} });
    await Promise.all([call(mutation), call(mutation)]);
    expect(received).toHaveLength(2);

    received.length = 0;
    const query = JSON.stringify({ query: "query Q { a }", variables: {} });
    await Promise.all([call(query, "alice"), call(query, "bob")]);
    expect(received.map((request) => request.headers["x-pshub-principal"]).sort()).toEqual([
      "alice",
      "bob",
    ]);
  });

  it("sends again once the first request has completed", async () => {
    received.length = 0;
    const body = JSON.stringify({ query: "{ a }" });
    await call(body);
    await call(body);
    expect(received).toHaveLength(2);
  });

  it("sends a query once more when the subgraph dropped the reused keep-alive socket", async () => {
    // This server answers the first request on each connection and drops the connection at the
    // second without answering: what a subgraph closing an idle keep-alive socket looks like.
    let requests = 0;
    const perSocket = new WeakMap<object, number>();
    const dropping = createServer((req, res) => {
      requests++;
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n > 1) {
        req.socket.destroy();
        return;
      }
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"data":{"ok":true}}');
      });
    });
    await new Promise<void>((resolve) => dropping.listen(0, "127.0.0.1", resolve));
    const dropUrl = `http://127.0.0.1:${(dropping.address() as AddressInfo).port}/graphql`;
    // One connection, so that the second request goes out on the socket the first one used.
    const own = createSubgraphFetcher({ dedupe: false, maxSockets: 1 });
    const post = (query: string) =>
      own(dropUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query }),
      });
    try {
      expect((await post("query A { a }")).status).toBe(200);
      // Sent on the kept-alive socket, dropped, sent again on a fresh one.
      expect((await post("query B { b }")).status).toBe(200);
      expect(requests).toBe(3);
      // A mutation dropped the same way is not sent again: the caller sees the error.
      await expect(post("mutation C { c }")).rejects.toThrow(
        /other side closed|socket hang up|ECONNRESET/,
      );
      expect(requests).toBe(4);
    } finally {
      own.destroy();
      dropping.close();
    }
  });
});
