/**
 * A subgraph stopped for a few seconds under a live subscription: every event is still delivered,
 * in order, each with its `eventId`; an event whose entity could not be fetched (after retries)
 * carries its own fields, the entity null and a retryable SERVICE_UNAVAILABLE error at the
 * entity's path; once the subgraph is back, events carry their entity again.
 */

import { buildCustomerTree, type CustomerTree } from "@pshub/db/testing";
import { createCustomerSubgraph } from "@pshub/subgraph-customer";
import { listen, type RunningSubgraph } from "@pshub/subgraph-kit";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Stack, startStack } from "./support/stack.ts";

let stack: Stack;
let tree: CustomerTree;
let revived: RunningSubgraph | undefined;

beforeAll(async () => {
  stack = await startStack({ subscriptions: true });
  tree = await buildCustomerTree(stack.db, { invoices: 1, linesPerInvoice: 1, name: "Outage Ltd" });
}, 120_000);

afterAll(async () => {
  await revived?.close();
  await stack?.stop();
});

interface Delivery {
  data?: {
    invoiceEvents: {
      eventId: string;
      type: string;
      invoice: { number: string; customer: { name: string } } | null;
    } | null;
  } | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

async function emit(n: number): Promise<void> {
  const invoiceId = tree.invoiceIds[0] as string;
  for (let i = 0; i < n; i++) {
    await stack.database.sql`insert into domain_event (type, entity_type, entity_id, payload, actor)
      values ('invoice.status_changed', 'invoice', ${invoiceId}, '{"from":"ISSUED","to":"POSTED"}', 'test')`;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("a subscription while a subgraph is down", () => {
  it("delivers every event with its eventId; the entity is null with a retryable error while unavailable", async () => {
    const wsUrl = `${stack.url.replace("http", "ws")}`;
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    const received: Delivery[] = [];
    const unsubscribe = client.subscribe<Delivery["data"]>(
      {
        query:
          "subscription { invoiceEvents(customerId: null) { eventId type invoice { number customer { name currency } } } }",
      },
      {
        next: (value) => void received.push(value as Delivery),
        error: () => {},
        complete: () => {},
      },
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await emit(2);
      for (let i = 0; received.length < 2 && i < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The customer subgraph serves the customer's currency (its name the invoice subgraph provides).
      const port = stack.subgraphs.customer.port;
      await stack.subgraphs.customer.close();
      await emit(6);
      // Down for ~5 s: longer than the entity fetch's retries (≈1.75 s).
      await new Promise((resolve) => setTimeout(resolve, 4_400));
      revived = await listen(createCustomerSubgraph(stack.db), { port, host: "127.0.0.1" });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await emit(2);
      const [{ n }] = (await stack.database.sql`
        select count(*)::int as n from domain_event where type = 'invoice.status_changed'`) as unknown as [
        { n: number },
      ];
      const deadline = Date.now() + 30_000;
      while (received.length < n && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(received).toHaveLength(n);
      const ids = received.map((d) => Number(d.data?.invoiceEvents?.eventId));
      expect(ids.every((id) => id > 0)).toBe(true);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
      const unavailable = received.filter((d) => d.data?.invoiceEvents?.invoice === null);
      expect(unavailable.length).toBeGreaterThan(0);
      for (const d of unavailable) {
        expect(d.data?.invoiceEvents?.type).toBe("invoice.status_changed");
        expect(d.errors?.[0]?.path).toEqual(["invoiceEvents", "invoice"]);
        expect(d.errors?.[0]?.extensions).toMatchObject({
          code: "SERVICE_UNAVAILABLE",
          retryable: true,
          eventId: d.data?.invoiceEvents?.eventId,
        });
      }
      // Before the outage and after the subgraph is back, the entity is there.
      expect(received[0]?.data?.invoiceEvents?.invoice?.customer.name).toBe("Outage Ltd");
      expect(received.at(-1)?.data?.invoiceEvents?.invoice?.customer.name).toBe("Outage Ltd");
    } finally {
      unsubscribe();
      await client.dispose();
    }
  }, 90_000);
});
