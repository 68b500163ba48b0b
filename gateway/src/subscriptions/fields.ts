/**
 * The subscription fields the gateway serves: which domain events feed each, which entity the
 * event carries (and the Query field that fetches it), and how the field's arguments filter.
 * Event types and payloads are those of db/src/domain-events.ts.
 */
import type { DomainEventRecord, EventFacts, EventFilter } from "@pshub/db/outbox";

export type FieldArgs = Record<string, unknown>;

export interface SubscriptionField {
  /** Domain event types that feed the field. */
  types: readonly string[];
  /** The event type's field holding the entity (`invoice`), and the Query field that loads it. */
  entityField: string;
  entityQuery: string;
  /** Id of the entity the event is about (undefined: the event is skipped). */
  entityId(event: DomainEventRecord, facts: EventFacts): string | undefined;
  /** What the database can filter on (replays) and the reader filters in memory. */
  filter(args: FieldArgs): EventFilter;
  /** The rest of the arguments, checked against the event's facts. */
  matches(args: FieldArgs, event: DomainEventRecord, facts: EventFacts): boolean;
  /** previousStatus / status shown on the event. */
  status(event: DomainEventRecord, facts: EventFacts): { previous?: string; current?: string };
}

const given = (value: unknown): value is string => typeof value === "string" && value !== "";
const same = (arg: unknown, fact: string | undefined) => !given(arg) || arg === fact;
const transition = (_e: DomainEventRecord, facts: EventFacts) => ({
  previous: facts.previousStatus,
  current: facts.status,
});

export const INVOICE_EVENT_TYPES = [
  "invoice.created",
  "invoice.status_changed",
  "payment.recorded",
  "dispute.opened",
  "dispute.resolved",
] as const;

/** Raising an exception and every move of it (retry, resolve, ignore, reopen). */
export const SYNC_EXCEPTION_EVENT_TYPES = [
  "sync_exception.raised",
  "sync_exception.status_changed",
] as const;

/**
 * `<entity>.status_changed` of one project's work (time entries, expenses, milestones), from a
 * mutation or from inbound sync alike (the CDC applier runs the same operations): narrowed by
 * `projectId` and the status moved to.
 */
const workStatusChanged = (
  type: "time_entry.status_changed" | "expense.status_changed" | "milestone.status_changed",
  entity: string,
): SubscriptionField => ({
  types: [type],
  entityField: entity,
  entityQuery: entity,
  entityId: (e) => e.entityId,
  filter: () => ({ types: [type] }),
  matches: (args, _e, facts) =>
    same(args.projectId, facts.projectId) && same(args.status, facts.status),
  status: transition,
});

export const SUBSCRIPTION_FIELDS: Record<string, SubscriptionField> = {
  invoiceStatusChanged: {
    types: ["invoice.status_changed"],
    entityField: "invoice",
    entityQuery: "invoice",
    entityId: (e) => e.entityId,
    filter: (args) => ({
      types: ["invoice.status_changed"],
      ...(given(args.invoiceId) ? { entityIds: [args.invoiceId] } : {}),
    }),
    matches: (args, _e, facts) =>
      same(args.customerId, facts.customerId) && same(args.status, facts.status),
    status: transition,
  },
  invoiceEvents: {
    types: INVOICE_EVENT_TYPES,
    entityField: "invoice",
    entityQuery: "invoice",
    entityId: (_e, facts) => facts.invoiceId,
    filter: () => ({ types: INVOICE_EVENT_TYPES }),
    matches: (args, _e, facts) => same(args.customerId, facts.customerId),
    status: (e, facts) =>
      e.type === "invoice.status_changed" || e.type === "invoice.created"
        ? { previous: facts.previousStatus, current: facts.status }
        : {},
  },
  projectStatusChanged: {
    types: ["project.status_changed"],
    entityField: "project",
    entityQuery: "project",
    entityId: (e) => e.entityId,
    filter: (args) => ({
      types: ["project.status_changed"],
      ...(given(args.projectId) ? { entityIds: [args.projectId] } : {}),
    }),
    matches: (args, _e, facts) => same(args.customerId, facts.customerId),
    status: transition,
  },
  timeEntryStatusChanged: workStatusChanged("time_entry.status_changed", "timeEntry"),
  expenseStatusChanged: workStatusChanged("expense.status_changed", "expense"),
  milestoneStatusChanged: workStatusChanged("milestone.status_changed", "milestone"),
  billingEventCreated: {
    types: ["billing_event.created"],
    entityField: "billingEvent",
    entityQuery: "billingEvent",
    entityId: (e) => e.entityId,
    filter: () => ({ types: ["billing_event.created"] }),
    matches: (args, _e, facts) => same(args.contractId, facts.contractId),
    status: () => ({ current: "READY" }),
  },
  syncExceptionRaised: {
    types: SYNC_EXCEPTION_EVENT_TYPES,
    entityField: "syncException",
    entityQuery: "syncException",
    entityId: (e) => e.entityId,
    filter: () => ({ types: SYNC_EXCEPTION_EVENT_TYPES }),
    matches: (args, _e, facts) => same(args.owner, facts.owner),
    status: (e, facts) =>
      e.type === "sync_exception.raised"
        ? { current: "OPEN" }
        : { previous: facts.previousStatus, current: facts.status },
  },
};
