import { contact, contract, customer, legalEntity, opportunity, taxRate } from "@pshub/db/schema";
import { fetchOne, paginate } from "@pshub/subgraph-kit";
import type { QueryResolvers } from "../__generated__/resolvers-types.ts";
import {
  contactList,
  contractList,
  customerList,
  legalEntityList,
  opportunityList,
  taxRateList,
} from "../lists.ts";

export const Query: QueryResolvers = {
  customer: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(customer), "Customer", id),
  customers: (_, args, ctx, info) =>
    paginate(ctx.db, customerList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  contact: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(contact), "Contact", id),
  contacts: (_, args, ctx, info) =>
    paginate(ctx.db, contactList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  opportunity: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(opportunity), "Opportunity", id),
  opportunities: (_, args, ctx, info) =>
    paginate(ctx.db, opportunityList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  contract: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(contract), "Contract", id),
  contracts: (_, args, ctx, info) =>
    paginate(ctx.db, contractList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  legalEntity: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(legalEntity), "LegalEntity", id),
  legalEntities: (_, args, ctx, info) =>
    paginate(ctx.db, legalEntityList, args, { info, warn: ctx.warn, scope: ctx.scope }),
  taxRate: (_, { id }, ctx) => fetchOne(ctx.loaders.byId(taxRate), "TaxRate", id),
  taxRates: (_, args, ctx, info) =>
    paginate(ctx.db, taxRateList, args, { info, warn: ctx.warn, scope: ctx.scope }),
};
