import { invoice } from "@pshub/db/schema";
import { stubReference } from "@pshub/subgraph-kit";
import type { CustomerResolvers } from "../__generated__/resolvers-types.ts";
import { invoiceList } from "../data/lists.ts";

export const Customer: CustomerResolvers = {
  __resolveReference: stubReference,
  invoices: async (ref, args, ctx, info) =>
    ctx.loaders.primeInvoices(
      await ctx.loaders.connection(invoiceList, invoice.customerId, ref.id, args, info),
    ),
};
