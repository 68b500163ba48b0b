/**
 * Small seed builders for tests: each inserts one canonical row with sensible defaults and returns
 * it. Only what a test states matters; everything else is filled in (unique codes, dates, EUR).
 *
 *   const b = builders(t.db);
 *   const { contract } = await b.contractWithProject({ billingModel: "TIME_AND_MATERIALS" });
 */
import { randomUUID } from "node:crypto";
import type { Db } from "../client.ts";
import {
  auditLog,
  billingEvent,
  contract,
  customer,
  dispute,
  domainEvent,
  expense,
  feeScheduleItem,
  inboxEvent,
  invoice,
  invoiceLine,
  legalEntity,
  milestone,
  outboundCommand,
  payment,
  project,
  resource,
  sourceLink,
  syncCursor,
  syncException,
  timeEntry,
} from "../schema.ts";

type Insert<T extends { $inferInsert: unknown }> = T["$inferInsert"];

let counter = 0;
const next = () => `${process.pid}-${++counter}`;

export function builders(db: Db) {
  async function one<T>(rows: Promise<T[]>): Promise<T> {
    const [row] = await rows;
    if (!row) throw new Error("insert returned no row");
    return row;
  }

  const b = {
    legalEntity: (values: Partial<Insert<typeof legalEntity>> = {}) => {
      const n = next();
      return one(
        db
          .insert(legalEntity)
          .values({
            code: `LE-${n}`,
            name: `Entity ${n}`,
            country: "DE",
            currency: "EUR",
            taxJurisdiction: "DE",
            invoicePrefix: `DE${n}-`,
            ...values,
          })
          .returning(),
      );
    },

    customer: (values: Partial<Insert<typeof customer>> = {}) =>
      one(
        db
          .insert(customer)
          .values({ name: `Customer ${next()}`, currency: "EUR", ...values })
          .returning(),
      ),

    contract: (
      values: Partial<Insert<typeof contract>> & { customerId: string; legalEntityId: string },
    ) =>
      one(
        db
          .insert(contract)
          .values({
            number: `C-${next()}`,
            billingModel: "TIME_AND_MATERIALS",
            totalValue: "100000.00",
            currency: "EUR",
            startDate: "2026-01-01",
            status: "ACTIVE",
            ...values,
          })
          .returning(),
      ),

    project: (
      values: Partial<Insert<typeof project>> & { contractId: string; customerId: string },
    ) => {
      const n = next();
      return one(
        db
          .insert(project)
          .values({
            code: `P-${n}`,
            name: `Project ${n}`,
            currency: "EUR",
            startDate: "2026-01-01",
            status: "ACTIVE",
            ...values,
          })
          .returning(),
      );
    },

    resource: (values: Partial<Insert<typeof resource>> = {}) => {
      const n = next();
      return one(
        db
          .insert(resource)
          .values({
            name: `Resource ${n}`,
            email: `r${n}@example.com`,
            role: "Consultant",
            billRate: "150.00",
            costRate: "80.00",
            currency: "EUR",
            ...values,
          })
          .returning(),
      );
    },

    timeEntry: (
      values: Partial<Insert<typeof timeEntry>> & { projectId: string; resourceId: string },
    ) =>
      one(
        db
          .insert(timeEntry)
          .values({
            workDate: "2026-10-05",
            hours: "8.00",
            billRate: "150.00",
            currency: "EUR",
            status: "APPROVED",
            ...values,
          })
          .returning(),
      ),

    expense: (
      values: Partial<Insert<typeof expense>> & { projectId: string; resourceId: string },
    ) =>
      one(
        db
          .insert(expense)
          .values({
            incurredOn: "2026-10-06",
            amount: "100.00",
            currency: "EUR",
            category: "Travel",
            status: "APPROVED",
            ...values,
          })
          .returning(),
      ),

    milestone: (values: Partial<Insert<typeof milestone>> & { projectId: string }) =>
      one(
        db
          .insert(milestone)
          .values({
            name: `Milestone ${next()}`,
            amount: "5000.00",
            currency: "EUR",
            dueDate: "2026-11-30",
            ...values,
          })
          .returning(),
      ),

    feeScheduleItem: (values: Partial<Insert<typeof feeScheduleItem>> & { contractId: string }) =>
      one(
        db
          .insert(feeScheduleItem)
          .values({
            description: `Fee ${next()}`,
            dueDate: "2026-10-31",
            amount: "2500.00",
            currency: "EUR",
            ...values,
          })
          .returning(),
      ),

    billingEvent: (
      values: Partial<Insert<typeof billingEvent>> & { contractId: string; customerId: string },
    ) =>
      one(
        db
          .insert(billingEvent)
          .values({
            sourceType: "FIXED_FEE",
            sourceId: crypto.randomUUID(),
            period: "2026-10",
            description: `Item ${next()}`,
            quantity: "1.00",
            rate: "100.00",
            amount: "100.00",
            currency: "EUR",
            ...values,
          })
          .returning(),
      ),

    invoice: (
      values: Partial<Insert<typeof invoice>> & {
        customerId: string;
        contractId: string;
        legalEntityId: string;
      },
    ) =>
      one(
        db
          .insert(invoice)
          .values({
            // As issueInvoice: a draft has no number (a VOID one may have either).
            number: (values.status ?? "DRAFT") === "DRAFT" ? null : `INV-${next()}`,
            currency: "EUR",
            ...values,
          })
          .returning(),
      ),

    invoiceLine: (
      values: Partial<Insert<typeof invoiceLine>> & {
        invoiceId: string;
        billingEventId: string;
        lineNo: number;
      },
    ) =>
      one(
        db
          .insert(invoiceLine)
          .values({
            description: `Line ${next()}`,
            quantity: "1.00",
            unitPrice: "100.00",
            amount: "100.00",
            currency: "EUR",
            ...values,
          })
          .returning(),
      ),

    payment: (values: Partial<Insert<typeof payment>> & { invoiceId: string }) =>
      one(
        db
          .insert(payment)
          .values({ amount: "10.00", currency: "EUR", receivedOn: "2026-11-01", ...values })
          .returning(),
      ),

    dispute: (values: Partial<Insert<typeof dispute>> & { invoiceId: string }) =>
      one(
        db
          .insert(dispute)
          .values({ reason: "Hours disputed", openedBy: "customer@example.com", ...values })
          .returning(),
      ),

    syncException: (values: Partial<Insert<typeof syncException>> = {}) =>
      one(
        db
          .insert(syncException)
          .values({
            owner: "FINANCE",
            code: "MAPPING_FAILED",
            message: "Could not map the record",
            remediation: "Fix the source record and retry",
            dueAt: new Date("2026-12-01T00:00:00Z"),
            ...values,
          })
          .returning(),
      ),

    // The hub's own tables (Query.domainEvents, auditLog, sourceLinks, …).

    domainEvent: (values: Partial<Insert<typeof domainEvent>> = {}) =>
      one(
        db
          .insert(domainEvent)
          .values({
            type: "invoice.status_changed",
            entityType: "invoice",
            entityId: randomUUID(),
            payload: { n: next() },
            actor: "test",
            ...values,
          })
          .returning(),
      ),

    auditLog: (values: Partial<Insert<typeof auditLog>> = {}) =>
      one(
        db
          .insert(auditLog)
          .values({ actor: "test", operation: "issueInvoice", outcome: "OK", ...values })
          .returning(),
      ),

    sourceLink: (values: Partial<Insert<typeof sourceLink>> = {}) =>
      one(
        db
          .insert(sourceLink)
          .values({
            entityType: "customer",
            entityId: randomUUID(),
            system: "SALESFORCE",
            object: "Account",
            externalId: `001-${next()}`,
            ...values,
          })
          .returning(),
      ),

    syncCursor: (values: Partial<Insert<typeof syncCursor>> = {}) =>
      one(
        db
          .insert(syncCursor)
          .values({ connector: "salesforce", object: `Object${next()}`, ...values })
          .returning(),
      ),

    inboxEvent: (values: Partial<Insert<typeof inboxEvent>> = {}) =>
      one(
        db
          .insert(inboxEvent)
          .values({
            source: "salesforce",
            dedupeKey: `dedupe-${next()}`,
            object: "Opportunity",
            payload: { n: next() },
            ...values,
          })
          .returning(),
      ),

    outboundCommand: (values: Partial<Insert<typeof outboundCommand>> = {}) =>
      one(
        db
          .insert(outboundCommand)
          .values({
            target: "ERP",
            kind: "invoice.post",
            idempotencyKey: `cmd-${next()}`,
            entityType: "invoice",
            entityId: randomUUID(),
            ...values,
          })
          .returning(),
      ),

    /** A legal entity, customer, contract and one project under it. */
    async contractWithProject(values: Partial<Insert<typeof contract>> = {}) {
      const entity = await b.legalEntity();
      const cust = await b.customer({ legalEntityId: entity.id });
      const con = await b.contract({ customerId: cust.id, legalEntityId: entity.id, ...values });
      const proj = await b.project({ contractId: con.id, customerId: cust.id });
      return { legalEntity: entity, customer: cust, contract: con, project: proj };
    },
  };
  return b;
}

export type Builders = ReturnType<typeof builders>;
