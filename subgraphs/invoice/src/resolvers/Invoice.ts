import { subtractMoney } from "@pshub/db";
import { contract, customer, dispute, invoiceLine, payment } from "@pshub/db/schema";
import { money, referenceId } from "@pshub/subgraph-kit";
import type { InvoiceResolvers } from "../__generated__/resolvers-types.ts";
import { disputeList, linesOfInvoice, paymentList } from "../data/lists.ts";
import { providedOrKey } from "../data/provided.ts";
import type { InvoiceMapper } from "../mappers.ts";

/** total − amountPaid, exact (integer cents). */
function balance(row: InvoiceMapper): string {
  return subtractMoney(row.total, row.amountPaid);
}

export const Invoice: InvoiceResolvers = {
  __resolveReference: async (ref, ctx) => ctx.loaders.invoice().load(referenceId(ref, "Invoice")),
  subtotal: (row: InvoiceMapper) => money(row.subtotal, row.currency),
  tax: (row: InvoiceMapper) => money(row.tax, row.currency),
  total: (row: InvoiceMapper) => money(row.total, row.currency),
  amountPaid: (row: InvoiceMapper) => money(row.amountPaid, row.currency),
  balanceDue: (row: InvoiceMapper) => money(balance(row), row.currency),
  // The database decides (one definition, its clock): @pshub/db invoiceOverdueSql.
  overdue: async (row: InvoiceMapper, _, ctx) =>
    (await ctx.loaders.overdue().load(row.id)) === true,
  // The SDL provides the customer's name and parent, and the contract's number and billing model.
  customer: (row: InvoiceMapper, _args, ctx, info) =>
    providedOrKey(ctx, info, customer, row.customerId, ["name", "parent"]),
  contract: (row: InvoiceMapper, _args, ctx, info) =>
    providedOrKey(ctx, info, contract, row.contractId, ["number", "billingModel"]),
  legalEntity: (row: InvoiceMapper) => ({ id: row.legalEntityId }),
  lines: (row, args, ctx, info) =>
    ctx.loaders.connection(linesOfInvoice, invoiceLine.invoiceId, row.id, args, info),
  payments: (row, args, ctx, info) =>
    ctx.loaders.connection(paymentList, payment.invoiceId, row.id, args, info),
  disputes: (row, args, ctx, info) =>
    ctx.loaders.connection(disputeList, dispute.invoiceId, row.id, args, info),
  openDispute: (row, _, ctx) => ctx.loaders.openDisputeByInvoice().load(row.id),
};
