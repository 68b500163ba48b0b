/** Billing's resolver map: one file per type. */
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { BillingEvent } from "./BillingEvent.ts";
import { BillingRule } from "./BillingRule.ts";
import { BillingRun } from "./BillingRun.ts";
import { BillingSchedule } from "./BillingSchedule.ts";
import { Contract } from "./Contract.ts";
import { Customer } from "./Customer.ts";
import { Expense } from "./Expense.ts";
import { FeeScheduleItem } from "./FeeScheduleItem.ts";
import { Milestone } from "./Milestone.ts";
import { Mutation } from "./Mutation.ts";
import { Project } from "./Project.ts";
import { Query } from "./Query.ts";
import { TimeEntry } from "./TimeEntry.ts";
import { UnbilledTotal } from "./UnbilledTotal.ts";

export const resolvers: Resolvers = {
  Query,
  Mutation,
  BillingEvent,
  BillingRule,
  BillingRun,
  BillingSchedule,
  Contract,
  Customer,
  Expense,
  FeeScheduleItem,
  Milestone,
  Project,
  TimeEntry,
  UnbilledTotal,
};
