/**
 * How invoice's tables are listed (Relay connections): sort fields and filters. Ties are broken by
 * id; nullable sort columns (a draft's issue and due dates) sort last in both directions (the
 * kit's keyset pagination handles them).
 */
import { invoiceOverdueSql } from "@pshub/db";
import { dispute, invoice, invoiceLine, payment } from "@pshub/db/schema";
import {
  anyOf,
  atLeast,
  atMost,
  BadUserInputError,
  equalsId,
  type ListSpec,
} from "@pshub/subgraph-kit";
import { and, eq, isNotNull, isNull, lt, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type {
  DisputeFilter,
  InvoiceFilter,
  InvoiceLineFilter,
  PaymentFilter,
} from "../__generated__/resolvers-types.ts";

type Maybe<T> = T | null | undefined;

function currencyIs(column: PgColumn, value: Maybe<string>): SQL | undefined {
  if (value == null) return undefined;
  if (!/^[A-Z]{3}$/.test(value)) {
    throw new BadUserInputError(
      `\`filter.currency\` must be an ISO-4217 code such as EUR; got ${JSON.stringify(value)}`,
      { argumentName: "filter.currency" },
    );
  }
  return eq(column, value);
}

export type InvoiceFilterInput = InvoiceFilter;

export const invoiceList: ListSpec<typeof invoice, InvoiceFilterInput> = {
  name: "Invoice",
  table: invoice,
  id: invoice.id,
  orderFields: {
    CREATED_AT: invoice.createdAt,
    ISSUED_ON: invoice.issuedOn,
    DUE_ON: invoice.dueOn,
    NUMBER: invoice.number,
    TOTAL: invoice.total,
  },
  defaultOrder: { field: "CREATED_AT", direction: "ASC" },
  where: (f) =>
    and(
      anyOf(invoice.status, f.status),
      equalsId(invoice.customerId, f.customerId, "filter.customerId"),
      equalsId(invoice.contractId, f.contractId, "filter.contractId"),
      equalsId(invoice.legalEntityId, f.legalEntityId, "filter.legalEntityId"),
      currencyIs(invoice.currency, f.currency),
      atLeast(invoice.issuedOn, f.issuedFrom),
      atMost(invoice.issuedOn, f.issuedTo),
      atLeast(invoice.dueOn, f.dueFrom),
      atMost(invoice.dueOn, f.dueTo),
      f.overdue == null ? undefined : f.overdue ? invoiceOverdueSql : sql`not ${invoiceOverdueSql}`,
    ),
};

export type InvoiceLineFilterInput = InvoiceLineFilter;

/** Top-level list of lines: by creation, then id. */
export const invoiceLineList: ListSpec<typeof invoiceLine, InvoiceLineFilterInput> = {
  name: "InvoiceLine",
  table: invoiceLine,
  id: invoiceLine.id,
  orderFields: { CREATED_AT: invoiceLine.createdAt, LINE_NO: invoiceLine.lineNo },
  defaultOrder: { field: "CREATED_AT", direction: "ASC" },
  where: (f) =>
    and(
      equalsId(invoiceLine.invoiceId, f.invoiceId, "filter.invoiceId"),
      f.live == null
        ? undefined
        : f.live
          ? isNull(invoiceLine.voidedAt)
          : isNotNull(invoiceLine.voidedAt),
      currencyIs(invoiceLine.currency, f.currency),
    ),
};

/** An invoice's own lines: by line number. */
export const linesOfInvoice: ListSpec<typeof invoiceLine> = {
  ...invoiceLineList,
  name: "Invoice.lines",
  defaultOrder: { field: "LINE_NO", direction: "ASC" },
  where: undefined,
};

export type PaymentFilterInput = PaymentFilter;

export const paymentList: ListSpec<typeof payment, PaymentFilterInput> = {
  name: "Payment",
  table: payment,
  id: payment.id,
  orderFields: { RECEIVED_ON: payment.receivedOn, CREATED_AT: payment.createdAt },
  defaultOrder: { field: "RECEIVED_ON", direction: "ASC" },
  where: (f) =>
    and(
      equalsId(payment.invoiceId, f.invoiceId, "filter.invoiceId"),
      f.customerId == null
        ? undefined
        : sql`${payment.invoiceId} in (select ${invoice.id} from ${invoice} where ${equalsId(invoice.customerId, f.customerId, "filter.customerId")})`,
      f.legalEntityId == null
        ? undefined
        : sql`${payment.invoiceId} in (select ${invoice.id} from ${invoice} where ${equalsId(invoice.legalEntityId, f.legalEntityId, "filter.legalEntityId")})`,
      currencyIs(payment.currency, f.currency),
      atLeast(payment.receivedOn, f.receivedFrom),
      atMost(payment.receivedOn, f.receivedTo),
    ),
};

export type DisputeFilterInput = DisputeFilter;

export const disputeList: ListSpec<typeof dispute, DisputeFilterInput> = {
  name: "Dispute",
  table: dispute,
  id: dispute.id,
  orderFields: { CREATED_AT: dispute.createdAt },
  defaultOrder: { field: "CREATED_AT", direction: "ASC" },
  where: (f) =>
    and(
      anyOf(dispute.status, f.status),
      equalsId(dispute.invoiceId, f.invoiceId, "filter.invoiceId"),
      f.customerId == null
        ? undefined
        : sql`${dispute.invoiceId} in (select ${invoice.id} from ${invoice} where ${equalsId(invoice.customerId, f.customerId, "filter.customerId")})`,
      atLeast(dispute.createdAt, f.openedFrom),
      f.openedTo == null ? undefined : lt(dispute.createdAt, f.openedTo),
    ),
};
