import { invoice } from "@pshub/db/schema";
import type { ConnectionArgs } from "@pshub/subgraph-kit";
import type { GraphQLResolveInfo } from "graphql";
import type { InvoiceContext } from "../context.ts";
import { type InvoiceFilterInput, invoiceList } from "../data/lists.ts";
import type { EntityRef } from "../mappers.ts";
import { stubReference } from "./refs.ts";

export const Customer = {
  __resolveReference: stubReference,
  invoices: (
    ref: EntityRef,
    args: ConnectionArgs<InvoiceFilterInput>,
    ctx: InvoiceContext,
    info: GraphQLResolveInfo,
  ) => ctx.loaders.connection(invoiceList, invoice.customerId, ref.id, args, info),
};
