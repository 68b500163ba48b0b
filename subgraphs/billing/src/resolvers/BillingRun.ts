import type { BillingRunResolvers } from "../__generated__/resolvers-types.ts";

export const BillingRun: BillingRunResolvers = {
  invoice: (row) => (row.invoiceId ? { id: row.invoiceId } : null),
};
