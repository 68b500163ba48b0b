/**
 * The quote-to-cash lifecycle: state machines, operations and lineage.
 *
 *   import { execute, operations } from "@pshub/db";   // once db/src/index.ts re-exports this
 *   const invoice = await execute(db, operations.issueInvoice, { actor, requestId }, { invoiceId },
 *     { idempotencyKey });
 *
 * Each operation is { name, input (zod), run(tx, ctx, input), auditRef }; `execute` wraps it in one
 * transaction with idempotency, audit, typed errors and sync exceptions (./operation.ts).
 */
import { runBilling } from "./billing.ts";
import { setBillingSchedule } from "./calendar.ts";
import { convertOpportunity } from "./conversion.ts";
import {
  activateProject,
  approveExpenses,
  approveMilestone,
  approveTimeEntries,
  completeMilestone,
  rejectExpenses,
  rejectTimeEntries,
} from "./delivery.ts";
import { disputeInvoice, resolveDispute } from "./disputes.ts";
import { ignoreException, replayCommand, resolveException, retryException } from "./exceptions.ts";
import { generateInvoice, issueInvoice, markInvoicePosted, voidInvoice } from "./invoicing.ts";
import { recordPayment } from "./payments.ts";

export * from "./billable.ts";
export * from "./billing.ts";
export * from "./calendar.ts";
export * from "./conversion.ts";
export * from "./delivery.ts";
export * from "./disputes.ts";
export * from "./exceptions.ts";
export * from "./invoicing.ts";
export * from "./leakage.ts";
export * from "./lineage.ts";
export * from "./machines.ts";
export * from "./money.ts";
export * from "./operation.ts";
export * from "./overdue.ts";
export * from "./payments.ts";
export * from "./unbilled.ts";

export const operations = {
  convertOpportunity,
  activateProject,
  approveTimeEntries,
  rejectTimeEntries,
  approveExpenses,
  rejectExpenses,
  completeMilestone,
  approveMilestone,
  runBilling,
  setBillingSchedule,
  generateInvoice,
  issueInvoice,
  markInvoicePosted,
  voidInvoice,
  recordPayment,
  disputeInvoice,
  resolveDispute,
  resolveException,
  ignoreException,
  retryException,
  replayCommand,
} as const;
