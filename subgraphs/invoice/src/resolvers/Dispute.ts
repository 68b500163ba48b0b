import { referenceId } from "@pshub/subgraph-kit";
import type { DisputeResolvers } from "../__generated__/resolvers-types.ts";

export const Dispute: DisputeResolvers = {
  __resolveReference: async (ref, ctx) => ctx.loaders.dispute().load(referenceId(ref, "Dispute")),
  invoice: (row, _, ctx) => ctx.loaders.referencedInvoice(row.invoiceId),
};
