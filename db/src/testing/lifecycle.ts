/**
 * Small seed builders for lifecycle tests: a legal entity with a tax rate, a customer, a won
 * opportunity ready to convert, resources, time entries and expenses. Each call makes fresh codes.
 */
import { randomBytes } from "node:crypto";
import type { Db } from "../client.ts";
import { operations } from "../lifecycle/index.ts";
import { execute } from "../lifecycle/operation.ts";
import {
  customer,
  expense,
  legalEntity,
  opportunity,
  resource,
  taxRate,
  timeEntry,
} from "../schema.ts";

const tag = () => randomBytes(4).toString("hex");

export interface Basics {
  legalEntityId: string;
  customerId: string;
  jurisdiction: string;
}

/** A legal entity, a tax rate for a fresh jurisdiction (valid from 2020-01-01) and a customer. */
export async function seedBasics(
  db: Db,
  options: { taxRate?: string; currency?: string; customerLegalEntity?: boolean } = {},
): Promise<Basics> {
  const t = tag();
  const jurisdiction = `J-${t}`;
  const currency = options.currency ?? "USD";
  const [entity] = await db
    .insert(legalEntity)
    .values({
      code: `LE-${t}`,
      name: `Firm ${t}`,
      country: "US",
      currency,
      taxJurisdiction: jurisdiction,
      invoicePrefix: `INV-${t}-`,
    })
    .returning();
  await db
    .insert(taxRate)
    .values({ jurisdiction, rate: options.taxRate ?? "0.0000", validFrom: "2020-01-01" });
  const [cust] = await db
    .insert(customer)
    .values({
      name: `Customer ${t}`,
      currency,
      taxJurisdiction: jurisdiction,
      legalEntityId: options.customerLegalEntity === false ? null : entity!.id,
    })
    .returning();
  return { legalEntityId: entity!.id, customerId: cust!.id, jurisdiction };
}

export async function wonOpportunity(
  db: Db,
  basics: Basics,
  values: Partial<typeof opportunity.$inferInsert> = {},
): Promise<string> {
  const [opp] = await db
    .insert(opportunity)
    .values({
      customerId: basics.customerId,
      name: `Deal ${tag()}`,
      stage: "CLOSED_WON",
      isWon: true,
      amount: "10000.00",
      currency: "USD",
      closeDate: "2025-12-15",
      billingModel: "TIME_AND_MATERIALS",
      legalEntityId: basics.legalEntityId,
      startDate: "2026-01-01",
      endDate: "2026-12-31",
      paymentTermsDays: 30,
      ...values,
    })
    .returning();
  return opp!.id;
}

export async function newResource(db: Db, billRate = "150.00"): Promise<string> {
  const t = tag();
  const [r] = await db
    .insert(resource)
    .values({
      name: `Consultant ${t}`,
      email: `c-${t}@example.com`,
      role: "Consultant",
      billRate,
      costRate: "80.00",
      currency: "USD",
    })
    .returning();
  return r!.id;
}

export interface TimeSpec {
  workDate: string;
  hours: string;
  billRate: string;
  billable?: boolean;
  status?: (typeof timeEntry.$inferInsert)["status"];
}

export async function addTime(
  db: Db,
  projectId: string,
  resourceId: string,
  specs: TimeSpec[],
  currency = "USD",
): Promise<string[]> {
  const rows = await db
    .insert(timeEntry)
    .values(
      specs.map((s) => ({
        projectId,
        resourceId,
        workDate: s.workDate,
        hours: s.hours,
        billRate: s.billRate,
        billable: s.billable ?? true,
        status: s.status ?? "SUBMITTED",
        currency,
      })),
    )
    .returning({ id: timeEntry.id });
  return rows.map((r) => r.id);
}

export interface ExpenseSpec {
  incurredOn: string;
  amount: string;
  billable?: boolean;
  category?: string;
}

export async function addExpenses(
  db: Db,
  projectId: string,
  resourceId: string,
  specs: ExpenseSpec[],
  currency = "USD",
): Promise<string[]> {
  const rows = await db
    .insert(expense)
    .values(
      specs.map((s) => ({
        projectId,
        resourceId,
        incurredOn: s.incurredOn,
        amount: s.amount,
        billable: s.billable ?? true,
        category: s.category ?? "Travel",
        currency,
      })),
    )
    .returning({ id: expense.id });
  return rows.map((r) => r.id);
}

/**
 * A hub invoice taken the whole way to ISSUED by the lifecycle operations: a won opportunity
 * converted, its project activated, 8 approved hours at 125.00 on 2026-01-05, billed and
 * invoiced for January, and issued. `taxRate`: the fresh jurisdiction's rate.
 */
export async function issuedInvoice(
  db: Db,
  taxRate = "0.1000",
): Promise<{ invoice: Awaited<ReturnType<typeof issue>>; customerId: string }> {
  const ctx = { actor: "test" };
  const basics = await seedBasics(db, { taxRate });
  const opp = await wonOpportunity(db, basics);
  const { project, contract } = await execute(db, operations.convertOpportunity, ctx, {
    opportunityId: opp,
  });
  await execute(db, operations.activateProject, ctx, { projectId: project.id });
  const res = await newResource(db);
  const ids = await addTime(db, project.id, res, [
    { workDate: "2026-01-05", hours: "8.00", billRate: "125.00" },
  ]);
  await execute(db, operations.approveTimeEntries, ctx, { ids });
  await execute(db, operations.runBilling, ctx, {
    contractId: contract.id,
    periodEnd: "2026-01-31",
  });
  const draft = await execute(db, operations.generateInvoice, ctx, {
    contractId: contract.id,
    periodEnd: "2026-01-31",
  });
  return { invoice: await issue(db, draft.id), customerId: basics.customerId };
}

const issue = (db: Db, invoiceId: string) =>
  execute(db, operations.issueInvoice, { actor: "test" }, { invoiceId });
