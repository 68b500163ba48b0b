/**
 * Builders for customer-side rows (legal entities, customers, contacts, opportunities, contracts):
 * one row per call, sensible defaults, overrides for what a test cares about. Money is a decimal
 * string.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "../client.ts";
import { contact, contract, customer, legalEntity, opportunity } from "../schema.ts";

type Insert<T extends { $inferInsert: unknown }> = Partial<T["$inferInsert"]>;

let sequence = 0;
/** A value unique within the test database (codes, numbers, e-mails). */
export const unique = (prefix: string) => `${prefix}-${++sequence}-${randomUUID().slice(0, 6)}`;

export async function buildLegalEntity(db: Db, values: Insert<typeof legalEntity> = {}) {
  const [row] = await db
    .insert(legalEntity)
    .values({
      code: unique("LE"),
      name: "Northwind Consulting Ltd",
      country: "GB",
      currency: "GBP",
      taxJurisdiction: "GB",
      invoicePrefix: "NW",
      ...values,
    })
    .returning();
  return row!;
}

export async function buildCustomer(db: Db, values: Insert<typeof customer> = {}) {
  const [row] = await db
    .insert(customer)
    .values({ name: unique("Customer"), currency: "GBP", ...values })
    .returning();
  return row!;
}

export async function buildContact(
  db: Db,
  values: Insert<typeof contact> & { customerId: string },
) {
  const [row] = await db
    .insert(contact)
    .values({ name: unique("Contact"), email: `${unique("c")}@example.com`, ...values })
    .returning();
  return row!;
}

export async function buildOpportunity(
  db: Db,
  values: Insert<typeof opportunity> & { customerId: string },
) {
  const [row] = await db
    .insert(opportunity)
    .values({
      name: unique("Opportunity"),
      stage: "PROPOSAL",
      amount: "120000.00",
      currency: "GBP",
      closeDate: "2026-12-15",
      billingModel: "TIME_AND_MATERIALS",
      ...values,
    })
    .returning();
  return row!;
}

export async function buildContract(
  db: Db,
  values: Insert<typeof contract> & { customerId: string; legalEntityId: string },
) {
  const [row] = await db
    .insert(contract)
    .values({
      number: unique("C"),
      billingModel: "TIME_AND_MATERIALS",
      totalValue: "250000.00",
      currency: "GBP",
      startDate: "2026-01-01",
      status: "ACTIVE",
      ...values,
    })
    .returning();
  return row!;
}
