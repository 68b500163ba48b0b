import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { Contact } from "./Contact.ts";
import { Contract } from "./Contract.ts";
import { Customer } from "./Customer.ts";
import { LegalEntity } from "./LegalEntity.ts";
import { Mutation } from "./Mutation.ts";
import { Opportunity } from "./Opportunity.ts";
import { Query } from "./Query.ts";
import { TaxRate } from "./TaxRate.ts";

export const resolvers: Resolvers = {
  Query,
  Customer,
  Contact,
  Opportunity,
  Contract,
  LegalEntity,
  TaxRate,
  ...(Object.keys(Mutation).length > 0 ? { Mutation } : {}),
};
