import { money } from "@pshub/subgraph-kit";
import type { PaymentResolvers } from "../__generated__/resolvers-types.ts";
import type { PaymentMapper } from "../mappers.ts";

export const Payment: PaymentResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.payment().load(ref.id),
  amount: (row: PaymentMapper) => money(row.amount, row.currency),
  invoice: (row, _, ctx) => ctx.loaders.referencedInvoice(row.invoiceId),
};
