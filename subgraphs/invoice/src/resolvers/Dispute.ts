import type { DisputeResolvers } from "../__generated__/resolvers-types.ts";

export const Dispute: DisputeResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.dispute().load(ref.id),
  invoice: (row, _, ctx) => ctx.loaders.referencedInvoice(row.invoiceId),
};
