/**
 * Small data builders for the gateway tests: a customer tree (parent → child → contract →
 * project → time entries → billing events → invoice lines → invoices → payments). Rows are
 * inserted in a few set-based statements; amounts are decimal strings.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "../client.ts";
import {
  billingEvent,
  contract,
  customer,
  invoice,
  invoiceLine,
  payment,
  project,
  resource,
  timeEntry,
} from "../schema.ts";
import { buildLegalEntity } from "./customer.ts";

export interface CustomerTree {
  legalEntityId: string;
  parentId: string;
  customerId: string;
  contractId: string;
  projectId: string;
  resourceId: string;
  invoiceIds: string[];
  timeEntryIds: string[];
  billingEventIds: string[];
}

let sequence = 0;
const unique = (prefix: string) =>
  `${prefix}-${process.pid}-${++sequence}-${randomUUID().slice(0, 8)}`;

/**
 * A customer with a parent, one T&M contract and project, and `invoices` issued invoices of
 * `linesPerInvoice` lines each (one approved, billed time entry per line) and one payment each.
 */
export async function buildCustomerTree(
  db: Db,
  options: { invoices: number; linesPerInvoice?: number; name?: string },
): Promise<CustomerTree> {
  const linesPerInvoice = options.linesPerInvoice ?? 2;
  const legalEntityId = await buildLegalEntity(db).then((row) => row.id);
  const [parent] = await db
    .insert(customer)
    .values({ name: `${options.name ?? "Contoso"} Group`, currency: "GBP", legalEntityId })
    .returning({ id: customer.id });
  const [child] = await db
    .insert(customer)
    .values({
      name: options.name ?? "Contoso UK",
      currency: "GBP",
      legalEntityId,
      parentId: parent?.id,
    })
    .returning({ id: customer.id });
  if (!parent || !child) throw new Error("customers not inserted");
  const [contractRow] = await db
    .insert(contract)
    .values({
      number: unique("C"),
      customerId: child.id,
      legalEntityId,
      billingModel: "TIME_AND_MATERIALS",
      totalValue: "250000.00",
      currency: "GBP",
      startDate: "2026-01-01",
      status: "ACTIVE",
    })
    .returning({ id: contract.id });
  if (!contractRow) throw new Error("contract not inserted");
  const [projectRow] = await db
    .insert(project)
    .values({
      code: unique("P"),
      name: "Data platform migration",
      contractId: contractRow.id,
      customerId: child.id,
      currency: "GBP",
      startDate: "2026-01-05",
      status: "ACTIVE",
      budgetHours: "1000.00",
    })
    .returning({ id: project.id });
  if (!projectRow) throw new Error("project not inserted");
  const [resourceRow] = await db
    .insert(resource)
    .values({
      name: "Ada Lovelace",
      email: `${unique("ada")}@example.com`,
      role: "Principal",
      billRate: "150.00",
      costRate: "90.00",
      currency: "GBP",
    })
    .returning({ id: resource.id });
  if (!resourceRow) throw new Error("resource not inserted");

  const lineCount = options.invoices * linesPerInvoice;
  const times = Array.from({ length: lineCount }, (_, i) => ({
    projectId: projectRow.id,
    resourceId: resourceRow.id,
    workDate: `2026-0${1 + (i % 9)}-1${i % 10}`,
    hours: "8.00",
    billRate: "150.00",
    currency: "GBP",
    status: "BILLED" as const,
    description: `Work item ${i + 1}`,
  }));
  const timeRows = lineCount
    ? await db.insert(timeEntry).values(times).returning({ id: timeEntry.id })
    : [];
  const eventRows = lineCount
    ? await db
        .insert(billingEvent)
        .values(
          timeRows.map((row, i) => ({
            contractId: contractRow.id,
            projectId: projectRow.id,
            customerId: child.id,
            sourceType: "TIME" as const,
            sourceId: row.id,
            period: "2026-01",
            description: `Time ${i + 1}`,
            quantity: "8.00",
            rate: "150.00",
            amount: "1200.00",
            currency: "GBP",
            status: "INVOICED" as const,
          })),
        )
        .returning({ id: billingEvent.id })
    : [];
  const subtotal = (1200 * linesPerInvoice).toFixed(2);
  const invoiceRows = options.invoices
    ? await db
        .insert(invoice)
        .values(
          Array.from({ length: options.invoices }, (_, i) => ({
            number: unique(`INV${String(i).padStart(4, "0")}`),
            customerId: child.id,
            contractId: contractRow.id,
            legalEntityId,
            currency: "GBP",
            subtotal,
            total: subtotal,
            amountPaid: "100.00",
            issuedOn: "2026-02-01",
            dueOn: "2026-03-03",
            status: "PARTIALLY_PAID" as const,
          })),
        )
        .returning({ id: invoice.id })
    : [];
  if (lineCount) {
    await db.insert(invoiceLine).values(
      eventRows.map((event, i) => ({
        invoiceId: invoiceRows[Math.floor(i / linesPerInvoice)]?.id ?? "",
        billingEventId: event.id,
        lineNo: (i % linesPerInvoice) + 1,
        description: `Time ${i + 1}`,
        quantity: "8.00",
        unitPrice: "150.00",
        amount: "1200.00",
        currency: "GBP",
      })),
    );
  }
  if (invoiceRows.length) {
    await db.insert(payment).values(
      invoiceRows.map((row) => ({
        invoiceId: row.id,
        amount: "100.00",
        currency: "GBP",
        receivedOn: "2026-02-15",
        erpId: unique("PAY"),
      })),
    );
  }
  return {
    legalEntityId,
    parentId: parent.id,
    customerId: child.id,
    contractId: contractRow.id,
    projectId: projectRow.id,
    resourceId: resourceRow.id,
    invoiceIds: invoiceRows.map((row) => row.id),
    timeEntryIds: timeRows.map((row) => row.id),
    billingEventIds: eventRows.map((row) => row.id),
  };
}
