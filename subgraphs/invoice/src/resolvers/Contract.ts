import { invoice } from "@pshub/db/schema";
import { stubReference } from "@pshub/subgraph-kit";
import type { ContractResolvers } from "../__generated__/resolvers-types.ts";
import { invoiceList } from "../data/lists.ts";

export const Contract: ContractResolvers = {
  __resolveReference: stubReference,
  invoices: async (ref, args, ctx, info) =>
    ctx.loaders.primeInvoices(
      await ctx.loaders.connection(invoiceList, invoice.contractId, ref.id, args, info),
    ),
};
