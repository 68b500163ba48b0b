import { taxRate } from "@pshub/db/schema";
import type { TaxRateResolvers } from "../__generated__/resolvers-types.ts";

export const TaxRate: TaxRateResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(taxRate).load(ref.id),
};
