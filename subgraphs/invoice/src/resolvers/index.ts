/** Invoice's resolver map: one file per type. */
import type { Resolvers } from "../__generated__/resolvers-types.ts";
import { BillingEvent } from "./BillingEvent.ts";
import { Contract } from "./Contract.ts";
import { Customer } from "./Customer.ts";
import { Dispute } from "./Dispute.ts";
import { Invoice } from "./Invoice.ts";
import { InvoiceLine } from "./InvoiceLine.ts";
import { Mutation } from "./Mutation.ts";
import { Payment } from "./Payment.ts";
import { Query } from "./Query.ts";

export const resolvers: Resolvers = {
  Query,
  BillingEvent,
  Contract,
  Customer,
  Dispute,
  Invoice,
  InvoiceLine,
  Payment,
  Mutation,
};
