/**
 * Invoice.overdue and the `overdue` filter are one rule on one clock (the database's): an
 * application clock that drifts cannot make an invoice's flag disagree with the list it is in.
 */
import { builders, createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import type { SubgraphServer } from "@pshub/subgraph-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createInvoiceSubgraph } from "./index.ts";
import type { InvoiceLoaders } from "./loaders.ts";

let t: TestDatabase;
let server: SubgraphServer<InvoiceLoaders>;

beforeAll(async () => {
  t = await createTestDatabase();
  const b = builders(t.db);
  const a = await b.contractWithProject();
  // Issued, 100.00 open, due yesterday / today / tomorrow by the database's (UTC) calendar.
  const days = await t.sql<{ d: string }[]>`
    select to_char((now() at time zone 'UTC')::date + k, 'YYYY-MM-DD') as d
    from generate_series(-1, 1) as k order by k`;
  for (const { d } of days) {
    await b.invoice({
      customerId: a.customer.id,
      contractId: a.contract.id,
      legalEntityId: a.legalEntity.id,
      currency: a.contract.currency,
      subtotal: "100.00",
      total: "100.00",
      status: "ISSUED",
      issuedOn: "2026-01-01",
      dueOn: d,
    });
  }
  server = createInvoiceSubgraph(t.db);
});

afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  await t?.drop();
});

const LIST = `query($overdue: Boolean) { invoices(filter: { overdue: $overdue }) {
  totalCount nodes { overdue } } }`;

describe("Invoice.overdue", () => {
  for (const [label, shift] of [
    ["the application clock agrees with the database", 0],
    ["the application clock runs two days ahead", 2 * 86400_000],
    ["the application clock runs two days behind", -2 * 86400_000],
  ] as const) {
    it(`agrees with the overdue filter when ${label}`, async () => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Date.now() + shift);
      const overdue = await server.execute(LIST, { overdue: true });
      expect(overdue.errors).toBeUndefined();
      expect(overdue.data?.invoices).toEqual({ totalCount: 1, nodes: [{ overdue: true }] });
      const notOverdue = await server.execute(LIST, { overdue: false });
      expect(notOverdue.errors).toBeUndefined();
      expect(notOverdue.data?.invoices).toEqual({
        totalCount: 2,
        nodes: [{ overdue: false }, { overdue: false }],
      });
    });
  }
});
