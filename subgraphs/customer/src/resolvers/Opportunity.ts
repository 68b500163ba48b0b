import { contract, customer, legalEntity, opportunity } from "@pshub/db/schema";
import { money } from "@pshub/subgraph-kit";
import type { OpportunityResolvers } from "../__generated__/resolvers-types.ts";
import { required } from "./Contact.ts";

export const Opportunity: OpportunityResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(opportunity).load(ref.id),
  customer: (o, _, ctx) =>
    ctx.loaders.byId(customer).load(o.customerId).then(required("Customer", o.customerId)),
  amount: (o) => money(o.amount, o.currency),
  retainerAmount: (o) => money(o.retainerAmount, o.currency),
  contract: (o, _, ctx) => ctx.loaders.byId(contract, contract.opportunityId).load(o.id),
  legalEntity: (o, _, ctx) =>
    o.legalEntityId ? ctx.loaders.byId(legalEntity).load(o.legalEntityId) : null,
};
