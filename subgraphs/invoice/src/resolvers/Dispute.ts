import type { InvoiceContext } from "../context.ts";
import type { DisputeMapper, EntityRef } from "../mappers.ts";

export const Dispute = {
  __resolveReference: (ref: EntityRef, ctx: InvoiceContext) => ctx.loaders.dispute().load(ref.id),
  invoice: (row: DisputeMapper, _: unknown, ctx: InvoiceContext) =>
    ctx.loaders.invoice().load(row.invoiceId),
};
