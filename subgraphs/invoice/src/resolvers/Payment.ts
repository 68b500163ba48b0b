import { money } from "@pshub/subgraph-kit";
import type { InvoiceContext } from "../context.ts";
import type { EntityRef, PaymentMapper } from "../mappers.ts";

export const Payment = {
  __resolveReference: (ref: EntityRef, ctx: InvoiceContext) => ctx.loaders.payment().load(ref.id),
  amount: (row: PaymentMapper) => money(row.amount, row.currency),
  invoice: (row: PaymentMapper, _: unknown, ctx: InvoiceContext) =>
    ctx.loaders.invoice().load(row.invoiceId),
};
