import { money, referenceId } from "@pshub/subgraph-kit";
import type { PaymentResolvers } from "../__generated__/resolvers-types.ts";
import type { PaymentMapper } from "../mappers.ts";

export const Payment: PaymentResolvers = {
  __resolveReference: async (ref, ctx) => ctx.loaders.payment().load(referenceId(ref, "Payment")),
  amount: (row: PaymentMapper) => money(row.amount, row.currency),
  invoice: (row, _, ctx) => ctx.loaders.referencedInvoice(row.invoiceId),
};
