import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";
import { createServiceMetrics, mayScrape } from "./metrics.ts";

const request = (remoteAddress: string, authorization?: string) =>
  ({ socket: { remoteAddress }, headers: { authorization } }) as unknown as IncomingMessage;

/** An address of this machine that is not loopback (a scraper on "another host"), if any. */
const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i?.family === "IPv4" && !i.internal)?.address;

describe("who may scrape /metrics", () => {
  const token = "a-metrics-token-0123456789";
  it("loopback callers, without a token", () => {
    for (const address of ["127.0.0.1", "127.3.4.5", "::1", "::ffff:127.0.0.1"])
      expect(mayScrape(request(address), undefined), address).toBe(true);
  });
  it("another host only with METRICS_TOKEN as a bearer token", () => {
    expect(mayScrape(request("10.1.2.3"), undefined)).toBe(false);
    expect(mayScrape(request("10.1.2.3", `Bearer ${token}`), undefined)).toBe(false);
    expect(mayScrape(request("10.1.2.3"), token)).toBe(false);
    expect(mayScrape(request("10.1.2.3", `Bearer ${token}x`), token)).toBe(false);
    expect(mayScrape(request("10.1.2.3", token), token)).toBe(false);
    expect(mayScrape(request("::ffff:10.1.2.3", `Bearer ${token}`), token)).toBe(true);
    expect(mayScrape(request("10.1.2.3", `Bearer ${token}`), token)).toBe(true);
  });

  it.skipIf(!external)(
    "over a real socket from a non-loopback address: 403, then 200 with the token",
    async () => {
      const metrics = createServiceMetrics("probe", { token });
      const server = createServer((req, res) => {
        metrics.observeHttp(req, res, ["/metrics"]);
        void metrics.serve(req, res);
      });
      await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
      try {
        const port = (server.address() as AddressInfo).port;
        const remote = `http://${external}:${port}/metrics`;
        const refused = await fetch(remote);
        expect(refused.status).toBe(403);
        expect(await refused.text()).not.toContain("pshub_");
        const allowed = await fetch(remote, { headers: { authorization: `Bearer ${token}` } });
        expect(allowed.status).toBe(200);
        const text = await allowed.text();
        // The refused scrape is itself counted.
        expect(text).toMatch(
          /pshub_http_requests_total\{route="\/metrics",method="GET",status="403",service="probe"\} 1/,
        );
        expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );
});
