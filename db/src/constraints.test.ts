/**
 * The database itself refuses what must never happen twice: every uniqueness rule of the
 * canonical model is tried with its duplicate, against real Postgres.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Builders } from "./seed/builders.ts";
import { Random } from "./seed/random.ts";
import { insertRows, type Row, type TableName } from "./seed/writer.ts";
import { createTestDatabase, type TestDatabase } from "./testing/index.ts";

let t: TestDatabase;
const b = new Builders(new Random(7));
let entity: Row;
let customer: Row;
let opportunity: Row;
let contract: Row;
let project: Row;
let resource: Row;
let timeEntry: Row;
let invoice: Row;

async function insert(table: TableName, row: Row): Promise<Row> {
  await insertRows(t.sql, table, [row]);
  return row;
}

/** Runs `fn` and returns the Postgres error it raised (code and constraint). */
async function refusal(
  fn: () => Promise<unknown>,
): Promise<{ code?: string; constraint?: string }> {
  try {
    await fn();
  } catch (error) {
    const e = error as { code?: string; constraint_name?: string };
    return { code: e.code, constraint: e.constraint_name };
  }
  throw new Error("expected the database to refuse the statement");
}

beforeAll(async () => {
  t = await createTestDatabase();
  entity = await insert(
    "legal_entity",
    b.legalEntity({
      code: "AR-US",
      name: "Ashford & Reyes Consulting LLC",
      country: "US",
      currency: "USD",
      taxJurisdiction: "US-NY",
      invoicePrefix: "US-INV-",
    }),
  );
  customer = await insert(
    "customer",
    b.customer({
      name: "Northwind Logistics Inc.",
      currency: "USD",
      legalEntityId: entity.id as string,
    }),
  );
  opportunity = await insert(
    "opportunity",
    b.opportunity({
      customerId: customer.id as string,
      name: "Northwind – ERP Implementation",
      stage: "CLOSED_WON",
      amount: "120000.00",
      currency: "USD",
      closeDate: "2026-03-01",
      billingModel: "TIME_AND_MATERIALS",
    }),
  );
  contract = await insert(
    "contract",
    b.contract({
      number: "C-2026-00001",
      customerId: customer.id as string,
      opportunityId: opportunity.id as string,
      legalEntityId: entity.id as string,
      billingModel: "TIME_AND_MATERIALS",
      totalValue: "120000.00",
      currency: "USD",
      startDate: "2026-03-15",
    }),
  );
  project = await insert(
    "project",
    b.project({
      code: "PRJ-00001",
      name: "Northwind – ERP Implementation",
      contractId: contract.id as string,
      customerId: customer.id as string,
      currency: "USD",
      startDate: "2026-03-15",
    }),
  );
  resource = await insert(
    "resource",
    b.resource({
      name: "Priya Patel",
      email: "priya.patel@ashfordreyes.com",
      role: "Senior Consultant",
      billRate: "250.00",
      costRate: "115.00",
      currency: "USD",
    }),
  );
  timeEntry = await insert(
    "time_entry",
    b.timeEntry({
      projectId: project.id as string,
      resourceId: resource.id as string,
      workDate: "2026-10-05",
      hours: "7.50",
      billRate: "250.00",
      currency: "USD",
      status: "APPROVED",
    }),
  );
  invoice = await insert(
    "invoice",
    b.invoice({
      customerId: customer.id as string,
      contractId: contract.id as string,
      legalEntityId: entity.id as string,
      currency: "USD",
    }),
  );
});
afterAll(async () => {
  await t?.drop();
});

const timeEvent = (period: string) =>
  b.billingEvent({
    contractId: contract.id as string,
    customerId: customer.id as string,
    projectId: project.id as string,
    sourceType: "TIME",
    sourceId: timeEntry.id as string,
    period,
    description: "Priya Patel, 2026-10-05",
    quantity: "7.50",
    rate: "250.00",
    amount: "1875.00",
    currency: "USD",
  });

