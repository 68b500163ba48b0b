import { fetchOne, paginate } from "@pshub/subgraph-kit";
import type { QueryResolvers } from "../__generated__/resolvers-types.ts";
import { disputeList, invoiceLineList, invoiceList, paymentList } from "../data/lists.ts";

export const Query: QueryResolvers = {
  invoice: (_, { id }, ctx) => fetchOne(ctx.loaders.invoice(), "Invoice", id),
  invoices: async (_, args, ctx, info) =>
    ctx.loaders.primeInvoices(
      await paginate(ctx.db, invoiceList, args, { info, warn: ctx.warn, scope: ctx.scope }),
    ),
  invoiceLine: (_, { id }, ctx) => fetchOne(ctx.loaders.invoiceLine(), "InvoiceLine", id),
  invoiceLines: (_, args, ctx, info) =>
    paginate(ctx.db, invoiceLineList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  payment: (_, { id }, ctx) => fetchOne(ctx.loaders.payment(), "Payment", id),
  payments: (_, args, ctx, info) =>
    paginate(ctx.db, paymentList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  dispute: (_, { id }, ctx) => fetchOne(ctx.loaders.dispute(), "Dispute", id),
  disputes: (_, args, ctx, info) =>
    paginate(ctx.db, disputeList, args, { info, warn: ctx.warn, scope: ctx.scope }),
};
