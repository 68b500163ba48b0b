/**
 * The outbound worker runs each command under the command's correlation id (the one the mutation
 * that queued it carried): its own outcome line and every line its handler writes carry it.
 */
import { randomUUID } from "node:crypto";
import { createLogger, enqueueCommands } from "@pshub/db";
import { buildCustomerTree, createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutboundWorker, PermanentCommandError } from "./worker.ts";

let t: TestDatabase;
let invoiceId: string;

beforeAll(async () => {
  t = await createTestDatabase();
  invoiceId = (await buildCustomerTree(t.db, { invoices: 1 })).invoiceIds[0]!;
});

afterAll(async () => {
  await t?.drop();
});

describe("outbound worker logging", () => {
  it("every line of a command's work carries the command's correlation id", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger("cdc", {
      format: "json",
      level: "info",
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    });
    const ok = randomUUID();
    const bad = randomUUID();
    await t.db.transaction((tx) =>
      enqueueCommands(tx, [
        {
          target: "ERP",
          kind: "obs.ok",
          idempotencyKey: `ok-${ok}`,
          entityType: "invoice",
          entityId: invoiceId,
          correlationId: ok,
        },
        {
          target: "ERP",
          kind: "obs.bad",
          idempotencyKey: `bad-${bad}`,
          entityType: "invoice",
          entityId: invoiceId,
          correlationId: bad,
        },
      ]),
    );
    const worker = new OutboundWorker({
      client: t,
      logger,
      pollMs: 20,
      handlers: {
        "obs.ok": async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          logger.info("posting to the ERP");
          return { result: {} };
        },
        "obs.bad": async () => {
          logger.info("posting to the ERP");
          throw new PermanentCommandError("the ERP refused it", {
            owner: "FINANCE",
            code: "OBS_REFUSED",
            remediation: "none",
          });
        },
      },
    });
    await worker.drain(20_000);
    const of = (id: string) => lines.filter((l) => l.correlationId === id).map((l) => l.msg);
    expect(of(ok)).toEqual(["posting to the ERP", "outbound obs.ok succeeded"]);
    expect(of(bad)).toEqual(["posting to the ERP", "outbound obs.bad failed"]);
    expect(lines.filter((l) => l.correlationId === undefined)).toEqual([]);
  });
});
