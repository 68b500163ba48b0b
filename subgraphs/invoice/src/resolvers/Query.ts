import { type ConnectionArgs, fetchOne, paginate } from "@pshub/subgraph-kit";
import type { GraphQLResolveInfo } from "graphql";
import type { InvoiceContext } from "../context.ts";
import {
  type DisputeFilterInput,
  disputeList,
  type InvoiceFilterInput,
  type InvoiceLineFilterInput,
  invoiceLineList,
  invoiceList,
  type PaymentFilterInput,
  paymentList,
} from "../data/lists.ts";

type Id = { id: string };

export const Query = {
  invoice: (_: unknown, { id }: Id, ctx: InvoiceContext) =>
    fetchOne(ctx.loaders.invoice(), "Invoice", id),
  invoices: (
    _: unknown,
    args: ConnectionArgs<InvoiceFilterInput>,
    ctx: InvoiceContext,
    info: GraphQLResolveInfo,
  ) => paginate(ctx.db, invoiceList, args, { info, warn: ctx.warn }),
  invoiceLine: (_: unknown, { id }: Id, ctx: InvoiceContext) =>
    fetchOne(ctx.loaders.invoiceLine(), "InvoiceLine", id),
  invoiceLines: (
    _: unknown,
    args: ConnectionArgs<InvoiceLineFilterInput>,
    ctx: InvoiceContext,
    info: GraphQLResolveInfo,
  ) => paginate(ctx.db, invoiceLineList, args, { info, warn: ctx.warn }),
  payment: (_: unknown, { id }: Id, ctx: InvoiceContext) =>
    fetchOne(ctx.loaders.payment(), "Payment", id),
  payments: (
    _: unknown,
    args: ConnectionArgs<PaymentFilterInput>,
    ctx: InvoiceContext,
    info: GraphQLResolveInfo,
  ) => paginate(ctx.db, paymentList, args, { info, warn: ctx.warn }),
  dispute: (_: unknown, { id }: Id, ctx: InvoiceContext) =>
    fetchOne(ctx.loaders.dispute(), "Dispute", id),
  disputes: (
    _: unknown,
    args: ConnectionArgs<DisputeFilterInput>,
    ctx: InvoiceContext,
    info: GraphQLResolveInfo,
  ) => paginate(ctx.db, disputeList, args, { info, warn: ctx.warn }),
};
