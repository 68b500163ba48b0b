/**
 * Billing's resolver map: one file per type. `Mutation` joins the map only once it has fields
 * (until mutations.graphql exists, a `Mutation` resolver would name a type the schema lacks).
 */
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { BillingEvent } from "./BillingEvent.ts";
import { BillingRule } from "./BillingRule.ts";
import { Contract } from "./Contract.ts";
import { Customer } from "./Customer.ts";
import { Expense } from "./Expense.ts";
import { FeeScheduleItem } from "./FeeScheduleItem.ts";
import {
  AuditLogEntry,
  hubTableQueries,
  InboxEvent,
  LineageEvent,
  OutboundCommand,
  SyncCursor,
} from "./hub-tables.ts";
import { lineage } from "./Lineage.ts";
import { Milestone } from "./Milestone.ts";
import { Mutation } from "./Mutation.ts";
import { Project } from "./Project.ts";
import { Query } from "./Query.ts";
import { SyncException } from "./SyncException.ts";
import { TimeEntry } from "./TimeEntry.ts";
import { UnbilledTotal } from "./UnbilledTotal.ts";

export const resolvers: Resolvers = {
  Query: { ...Query, ...hubTableQueries, lineage },
  AuditLogEntry,
  InboxEvent,
  LineageEvent,
  OutboundCommand,
  SyncCursor,
  BillingEvent,
  BillingRule,
  Contract,
  Customer,
  Expense,
  FeeScheduleItem,
  Milestone,
  Project,
  SyncException,
  SyncExceptionEntity: {
    __resolveType: (entity) => entity.__typename,
  },
  TimeEntry,
  UnbilledTotal,
  ...(Object.keys(Mutation).length > 0 ? { Mutation } : {}),
};
