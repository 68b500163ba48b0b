import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { Assignment } from "./Assignment.ts";
import { Contract } from "./Contract.ts";
import { Customer } from "./Customer.ts";
import { Expense } from "./Expense.ts";
import { LegalEntity } from "./LegalEntity.ts";
import { Milestone } from "./Milestone.ts";
import { Mutation } from "./Mutation.ts";
import { Project } from "./Project.ts";
import { Query } from "./Query.ts";
import { Resource } from "./Resource.ts";
import { TimeEntry } from "./TimeEntry.ts";

export const resolvers: Resolvers = {
  Query,
  Project,
  Milestone,
  Resource,
  Assignment,
  TimeEntry,
  Expense,
  Customer,
  Contract,
  LegalEntity,
  ...(Object.keys(Mutation).length > 0 ? { Mutation } : {}),
};
