import { invoice } from "@pshub/db/schema";
import type { CustomerResolvers } from "../__generated__/resolvers-types.ts";
import { invoiceList } from "../data/lists.ts";
import { stubReference } from "./refs.ts";

export const Customer: CustomerResolvers = {
  __resolveReference: stubReference,
  invoices: async (ref, args, ctx, info) =>
    ctx.loaders.primeInvoices(
      await ctx.loaders.connection(invoiceList, invoice.customerId, ref.id, args, info),
    ),
};
