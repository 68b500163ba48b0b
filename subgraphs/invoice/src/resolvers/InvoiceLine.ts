import { money, referenceId } from "@pshub/subgraph-kit";
import type { InvoiceLineResolvers } from "../__generated__/resolvers-types.ts";
import type { InvoiceLineMapper } from "../mappers.ts";

export const InvoiceLine: InvoiceLineResolvers = {
  __resolveReference: async (ref, ctx) =>
    ctx.loaders.invoiceLine().load(referenceId(ref, "InvoiceLine")),
  unitPrice: (row: InvoiceLineMapper) => money(row.unitPrice, row.currency),
  amount: (row: InvoiceLineMapper) => money(row.amount, row.currency),
  invoice: (row, _, ctx) => ctx.loaders.referencedInvoice(row.invoiceId),
  billingEvent: (row: InvoiceLineMapper) => ({ id: row.billingEventId }),
};
