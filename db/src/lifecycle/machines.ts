/**
 * The lifecycle state machines, each defined once as a table of allowed transitions. Every
 * mutation and every inbound sync checks its transition here (`assertTransition`), with the row
 * locked (SELECT … FOR UPDATE) so that two concurrent calls can never both succeed.
 *
 * States are the enums of ../schema.ts, which are the graph's status enums value for value.
 * "Opportunity conversion" has no status column: its state is derived from the opportunity (see
 * `conversionState`), and its refusal speaks of the opportunity's stage (`assertConvertible`).
 */
import { DomainError, InvalidTransitionError } from "../errors.ts";
import type {
  billingEventStatus,
  contractStatus,
  disputeStatus,
  exceptionStatus,
  invoiceStatus,
  milestoneStatus,
  projectStatus,
  workStatus,
} from "../schema.ts";

type EnumValues<E extends { enumValues: readonly string[] }> = E["enumValues"][number];

export type ConversionState = "OPEN" | "CLOSED_WON" | "CLOSED_LOST" | "CONVERTED";
export type ContractStatus = EnumValues<typeof contractStatus>;
export type ProjectStatus = EnumValues<typeof projectStatus>;
export type MilestoneStatus = EnumValues<typeof milestoneStatus>;
export type WorkStatus = EnumValues<typeof workStatus>;
export type BillingEventStatus = EnumValues<typeof billingEventStatus>;
export type InvoiceStatus = EnumValues<typeof invoiceStatus>;
export type DisputeStatus = EnumValues<typeof disputeStatus>;
export type ExceptionStatus = EnumValues<typeof exceptionStatus>;

/** A state machine: for each state, the states it may move to. */
export interface StateMachine<S extends string> {
  entityType: string;
  states: readonly S[];
  transitions: { readonly [K in S]: readonly S[] };
}

function machine<S extends string>(
  entityType: string,
  transitions: { readonly [K in S]: readonly S[] },
): StateMachine<S> {
  return { entityType, states: Object.keys(transitions) as S[], transitions };
}

/** Opportunity conversion: only a closed-won, not yet converted opportunity converts (once). */
export const conversionMachine = machine<ConversionState>("opportunity", {
  OPEN: [],
  CLOSED_WON: ["CONVERTED"],
  CLOSED_LOST: [],
  CONVERTED: [],
});

export const contractMachine = machine<ContractStatus>("contract", {
  DRAFT: ["ACTIVE", "TERMINATED"],
  ACTIVE: ["COMPLETED", "TERMINATED"],
  COMPLETED: [],
  TERMINATED: [],
});

export const projectMachine = machine<ProjectStatus>("project", {
  PLANNED: ["ACTIVE", "CLOSED"],
  ACTIVE: ["ON_HOLD", "COMPLETED"],
  ON_HOLD: ["ACTIVE", "COMPLETED"],
  COMPLETED: ["CLOSED"],
  CLOSED: [],
});

/** OPEN → COMPLETED (delivered) → APPROVED (by the customer / PM) → BILLED (by runBilling). */
export const milestoneMachine = machine<MilestoneStatus>("milestone", {
  OPEN: ["COMPLETED"],
  COMPLETED: ["APPROVED", "OPEN"],
  APPROVED: ["BILLED"],
  BILLED: [],
});

/** Time entries and expenses. REJECTED may be corrected and resubmitted; BILLED is final. */
export const timeEntryMachine = machine<WorkStatus>("time_entry", {
  SUBMITTED: ["APPROVED", "REJECTED"],
  APPROVED: ["BILLED"],
  REJECTED: ["SUBMITTED"],
  BILLED: [],
});

export const expenseMachine = machine<WorkStatus>("expense", timeEntryMachine.transitions);

/** READY → INVOICED (generateInvoice); INVOICED → READY (voidInvoice releases it); READY → VOID. */
export const billingEventMachine = machine<BillingEventStatus>("billing_event", {
  READY: ["INVOICED", "VOID"],
  INVOICED: ["READY"],
  VOID: [],
});

