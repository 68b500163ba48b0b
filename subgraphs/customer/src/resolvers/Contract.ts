import { contract, customer, legalEntity, opportunity } from "@pshub/db/schema";
import { money } from "@pshub/subgraph-kit";
import type { ContractResolvers } from "../__generated__/resolvers-types.ts";
import { required } from "./Contact.ts";

export const Contract: ContractResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(contract).load(ref.id),
  customer: (c, _, ctx) =>
    ctx.loaders.byId(customer).load(c.customerId).then(required("Customer", c.customerId)),
  opportunity: (c, _, ctx) =>
    c.opportunityId ? ctx.loaders.byId(opportunity).load(c.opportunityId) : null,
  legalEntity: (c, _, ctx) =>
    ctx.loaders
      .byId(legalEntity)
      .load(c.legalEntityId)
      .then(required("LegalEntity", c.legalEntityId)),
  totalValue: (c) => money(c.totalValue, c.currency),
  retainerAmount: (c) => money(c.retainerAmount, c.currency),
};
