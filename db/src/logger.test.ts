import { describe, expect, it } from "vitest";
import {
  correlationIdOf,
  createLogger,
  currentCorrelationId,
  logFormat,
  withCorrelationId,
} from "./logger.ts";

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => lines.push(line) } };
}

describe("the one log format", () => {
  it("JSON: time, level, service, msg, and the correlation id of the async context", async () => {
    const { lines, destination } = capture();
    const log = createLogger("invoice", { format: "json", destination, level: "debug" });
    log.info("outside");
    await withCorrelationId("0d4c5a0e-1b7b-4c55-9c43-6f3c4c1d2e3f", async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      log.debug({ operationName: "Q" }, "inside");
    });
    const [outside, inside] = lines.map((line) => JSON.parse(line));
    expect(Object.keys(outside)).toEqual(["level", "time", "service", "msg"]);
    expect(outside).toMatchObject({ level: "info", service: "invoice", msg: "outside" });
    expect(new Date(outside.time).toISOString()).toBe(outside.time);
    expect(outside.correlationId).toBeUndefined();
    expect(inside).toMatchObject({
      level: "debug",
      service: "invoice",
      msg: "inside",
      operationName: "Q",
      correlationId: "0d4c5a0e-1b7b-4c55-9c43-6f3c4c1d2e3f",
    });
    expect(currentCorrelationId()).toBeUndefined();
  });

  it("pretty: one readable line per record, naming the service", () => {
    const { lines, destination } = capture();
    const log = createLogger("gateway", { format: "pretty", destination });
    withCorrelationId("0d4c5a0e-1b7b-4c55-9c43-6f3c4c1d2e3f", () => log.warn("slow subgraph"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[?\d\d:\d\d:\d\d\.\d{3}\]? WARN.*\[gateway\] slow subgraph/);
    expect(lines[0]).toContain("0d4c5a0e-1b7b-4c55-9c43-6f3c4c1d2e3f");
    expect(lines[0]?.trimEnd().split("\n")).toHaveLength(1);
  });

  it("LOG_FORMAT decides; unset, a terminal gets pretty and anything else JSON", () => {
    expect(logFormat("json", true)).toBe("json");
    expect(logFormat("pretty", false)).toBe("pretty");
    expect(logFormat(undefined, true)).toBe("pretty");
    expect(logFormat(undefined, false)).toBe("json");
  });

  it("takes a uuid correlation id from a header and mints one for anything else", () => {
    const id = "0D4C5A0E-1B7B-4C55-9C43-6F3C4C1D2E3F";
    expect(correlationIdOf(id)).toBe(id.toLowerCase());
    expect(correlationIdOf([id, "x"])).toBe(id.toLowerCase());
    for (const bad of [undefined, "", "not-a-uuid", `${id}x`, "'; drop table x; --"]) {
      const minted = correlationIdOf(bad);
      expect(minted).toMatch(/^[0-9a-f-]{36}$/);
      expect(minted).not.toBe(bad);
    }
  });
});