/**
 * DRAFT → ISSUED (issueInvoice) → POSTED (the ERP accepted it) → PARTIALLY_PAID / PAID
 * (recordPayment; payments may also arrive before the ERP's posting is read back).
 * DISPUTED is entered from an open receivable and left (resolveDispute) to the state the invoice
 * was in. VOID releases the billing events; only an unpaid invoice can be voided.
 */
export const invoiceMachine = machine<InvoiceStatus>("invoice", {
  DRAFT: ["ISSUED", "VOID"],
  ISSUED: ["POSTED", "PARTIALLY_PAID", "PAID", "DISPUTED", "VOID"],
  POSTED: ["PARTIALLY_PAID", "PAID", "DISPUTED", "VOID"],
  PARTIALLY_PAID: ["PARTIALLY_PAID", "PAID", "DISPUTED"],
  PAID: [],
  DISPUTED: ["ISSUED", "POSTED", "PARTIALLY_PAID", "VOID"],
  VOID: [],
});

export const disputeMachine = machine<DisputeStatus>("dispute", {
  OPEN: ["RESOLVED"],
  RESOLVED: [],
});

/** The exception queue: retried by the hub, resolved or ignored by its owner. */
export const syncExceptionMachine = machine<ExceptionStatus>("sync_exception", {
  OPEN: ["RETRYING", "RESOLVED", "IGNORED"],
  RETRYING: ["OPEN", "RESOLVED", "IGNORED"],
  RESOLVED: [],
  IGNORED: ["OPEN"],
});

export const machines = {
  opportunity: conversionMachine,
  contract: contractMachine,
  project: projectMachine,
  milestone: milestoneMachine,
  time_entry: timeEntryMachine,
  expense: expenseMachine,
  billing_event: billingEventMachine,
  invoice: invoiceMachine,
  dispute: disputeMachine,
  sync_exception: syncExceptionMachine,
} as const;

export function canTransition<S extends string>(m: StateMachine<S>, from: S, to: S): boolean {
  return m.transitions[from]?.includes(to) ?? false;
}

/** Throws INVALID_TRANSITION (with from/to) unless `from → to` is in the machine's table. */
export function assertTransition<S extends string>(
  m: StateMachine<S>,
  id: string,
  from: S,
  to: S,
): void {
  if (!canTransition(m, from, to)) throw new InvalidTransitionError(m.entityType, id, from, to);
}

/** The derived conversion state of an opportunity. */
export function conversionState(o: {
  stage: string;
  isWon: boolean;
  convertedAt: Date | null;
}): ConversionState {
  if (o.convertedAt) return "CONVERTED";
  if (o.stage === "CLOSED_WON" && o.isWon) return "CLOSED_WON";
  if (o.stage === "CLOSED_LOST") return "CLOSED_LOST";
  return "OPEN";
}

/**
 * Throws INVALID_TRANSITION unless the opportunity can be converted, in the graph's terms: its
 * `stage` (an OpportunityStage) and a `reason` — NOT_CLOSED_WON (any other stage, or CLOSED_WON
 * without isWon) or ALREADY_CONVERTED (with `convertedAt`).
 */
export function assertConvertible(o: {
  id: string;
  stage: string;
  isWon: boolean;
  convertedAt: Date | null;
}): void {
  const state = conversionState(o);
  if (canTransition(conversionMachine, state, "CONVERTED")) return;
  const details = { entityType: "Opportunity", id: o.id, stage: o.stage, isWon: o.isWon };
  if (state === "CONVERTED") {
    throw new DomainError(
      "INVALID_TRANSITION",
      `Opportunity ${o.id} is already converted (at ${o.convertedAt!.toISOString()})`,
      { ...details, reason: "ALREADY_CONVERTED", convertedAt: o.convertedAt!.toISOString() },
    );
  }
  throw new DomainError(
    "INVALID_TRANSITION",
    o.stage === "CLOSED_WON"
      ? `Opportunity ${o.id} is CLOSED_WON but not marked won (isWon is false): only a won opportunity can be converted`
      : `Opportunity ${o.id} is in stage ${o.stage}: only a CLOSED_WON opportunity can be converted`,
    { ...details, reason: "NOT_CLOSED_WON" },
  );
}
