import { contact, contract, customer, legalEntity, opportunity } from "@pshub/db/schema";
import type { CustomerResolvers } from "../__generated__/resolvers-types.ts";
import { contactList, contractList, customerList, opportunityList } from "../lists.ts";

export const Customer: CustomerResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(customer).load(ref.id),
  legalEntity: (c, _, ctx) =>
    c.legalEntityId ? ctx.loaders.byId(legalEntity).load(c.legalEntityId) : null,
  parent: (c, _, ctx) => (c.parentId ? ctx.loaders.byId(customer).load(c.parentId) : null),
  children: (c, args, ctx, info) =>
    ctx.loaders.connection(customerList, customer.parentId, c.id, args, info),
  ancestors: async (c, _, ctx) => {
    const ids = await ctx.loaders.ancestorIds.load(c.id);
    const rows = await ctx.loaders.byId(customer).loadMany(ids);
    return rows.filter(
      (row): row is typeof customer.$inferSelect => row != null && !(row instanceof Error),
    );
  },
  contacts: (c, args, ctx, info) =>
    ctx.loaders.connection(contactList, contact.customerId, c.id, args, info),
  opportunities: (c, args, ctx, info) =>
    ctx.loaders.connection(opportunityList, opportunity.customerId, c.id, args, info),
  contracts: (c, args, ctx, info) =>
    ctx.loaders.connection(contractList, contract.customerId, c.id, args, info),
};
