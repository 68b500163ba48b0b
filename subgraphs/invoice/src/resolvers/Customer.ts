import { customer, invoice } from "@pshub/db/schema";
import { stubReference } from "@pshub/subgraph-kit";
import type { CustomerResolvers } from "../__generated__/resolvers-types.ts";
import { invoiceList } from "../data/lists.ts";

export const Customer: CustomerResolvers = {
  __resolveReference: stubReference,
  // Asked only under Invoice.customer, which provides it with the customer row (@provides).
  parent: (c, _, ctx) =>
    "parentId" in c && c.parentId ? ctx.loaders.byId(customer).load(c.parentId) : null,
  invoices: async (ref, args, ctx, info) =>
    ctx.loaders.primeInvoices(
      await ctx.loaders.connection(invoiceList, invoice.customerId, ref.id, args, info),
    ),
};
