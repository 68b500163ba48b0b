import { billingEvent } from "@pshub/db/schema";
import { money, referenceId } from "@pshub/subgraph-kit";
import type { InvoiceLineResolvers } from "../__generated__/resolvers-types.ts";
import { providedOrKey } from "../data/provided.ts";
import type { InvoiceLineMapper } from "../mappers.ts";

export const InvoiceLine: InvoiceLineResolvers = {
  __resolveReference: async (ref, ctx) =>
    ctx.loaders.invoiceLine().load(referenceId(ref, "InvoiceLine")),
  unitPrice: (row: InvoiceLineMapper) => money(row.unitPrice, row.currency),
  amount: (row: InvoiceLineMapper) => money(row.amount, row.currency),
  invoice: (row, _, ctx) => ctx.loaders.referencedInvoice(row.invoiceId),
  // The SDL provides the event's project name (@provides).
  billingEvent: (row: InvoiceLineMapper, _args, ctx, info) =>
    providedOrKey(ctx, info, billingEvent, row.billingEventId, ["project"]),
};
