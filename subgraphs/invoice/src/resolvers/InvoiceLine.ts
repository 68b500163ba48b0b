import { billingEvent } from "@pshub/db/schema";
import { money, referenceId, selectsField } from "@pshub/subgraph-kit";
import type { InvoiceLineResolvers } from "../__generated__/resolvers-types.ts";
import type { InvoiceLineMapper } from "../mappers.ts";

export const InvoiceLine: InvoiceLineResolvers = {
  __resolveReference: async (ref, ctx) =>
    ctx.loaders.invoiceLine().load(referenceId(ref, "InvoiceLine")),
  unitPrice: (row: InvoiceLineMapper) => money(row.unitPrice, row.currency),
  amount: (row: InvoiceLineMapper) => money(row.amount, row.currency),
  invoice: (row, _, ctx) => ctx.loaders.referencedInvoice(row.invoiceId),
  // The SDL provides the event's project name (@provides): the event row is read when the plan
  // asks for its project, else the key alone goes back (the billing subgraph resolves the rest).
  billingEvent: (row: InvoiceLineMapper, _args, ctx, info) =>
    selectsField(info, "project")
      ? ctx.loaders
          .byId(billingEvent)
          .load(row.billingEventId)
          .then((found) => found ?? { id: row.billingEventId })
      : { id: row.billingEventId },
};
