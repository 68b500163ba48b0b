import { contract, customer, legalEntity } from "@pshub/db/schema";
import type { LegalEntityResolvers } from "../__generated__/resolvers-types.ts";
import { contractList, customerList } from "../lists.ts";

export const LegalEntity: LegalEntityResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(legalEntity).load(ref.id),
  customers: (le, args, ctx, info) =>
    ctx.loaders.connection(customerList, customer.legalEntityId, le.id, args, info),
  contracts: (le, args, ctx, info) =>
    ctx.loaders.connection(contractList, contract.legalEntityId, le.id, args, info),
};
