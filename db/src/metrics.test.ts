import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { mayScrape } from "./metrics.ts";

const request = (remoteAddress: string, authorization?: string) =>
  ({ socket: { remoteAddress }, headers: { authorization } }) as unknown as IncomingMessage;

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
});
