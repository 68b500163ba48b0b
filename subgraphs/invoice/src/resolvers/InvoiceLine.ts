import { money } from "@pshub/subgraph-kit";
import type { InvoiceContext } from "../context.ts";
import type { EntityRef, InvoiceLineMapper } from "../mappers.ts";

export const InvoiceLine = {
  __resolveReference: (ref: EntityRef, ctx: InvoiceContext) =>
    ctx.loaders.invoiceLine().load(ref.id),
  unitPrice: (row: InvoiceLineMapper) => money(row.unitPrice, row.currency),
  amount: (row: InvoiceLineMapper) => money(row.amount, row.currency),
  invoice: (row: InvoiceLineMapper, _: unknown, ctx: InvoiceContext) =>
    ctx.loaders.invoice().load(row.invoiceId),
  billingEvent: (row: InvoiceLineMapper) => ({ id: row.billingEventId }),
};