describe("uniqueness rules", () => {
  it("billing_event: one per source item and period", async () => {
    await insert("billing_event", timeEvent("2026-10"));
    expect(await refusal(() => insert("billing_event", timeEvent("2026-10")))).toEqual({
      code: "23505",
      constraint: "billing_event_source_period_key",
    });
    // The same item in another period is another billable fact (e.g. a retainer month).
    await expect(insert("billing_event", timeEvent("2026-11"))).resolves.toBeDefined();
  });

  it("invoice_line: one live line per billing event; a voided line frees it", async () => {
    const event = await insert("billing_event", timeEvent("2026-12"));
    const line = (lineNo: number, voidedAt: string | null = null) =>
      b.invoiceLine({
        invoiceId: invoice.id as string,
        billingEventId: event.id as string,
        lineNo,
        description: "Priya Patel, 2026-10-05",
        quantity: "7.50",
        unitPrice: "250.00",
        amount: "1875.00",
        currency: "USD",
        voidedAt,
      });
    const first = await insert("invoice_line", line(1));
    expect(await refusal(() => insert("invoice_line", line(2)))).toEqual({
      code: "23505",
      constraint: "invoice_line_billing_event_live_key",
    });
    await t.sql`update invoice_line set voided_at = now() where id = ${first.id as string}`;
    await expect(insert("invoice_line", line(2))).resolves.toBeDefined();
    expect(await refusal(() => insert("invoice_line", line(2, "2026-11-01T00:00:00Z")))).toEqual({
      code: "23505",
      constraint: "invoice_line_invoice_line_no_key",
    });
  });

  it("source_link: unique both ways (one external record per entity and system, and back)", async () => {
    const link = (entityId: string, externalId: string) =>
      b.sourceLink({
        entityType: "customer",
        entityId,
        system: "SALESFORCE",
        object: "Account",
        externalId,
      });
    await insert("source_link", link(customer.id as string, "0015g00000AbCdEfGH"));
    expect(
      await refusal(() => insert("source_link", link(customer.id as string, "0015g00000ZzZzZzAA"))),
    ).toEqual({ code: "23505", constraint: "source_link_entity_system_key" });
    expect(
      await refusal(() =>
        insert("source_link", link(opportunity.id as string, "0015g00000AbCdEfGH")),
      ),
    ).toEqual({ code: "23505", constraint: "source_link_external_key" });
  });

  it("inbox_event: one per source and dedupe key", async () => {
    const receive = (source: string) =>
      t.sql`insert into inbox_event (source, dedupe_key, object, payload)
            values (${source}, 'Account:001xx:2026-11-20T10:00:00Z', 'Account', '{}'::jsonb)`;
    await receive("salesforce");
    expect(await refusal(() => receive("salesforce"))).toEqual({
      code: "23505",
      constraint: "inbox_event_source_dedupe_key",
    });
    await expect(receive("netsuite")).resolves.toBeDefined();
  });

  it("idempotency_key: one per principal and key", async () => {
    const store = (principal: string) =>
      t.sql`insert into idempotency_key (key, principal, operation, request_hash, expires_at)
            values ('k-1', ${principal}, 'issueInvoice', 'h1', now() + interval '1 day')`;
    await store("finance@ashfordreyes.com");
    expect(await refusal(() => store("finance@ashfordreyes.com"))).toEqual({
      code: "23505",
      constraint: "idempotency_key_principal_key",
    });
    await expect(store("ops@ashfordreyes.com")).resolves.toBeDefined();
  });

  it("payment: one per ERP id", async () => {
    const pay = (erpId: string | null) =>
      b.payment({
        invoiceId: invoice.id as string,
        amount: "100.00",
        currency: "USD",
        receivedOn: "2026-11-10",
        erpId,
      });
    await insert("payment", pay("3100042"));
    expect(await refusal(() => insert("payment", pay("3100042")))).toEqual({
      code: "23505",
      constraint: "payment_erp_id_key",
    });
    // Payments recorded by hand have no ERP id yet: any number of them.
    await insert("payment", pay(null));
    await expect(insert("payment", pay(null))).resolves.toBeDefined();
  });

  it("contract: one per opportunity (a won deal converts once)", async () => {
    const again = b.contract({
      number: "C-2026-00002",
      customerId: customer.id as string,
      opportunityId: opportunity.id as string,
      legalEntityId: entity.id as string,
      billingModel: "TIME_AND_MATERIALS",
      totalValue: "120000.00",
      currency: "USD",
      startDate: "2026-03-15",
    });
    expect(await refusal(() => insert("contract", again))).toEqual({
      code: "23505",
      constraint: "contract_opportunity_id_key",
    });
  });
});

describe("checks", () => {
  it("refuse an invoice whose total is not subtotal + tax, or that is overpaid", async () => {
    const bad = (fields: { subtotal: string; tax: string; total: string; amountPaid: string }) =>
      insert(
        "invoice",
        b.invoice({
          customerId: customer.id as string,
          contractId: contract.id as string,
          legalEntityId: entity.id as string,
          currency: "USD",
          ...fields,
        }),
      );
    expect(
      (
        await refusal(() =>
          bad({ subtotal: "100.00", tax: "8.88", total: "108.87", amountPaid: "0" }),
        )
      ).constraint,
    ).toBe("invoice_total_is_sum");
    expect(
      (
        await refusal(() =>
          bad({ subtotal: "100.00", tax: "8.88", total: "108.88", amountPaid: "108.89" }),
        )
      ).constraint,
    ).toBe("invoice_paid_range");
  });

  it("refuse time entries outside (0, 24] hours", async () => {
    for (const hours of ["0", "24.25"]) {
      const entry = b.timeEntry({
        projectId: project.id as string,
        resourceId: resource.id as string,
        workDate: "2026-10-06",
        hours,
        billRate: "250.00",
        currency: "USD",
      });
      expect((await refusal(() => insert("time_entry", entry))).constraint).toBe(
        "time_entry_hours_range",
      );
    }
  });

  it("refuse a retainer contract without retainer terms", async () => {
    const retainer = b.contract({
      number: "C-2026-00003",
      customerId: customer.id as string,
      legalEntityId: entity.id as string,
      billingModel: "RETAINER",
      totalValue: "96000.00",
      currency: "USD",
      startDate: "2026-01-01",
    });
    expect((await refusal(() => insert("contract", retainer))).constraint).toBe(
      "contract_retainer_terms",
    );
  });
});
