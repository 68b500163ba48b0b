/**
 * The canonical model of pshub (docs/architecture.md).
 *
 * Glossary
 * - customer: a billed party in the ERP sense (an Account in Salesforce); may have a parent.
 * - legal entity: the firm's own invoicing company (currency, tax jurisdiction, invoice numbering).
 * - contract: the commercial terms a closed-won opportunity becomes; one billing model each.
 * - billing event: one invoice-ready item (hours, an expense, a milestone, a fee, a retainer period).
 *   Unique per (source_type, source_id, period): the database refuses to bill one item twice.
 * - source link: which external record (system, object, external id) a canonical row came from.
 * - inbox event: one inbound change as received, kept raw for replay.
 * - domain event: the outbox; subscriptions, lineage and audit read it.
 * - outbound command: one write-back to an external system, idempotent by key.
 * - sync exception: what the hub could not do, routed to an owner with remediation text.
 *
 * Money is numeric(18,2) + an ISO-4217 currency, always read as a string: never a float.
 * Columns are snake_case in SQL and camelCase here (drizzle `casing: "snake_case"`).
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  char,
  check,
  customType,
  date,
  index,
  integer,
  json,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

// ---------------------------------------------------------------------------------------------
// Column helpers
// ---------------------------------------------------------------------------------------------

/** Money amount: numeric(18,2), read and written as a decimal string. */
const money = () => numeric({ precision: 18, scale: 2 });
/** Quantities such as hours: numeric(12,2). */
const quantity = () => numeric({ precision: 12, scale: 2 });
/** ISO-4217 currency code. */
const currency = () => char({ length: 3 });
const timestamptz = () => timestamp({ withTimezone: true, mode: "date" });

/** PostgreSQL `xid8`: the id of the transaction that wrote a row (used to close the outbox gap). */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => "xid8" });

/** Columns every canonical row has: id, timestamps and an optimistic-concurrency version. */
const entityColumns = () => ({
  id: uuid().primaryKey().defaultRandom(),
  createdAt: timestamptz().notNull().defaultNow(),
  updatedAt: timestamptz().notNull().defaultNow(),
  version: integer().notNull().default(1),
});

const currencyCheck = (name: string, column: AnyPgColumn) =>
  check(name, sql`${column} ~ '^[A-Z]{3}$'`);

// ---------------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------------

export const customerStatus = pgEnum("customer_status", ["ACTIVE", "ON_HOLD", "INACTIVE"]);
export const opportunityStage = pgEnum("opportunity_stage", [
  "PROSPECTING",
  "QUALIFICATION",
  "PROPOSAL",
  "NEGOTIATION",
  "CLOSED_WON",
  "CLOSED_LOST",
]);
export const billingModel = pgEnum("billing_model", [
  "TIME_AND_MATERIALS",
  "FIXED_FEE",
  "RETAINER",
  "MILESTONE",
]);
export const contractStatus = pgEnum("contract_status", [
  "DRAFT",
  "ACTIVE",
  "COMPLETED",
  "TERMINATED",
]);
export const projectStatus = pgEnum("project_status", [
  "PLANNED",
  "ACTIVE",
  "ON_HOLD",
  "COMPLETED",
  "CLOSED",
]);
export const milestoneStatus = pgEnum("milestone_status", [
  "OPEN",
  "COMPLETED",
  "APPROVED",
  "BILLED",
]);
/** Shared by time entries and expenses. */
export const workStatus = pgEnum("work_status", ["SUBMITTED", "APPROVED", "REJECTED", "BILLED"]);
export const billingSourceType = pgEnum("billing_source_type", [
  "TIME",
  "EXPENSE",
  "MILESTONE",
  "FIXED_FEE",
  "RETAINER",
]);
/**
 * How a RETAINER bills a month the contract covers only in part (it starts or ends inside it):
 * NONE bills the full retainer; DAILY bills retainer × days covered / days in the month (and
 * covers that share of the retainer hours), rounded half-even to cents.
 */
export const retainerProration = pgEnum("retainer_proration", ["NONE", "DAILY"]);
export const billingEventStatus = pgEnum("billing_event_status", ["READY", "INVOICED", "VOID"]);
export const invoiceStatus = pgEnum("invoice_status", [
  "DRAFT",
  "ISSUED",
  "POSTED",
  "PARTIALLY_PAID",
  "PAID",
  "DISPUTED",
  "VOID",
]);
export const disputeStatus = pgEnum("dispute_status", ["OPEN", "RESOLVED"]);
export const feeScheduleStatus = pgEnum("fee_schedule_status", ["SCHEDULED", "BILLED"]);
/** When a contract's billing calendar bills it (see lifecycle/calendar.ts). */
export const billingScheduleKind = pgEnum("billing_schedule_kind", [
  "MONTHLY",
  "MILESTONE",
  "FIXED_FEE_DATES",
]);
export const billingRunStatus = pgEnum("billing_run_status", [
  "INVOICED",
  "ISSUED",
  "NOTHING_TO_BILL",
  "FAILED",
]);

export const externalSystem = pgEnum("external_system", ["SALESFORCE", "PSA", "ERP"]);
export const inboxStatus = pgEnum("inbox_status", ["RECEIVED", "APPLIED", "SKIPPED", "FAILED"]);
export const commandState = pgEnum("command_state", [
  "PENDING",
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
  "CANCELLED",
]);
export const exceptionOwner = pgEnum("exception_owner", [
  "FINANCE",
  "PROJECT_OPS",
  "SALES_OPS",
  "INTEGRATION",
]);
export const exceptionSeverity = pgEnum("exception_severity", [
  "LOW",
  "MEDIUM",
  "HIGH",
  "CRITICAL",
]);
export const exceptionStatus = pgEnum("exception_status", [
  "OPEN",
  "RETRYING",
  "RESOLVED",
  "IGNORED",
]);

// ---------------------------------------------------------------------------------------------
// Reference data
// ---------------------------------------------------------------------------------------------

/** The firm's own invoicing companies. */
export const legalEntity = pgTable(
  "legal_entity",
  {
    ...entityColumns(),
    code: text().notNull(),
    name: text().notNull(),
    country: char({ length: 2 }).notNull(),
    currency: currency().notNull(),
    taxJurisdiction: text().notNull(),
    invoicePrefix: text().notNull(),
  },
  (t) => [
    uniqueIndex("legal_entity_code_key").on(t.code),
    currencyCheck("legal_entity_currency_iso", t.currency),
  ],
);

/** Sales-tax / VAT rate per jurisdiction, effective from a date. */
export const taxRate = pgTable(
  "tax_rate",
  {
    ...entityColumns(),
    jurisdiction: text().notNull(),
    /** A fraction, e.g. 0.2000 for 20 %. */
    rate: numeric({ precision: 7, scale: 4 }).notNull(),
    validFrom: date().notNull(),
  },
  (t) => [
    uniqueIndex("tax_rate_jurisdiction_valid_from_key").on(t.jurisdiction, t.validFrom),
    check("tax_rate_range", sql`${t.rate} >= 0 and ${t.rate} < 1`),
  ],
);

// ---------------------------------------------------------------------------------------------
// Commercial (owned by Salesforce)
// ---------------------------------------------------------------------------------------------

export const customer = pgTable(
  "customer",
  {
    ...entityColumns(),
    name: text().notNull(),
    parentId: uuid().references((): AnyPgColumn => customer.id),
    legalEntityId: uuid().references(() => legalEntity.id),
    taxJurisdiction: text(),
    currency: currency().notNull(),
    billingContactName: text(),
    billingEmail: text(),
    status: customerStatus().notNull().default("ACTIVE"),
  },
  (t) => [
    index("customer_parent_id_idx").on(t.parentId),
    index("customer_legal_entity_id_idx").on(t.legalEntityId),
    check("customer_not_own_parent", sql`${t.parentId} is distinct from ${t.id}`),
    currencyCheck("customer_currency_iso", t.currency),
  ],
);

export const contact = pgTable(
  "contact",
  {
    ...entityColumns(),
    customerId: uuid()
      .notNull()
      .references(() => customer.id),
    name: text().notNull(),
    email: text(),
    phone: text(),
    title: text(),
    isBillingContact: boolean().notNull().default(false),
  },
  (t) => [index("contact_customer_id_idx").on(t.customerId)],
);

export const opportunity = pgTable(
  "opportunity",
  {
    ...entityColumns(),
    customerId: uuid()
      .notNull()
      .references(() => customer.id),
    name: text().notNull(),
    stage: opportunityStage().notNull(),
    amount: money().notNull(),
    currency: currency().notNull(),
    closeDate: date().notNull(),
    billingModel: billingModel(),
    isWon: boolean().notNull().default(false),
    convertedAt: timestamptz(),
    /** Commercial terms that conversion turns into a contract (all optional until then). */
    legalEntityId: uuid().references(() => legalEntity.id),
    /**
     * The deal's tax jurisdiction (Opportunity.Tax_Jurisdiction__c), when the deal names one. The
     * hub taxes per customer, so conversion requires it to agree with the account's (and gives it
     * to an account that has none).
     */
    taxJurisdiction: text(),
    startDate: date(),
    endDate: date(),
    paymentTermsDays: integer(),
    retainerAmount: money(),
    retainerHours: quantity(),
    /** RETAINER: proration of partial months (null = the contract's default, NONE). */
    retainerProration: retainerProration(),
    budgetHours: quantity(),
    /** FIXED_FEE: number of equal instalments; MILESTONE: number of milestones. */
    installments: integer(),
  },
  (t) => [
    index("opportunity_customer_id_idx").on(t.customerId),
    index("opportunity_stage_idx").on(t.stage),
    check("opportunity_amount_nonnegative", sql`${t.amount} >= 0`),
    check(
      "opportunity_won_is_closed_won",
      sql`(${t.isWon} = false) or (${t.stage} = 'CLOSED_WON')`,
    ),
    currencyCheck("opportunity_currency_iso", t.currency),
  ],
);

export const contract = pgTable(
  "contract",
  {
    ...entityColumns(),
    number: text().notNull(),
    customerId: uuid()
      .notNull()
      .references(() => customer.id),
    opportunityId: uuid().references(() => opportunity.id),
    legalEntityId: uuid()
      .notNull()
      .references(() => legalEntity.id),
    billingModel: billingModel().notNull(),
    totalValue: money().notNull(),
    currency: currency().notNull(),
    /** RETAINER: the fixed amount billed per period and the hours it covers. */
    retainerAmount: money(),
    retainerHours: quantity(),
    /** RETAINER: how a month covered only in part is billed (a contract term). */
    retainerProration: retainerProration().notNull().default("NONE"),
    startDate: date().notNull(),
    endDate: date(),
    paymentTermsDays: integer().notNull().default(30),
    status: contractStatus().notNull().default("DRAFT"),
    correlationId: uuid(),
  },
  (t) => [
    uniqueIndex("contract_number_key").on(t.number),
    /** A won opportunity converts once. */
    uniqueIndex("contract_opportunity_id_key").on(t.opportunityId),
    index("contract_customer_id_idx").on(t.customerId),
    check("contract_total_nonnegative", sql`${t.totalValue} >= 0`),
    check("contract_payment_terms", sql`${t.paymentTermsDays} between 0 and 365`),
    check(
      "contract_retainer_terms",
      sql`${t.billingModel} <> 'RETAINER' or (${t.retainerAmount} is not null and ${t.retainerHours} is not null)`,
    ),
    check("contract_dates", sql`${t.endDate} is null or ${t.endDate} >= ${t.startDate}`),
    currencyCheck("contract_currency_iso", t.currency),
  ],
);

/** FIXED_FEE contracts: the schedule of amounts billed when due. */
export const feeScheduleItem = pgTable(
  "fee_schedule_item",
  {
    ...entityColumns(),
    contractId: uuid()
      .notNull()
      .references(() => contract.id),
    description: text().notNull(),
    dueDate: date().notNull(),
    amount: money().notNull(),
    currency: currency().notNull(),
    status: feeScheduleStatus().notNull().default("SCHEDULED"),
  },
  (t) => [
    index("fee_schedule_item_contract_id_idx").on(t.contractId),
    check("fee_schedule_item_amount_positive", sql`${t.amount} > 0`),
  ],
);

// ---------------------------------------------------------------------------------------------
// Delivery (owned by the PSA)
// ---------------------------------------------------------------------------------------------

export const project = pgTable(
  "project",
  {
    ...entityColumns(),
    code: text().notNull(),
    name: text().notNull(),
    contractId: uuid()
      .notNull()
      .references(() => contract.id),
    customerId: uuid()
      .notNull()
      .references(() => customer.id),
    budgetHours: quantity(),
    budgetAmount: money(),
    currency: currency().notNull(),
    startDate: date().notNull(),
    endDate: date(),
    status: projectStatus().notNull().default("PLANNED"),
    correlationId: uuid(),
  },
  (t) => [
    uniqueIndex("project_code_key").on(t.code),
    index("project_contract_id_idx").on(t.contractId),
    index("project_customer_id_idx").on(t.customerId),
    currencyCheck("project_currency_iso", t.currency),
  ],
);

export const milestone = pgTable(
  "milestone",
  {
    ...entityColumns(),
    projectId: uuid()
      .notNull()
      .references(() => project.id),
    name: text().notNull(),
    amount: money().notNull(),
    currency: currency().notNull(),
    dueDate: date().notNull(),
    completedOn: date(),
    approvedAt: timestamptz(),
    approvedBy: text(),
    status: milestoneStatus().notNull().default("OPEN"),
  },
  (t) => [
    index("milestone_project_id_idx").on(t.projectId),
    check("milestone_amount_nonnegative", sql`${t.amount} >= 0`),
  ],
);

export const resource = pgTable(
  "resource",
  {
    ...entityColumns(),
    name: text().notNull(),
    email: text().notNull(),
    role: text().notNull(),
    legalEntityId: uuid().references(() => legalEntity.id),
    billRate: money().notNull(),
    costRate: money().notNull(),
    currency: currency().notNull(),
    active: boolean().notNull().default(true),
  },
  (t) => [
    uniqueIndex("resource_email_key").on(t.email),
    check("resource_rates_nonnegative", sql`${t.billRate} >= 0 and ${t.costRate} >= 0`),
  ],
);

/** A resource staffed on a project, with an optional rate override. */
export const assignment = pgTable(
  "assignment",
  {
    ...entityColumns(),
    resourceId: uuid()
      .notNull()
      .references(() => resource.id),
    projectId: uuid()
      .notNull()
      .references(() => project.id),
    role: text().notNull(),
    billRateOverride: money(),
    startDate: date(),
    endDate: date(),
  },
  (t) => [
    uniqueIndex("assignment_resource_project_key").on(t.resourceId, t.projectId),
    index("assignment_project_id_idx").on(t.projectId),
  ],
);

export const timeEntry = pgTable(
  "time_entry",
  {
    ...entityColumns(),
    projectId: uuid()
      .notNull()
      .references(() => project.id),
    resourceId: uuid()
      .notNull()
      .references(() => resource.id),
    workDate: date().notNull(),
    hours: quantity().notNull(),
    billable: boolean().notNull().default(true),
    /** The bill rate in force when the time was entered (a snapshot, not a reference). */
    billRate: money().notNull(),
    currency: currency().notNull(),
    description: text(),
    status: workStatus().notNull().default("SUBMITTED"),
    approvedAt: timestamptz(),
    approvedBy: text(),
  },
  (t) => [
    index("time_entry_project_status_idx").on(t.projectId, t.status),
    index("time_entry_resource_id_idx").on(t.resourceId),
    index("time_entry_work_date_idx").on(t.workDate),
    /** The time billing can still bill (billable.ts): a few thousand of ~200,000 entries at scale 40. */
    index("time_entry_billable_approved_idx")
      .on(t.projectId, t.workDate)
      .where(sql`${t.status} = 'APPROVED' and ${t.billable}`),
    check("time_entry_hours_range", sql`${t.hours} > 0 and ${t.hours} <= 24`),
    check("time_entry_rate_nonnegative", sql`${t.billRate} >= 0`),
  ],
);

export const expense = pgTable(
  "expense",
  {
    ...entityColumns(),
    projectId: uuid()
      .notNull()
      .references(() => project.id),
    resourceId: uuid()
      .notNull()
      .references(() => resource.id),
    incurredOn: date().notNull(),
    amount: money().notNull(),
    currency: currency().notNull(),
    category: text().notNull(),
    billable: boolean().notNull().default(true),
    description: text(),
    status: workStatus().notNull().default("SUBMITTED"),
    approvedAt: timestamptz(),
    approvedBy: text(),
  },
  (t) => [
    index("expense_project_status_idx").on(t.projectId, t.status),
    check("expense_amount_positive", sql`${t.amount} > 0`),
  ],
);

// ---------------------------------------------------------------------------------------------
// Billing and invoicing (owned by pshub until posted; the ERP owns posting, tax and payments)
// ---------------------------------------------------------------------------------------------

export const billingEvent = pgTable(
  "billing_event",
  {
    ...entityColumns(),
    contractId: uuid()
      .notNull()
      .references(() => contract.id),
    projectId: uuid().references(() => project.id),
    customerId: uuid()
      .notNull()
      .references(() => customer.id),
    sourceType: billingSourceType().notNull(),
    /** The billed item: a time entry, expense, milestone, fee schedule item or contract (retainer). */
    sourceId: uuid().notNull(),
    /** The billing period the item belongs to, e.g. '2026-10' ('' when the item is period-less). */
    period: text().notNull().default(""),
    description: text().notNull(),
    quantity: quantity().notNull(),
    rate: money().notNull(),
    amount: money().notNull(),
    currency: currency().notNull(),
    status: billingEventStatus().notNull().default("READY"),
    correlationId: uuid(),
  },
  (t) => [
    uniqueIndex("billing_event_source_period_key").on(t.sourceType, t.sourceId, t.period),
    index("billing_event_contract_status_idx").on(t.contractId, t.status),
    /** Billed, on no invoice yet: the unbilled and leakage KPIs read these (~9,000 of 70,000 at scale 40). */
    index("billing_event_ready_idx").on(t.contractId).where(sql`${t.status} = 'READY'`),
    index("billing_event_project_id_idx").on(t.projectId),
    index("billing_event_customer_id_idx").on(t.customerId),
    currencyCheck("billing_event_currency_iso", t.currency),
  ],
);

/**
 * Each legal entity's invoice number series: `last_number` is the last number it issued. An
 * issuing transaction takes the next one by updating this row (a row lock held to its commit),
 * so concurrent issues of one entity queue, a rollback hands its number back, and the series has
 * no gap (a Postgres sequence would leave one). Numbers are `<invoice_prefix><n>`, n from 1.
 */
export const invoiceNumberSeries = pgTable(
  "invoice_number_series",
  {
    legalEntityId: uuid()
      .primaryKey()
      .references(() => legalEntity.id),
    lastNumber: integer().notNull().default(0),
    updatedAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [check("invoice_number_series_nonnegative", sql`${t.lastNumber} >= 0`)],
);

export const invoice = pgTable(
  "invoice",
  {
    ...entityColumns(),
    /**
     * `<legal entity prefix><n>` from the entity's unbroken series, assigned by issueInvoice in
     * the issuing transaction; null while DRAFT (and on a draft that was voided).
     */
    number: text(),
    customerId: uuid()
      .notNull()
      .references(() => customer.id),
    contractId: uuid()
      .notNull()
      .references(() => contract.id),
    legalEntityId: uuid()
      .notNull()
      .references(() => legalEntity.id),
    currency: currency().notNull(),
    periodEnd: date(),
    subtotal: money().notNull().default("0"),
    taxRate: numeric({ precision: 7, scale: 4 }).notNull().default("0"),
    tax: money().notNull().default("0"),
    total: money().notNull().default("0"),
    amountPaid: money().notNull().default("0"),
    issuedOn: date(),
    dueOn: date(),
    postedAt: timestamptz(),
    erpNumber: text(),
    status: invoiceStatus().notNull().default("DRAFT"),
    correlationId: uuid(),
  },
  (t) => [
    uniqueIndex("invoice_number_key").on(t.number),
    uniqueIndex("invoice_erp_number_key").on(t.erpNumber),
    index("invoice_customer_id_idx").on(t.customerId),
    index("invoice_contract_id_idx").on(t.contractId),
    index("invoice_status_idx").on(t.status),
    /** A draft has no number; an invoice out with the customer has one (a voided one keeps it). */
    check(
      "invoice_numbered_once_issued",
      sql`${t.status} = 'VOID' or (${t.status} = 'DRAFT') = (${t.number} is null)`,
    ),
    check("invoice_total_is_sum", sql`${t.total} = ${t.subtotal} + ${t.tax}`),
    check("invoice_paid_range", sql`${t.amountPaid} >= 0 and ${t.amountPaid} <= ${t.total}`),
    currencyCheck("invoice_currency_iso", t.currency),
  ],
);

export const invoiceLine = pgTable(
  "invoice_line",
  {
    ...entityColumns(),
    invoiceId: uuid()
      .notNull()
      .references(() => invoice.id),
    billingEventId: uuid()
      .notNull()
      .references(() => billingEvent.id),
    lineNo: integer().notNull(),
    description: text().notNull(),
    quantity: quantity().notNull(),
    unitPrice: money().notNull(),
    amount: money().notNull(),
    currency: currency().notNull(),
    /** Set when the invoice is voided; its billing event may then be billed again. */
    voidedAt: timestamptz(),
  },
  (t) => [
    /** An item is billed once: at most one live line per billing event. */
    uniqueIndex("invoice_line_billing_event_live_key")
      .on(t.billingEventId)
      .where(sql`${t.voidedAt} is null`),
    uniqueIndex("invoice_line_invoice_line_no_key").on(t.invoiceId, t.lineNo),
  ],
);

/**
 * A contract's billing calendar: bill it without anyone pressing buttons. MONTHLY bills each
 * completed month (periodEnd = its last day), MILESTONE bills when a milestone is approved,
 * FIXED_FEE_DATES bills on the fee schedule's due dates. `autoIssue` also issues the invoice
 * (which queues its ERP posting); otherwise it stays a DRAFT for finance to check.
 */
export const billingSchedule = pgTable(
  "billing_schedule",
  {
    ...entityColumns(),
    contractId: uuid()
      .notNull()
      .references(() => contract.id),
    kind: billingScheduleKind().notNull(),
    enabled: boolean().notNull().default(true),
    autoIssue: boolean().notNull().default(false),
    /** Who last changed the schedule. */
    updatedBy: text(),
  },
  (t) => [uniqueIndex("billing_schedule_contract_id_key").on(t.contractId)],
);

/**
 * One billing-calendar run per (contract, period): the unique key is what makes a restart or a
 * second scheduler bill a period once — the row is written in the same transaction as the
 * billing events and the invoice. Period keys: 'YYYY-MM' (MONTHLY), 'M:<milestone id>'
 * (MILESTONE), 'F:<due date>' (FIXED_FEE_DATES), 'S<n>:<slice start>' (the demo's n-second
 * periods). A FAILED run is retried after `next_attempt_at`.
 */
export const billingRun = pgTable(
  "billing_run",
  {
    id: uuid().primaryKey().defaultRandom(),
    contractId: uuid()
      .notNull()
      .references(() => contract.id),
    period: text().notNull(),
    kind: billingScheduleKind().notNull(),
    periodEnd: date().notNull(),
    status: billingRunStatus().notNull(),
    eventsCreated: integer().notNull().default(0),
    invoiceId: uuid().references(() => invoice.id),
    attempts: integer().notNull().default(1),
    lastError: text(),
    nextAttemptAt: timestamptz(),
    /** The scheduler that ran it (for diagnosis). */
    runner: text().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
    updatedAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [uniqueIndex("billing_run_contract_period_key").on(t.contractId, t.period)],
);

export const payment = pgTable(
  "payment",
  {
    ...entityColumns(),
    invoiceId: uuid()
      .notNull()
      .references(() => invoice.id),
    amount: money().notNull(),
    currency: currency().notNull(),
    receivedOn: date().notNull(),
    reference: text(),
    /** The ERP's id of the payment; unique so that a payment read back twice is recorded once. */
    erpId: text(),
    correlationId: uuid(),
  },
  (t) => [
    uniqueIndex("payment_erp_id_key").on(t.erpId),
    index("payment_invoice_id_idx").on(t.invoiceId),
    check("payment_amount_positive", sql`${t.amount} > 0`),
  ],
);

export const dispute = pgTable(
  "dispute",
  {
    ...entityColumns(),
    invoiceId: uuid()
      .notNull()
      .references(() => invoice.id),
    reason: text().notNull(),
    openedBy: text().notNull(),
    resolution: text(),
    resolvedAt: timestamptz(),
    resolvedBy: text(),
    status: disputeStatus().notNull().default("OPEN"),
  },
  (t) => [
    index("dispute_invoice_id_idx").on(t.invoiceId),
    /** One open dispute per invoice. */
    uniqueIndex("dispute_open_per_invoice_key").on(t.invoiceId).where(sql`${t.status} = 'OPEN'`),
  ],
);

// ---------------------------------------------------------------------------------------------
// Hub infrastructure
// ---------------------------------------------------------------------------------------------

/** Canonical row ↔ external record, unique both ways. */
export const sourceLink = pgTable(
  "source_link",
  {
    id: uuid().primaryKey().defaultRandom(),
    entityType: text().notNull(),
    entityId: uuid().notNull(),
    system: externalSystem().notNull(),
    object: text().notNull(),
    externalId: text().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
    lastSeenAt: timestamptz().notNull().defaultNow(),
    /** The source's modification time of the last change applied through this link: an older
     *  change arriving later (out of order, replayed) is skipped as stale. */
    sourceModifiedAt: timestamptz(),
  },
  (t) => [
    uniqueIndex("source_link_entity_system_key").on(t.entityType, t.entityId, t.system),
    uniqueIndex("source_link_external_key").on(t.system, t.object, t.externalId),
  ],
);

/** Per connector and object: where polling resumes, and how far behind it is. */
export const syncCursor = pgTable(
  "sync_cursor",
  {
    id: uuid().primaryKey().defaultRandom(),
    connector: text().notNull(),
    object: text().notNull(),
    cursor: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    lastSuccessAt: timestamptz(),
    lastErrorAt: timestamptz(),
    lastError: text(),
    lagMs: integer(),
    /** Counters for syncStatus: records ingested (in), canonical rows written (out), records
     *  that failed, and fields ignored because this source does not own them. */
    recordsIn: bigint({ mode: "number" }).notNull().default(0),
    recordsOut: bigint({ mode: "number" }).notNull().default(0),
    errorCount: bigint({ mode: "number" }).notNull().default(0),
    ignoredFields: bigint({ mode: "number" }).notNull().default(0),
    /** API budget as the source last reported it (e.g. Sforce-Limit-Info api-usage=used/limit). */
    apiBudgetUsed: integer(),
    apiBudgetLimit: integer(),
    /** The source asked us to back off (rate limit, daily budget) until then. */
    pausedUntil: timestamptz(),
    /** Which process polls this object now (leader lock holder), and when it last polled. */
    leader: text(),
    lastPollAt: timestamptz(),
    updatedAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [uniqueIndex("sync_cursor_connector_object_key").on(t.connector, t.object)],
);

/**
 * The history of sync_cursor.lag_ms: one sample per cursor save that carries a lag (the engine's
 * sync cycle, db sync/inbox.ts saveCursor), in the same transaction; samples older than
 * SYNC_LAG_RETENTION are pruned there. Kpis.syncHealth reads p50/p99 over the last 24 h from it.
 */
export const syncLagSample = pgTable(
  "sync_lag_sample",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    connector: text().notNull(),
    object: text().notNull(),
    lagMs: integer().notNull(),
    sampledAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [index("sync_lag_sample_object_at_idx").on(t.connector, t.object, t.sampledAt)],
);

/** Every inbound change as received; unique per source + dedupe key. */
export const inboxEvent = pgTable(
  "inbox_event",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    source: text().notNull(),
    dedupeKey: text().notNull(),
    object: text().notNull(),
    externalId: text(),
    /** The record as received, json (its text as written, not reparsed into jsonb: the inbox
     *  keeps it for replay and the ops views, and nothing queries inside it). */
    payload: json().notNull(),
    status: inboxStatus().notNull().default("RECEIVED"),
    attempts: integer().notNull().default(0),
    error: text(),
    receivedAt: timestamptz().notNull().defaultNow(),
    processedAt: timestamptz(),
    system: externalSystem(),
    /** Why the event is in its state: what was applied, why skipped, why it failed or waits. */
    reason: text(),
    /** RECEIVED and waiting for a parent record that has not arrived: `SYSTEM:object:externalId`.
     *  Retried when that parent is applied (and at least every few minutes). */
    waitingFor: text(),
    nextAttemptAt: timestamptz(),
    /** The canonical row the event was applied to. */
    entityType: text(),
    entityId: uuid(),
    sourceModifiedAt: timestamptz(),
    /** Fields the source sent but does not own (DESIGN "which system owns which state"). */
    ignoredFields: text().array(),
  },
  (t) => [
    uniqueIndex("inbox_event_source_dedupe_key").on(t.source, t.dedupeKey),
    index("inbox_event_status_idx").on(t.status),
    index("inbox_event_waiting_for_idx").on(t.waitingFor).where(sql`${t.waitingFor} is not null`),
    index("inbox_event_received_idx").on(t.id).where(sql`${t.status} = 'RECEIVED'`),
  ],
);

/**
 * The outbox. `txId` is the writing transaction (pg_current_xact_id()): a reader of `id > last`
 * reads only rows below the oldest transaction still in flight, so a row whose bigserial id was
 * taken before a later-committing transaction is never passed over.
 */
export const domainEvent = pgTable(
  "domain_event",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    type: text().notNull(),
    entityType: text().notNull(),
    entityId: uuid().notNull(),
    payload: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    correlationId: uuid(),
    causationId: text(),
    actor: text().notNull(),
    occurredAt: timestamptz().notNull().defaultNow(),
    txId: xid8().notNull().default(sql`pg_current_xact_id()`),
  },
  (t) => [
    index("domain_event_entity_idx").on(t.entityType, t.entityId),
    index("domain_event_correlation_id_idx").on(t.correlationId),
    index("domain_event_type_idx").on(t.type),
  ],
);

/** Write-back to an external system: idempotent by key, claimed with FOR UPDATE SKIP LOCKED. */
export const outboundCommand = pgTable(
  "outbound_command",
  {
    id: uuid().primaryKey().defaultRandom(),
    /**
     * Queue order: commands queued in one transaction share `created_at` (now() is the
     * transaction's start), so one entity's commands run in `seq` order, not by timestamp.
     */
    seq: bigserial({ mode: "number" }).notNull(),
    target: externalSystem().notNull(),
    kind: text().notNull(),
    idempotencyKey: text().notNull(),
    entityType: text().notNull(),
    entityId: uuid().notNull(),
    payload: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    state: commandState().notNull().default("PENDING"),
    attempts: integer().notNull().default(0),
    maxAttempts: integer().notNull().default(10),
    nextAttemptAt: timestamptz().notNull().defaultNow(),
    lockedAt: timestamptz(),
    lockedBy: text(),
    lastError: text(),
    result: jsonb().$type<Record<string, unknown>>(),
    correlationId: uuid(),
    createdAt: timestamptz().notNull().defaultNow(),
    updatedAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("outbound_command_idempotency_key").on(t.idempotencyKey),
    index("outbound_command_ready_idx").on(t.nextAttemptAt).where(sql`${t.state} = 'PENDING'`),
    index("outbound_command_entity_idx").on(t.entityType, t.entityId, t.seq),
  ],
);

/** What the hub could not do, with an owner, a deadline and remediation text. */
export const syncException = pgTable(
  "sync_exception",
  {
    id: uuid().primaryKey().defaultRandom(),
    owner: exceptionOwner().notNull(),
    severity: exceptionSeverity().notNull().default("MEDIUM"),
    code: text().notNull(),
    entityType: text(),
    entityId: uuid(),
    sourceSystem: externalSystem(),
    sourceRef: text(),
    inboxEventId: integer(),
    commandId: uuid(),
    message: text().notNull(),
    remediation: text().notNull(),
    dueAt: timestamptz().notNull(),
    status: exceptionStatus().notNull().default("OPEN"),
    attempts: integer().notNull().default(0),
    resolvedBy: text(),
    resolvedAt: timestamptz(),
    resolutionNote: text(),
    correlationId: uuid(),
    createdAt: timestamptz().notNull().defaultNow(),
    updatedAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    index("sync_exception_owner_status_idx").on(t.owner, t.status),
    index("sync_exception_entity_idx").on(t.entityType, t.entityId),
  ],
);

export const resyncState = pgEnum("resync_state", ["PENDING", "DONE", "FAILED"]);

/**
 * resyncEntity: a request to re-fetch one record from its source now. The ops subgraph inserts it
 * (and NOTIFYs 'pshub_resync'); the CDC process claims it (FOR UPDATE SKIP LOCKED), calls the
 * connector's fetchOne, ingests the record and records the outcome.
 */
export const resyncRequest = pgTable(
  "resync_request",
  {
    id: uuid().primaryKey().defaultRandom(),
    entityType: text().notNull(),
    entityId: uuid().notNull(),
    system: externalSystem().notNull(),
    object: text().notNull(),
    externalId: text().notNull(),
    requestedBy: text().notNull(),
    state: resyncState().notNull().default("PENDING"),
    attempts: integer().notNull().default(0),
    result: text(),
    inboxEventId: bigint({ mode: "number" }),
    createdAt: timestamptz().notNull().defaultNow(),
    completedAt: timestamptz(),
  },
  (t) => [index("resync_request_pending_idx").on(t.createdAt).where(sql`${t.state} = 'PENDING'`)],
);

/** Stored results of idempotent operations: same key + same request → same response. */
export const idempotencyKey = pgTable(
  "idempotency_key",
  {
    key: text().notNull(),
    principal: text().notNull(),
    operation: text().notNull(),
    requestHash: text().notNull(),
    response: jsonb(),
    createdAt: timestamptz().notNull().defaultNow(),
    expiresAt: timestamptz().notNull(),
  },
  (t) => [uniqueIndex("idempotency_key_principal_key").on(t.principal, t.key)],
);

/** Who did what, with which input, under which correlation id. */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    actor: text().notNull(),
    /** The actor's roles when it acted (empty for a connector or an unknown caller). */
    roles: text().array().notNull().default(sql`'{}'::text[]`),
    operation: text().notNull(),
    entityType: text(),
    entityId: uuid(),
    input: jsonb(),
    /** sha256 (hex) of the operation name and its canonical input (the idempotency request hash). */
    inputHash: text(),
    outcome: text().notNull(),
    /** The entity's lineage id (opportunity → contract → … → payment). */
    correlationId: uuid(),
    /** The request's correlation id (x-correlation-id), the same id as in the logs. */
    requestId: uuid(),
    at: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    index("audit_log_entity_idx").on(t.entityType, t.entityId),
    index("audit_log_at_idx").on(t.at),
    index("audit_log_request_idx").on(t.requestId),
  ],
);

/**
 * API keys of service clients (the gateway's second way in, besides bearer tokens). Only the
 * SHA-256 of a key is stored; the key itself is shown once, when it is created
 * (db/src/api-keys.ts, `npm run apikey`). `legal_entities` null = every legal entity.
 */
export const apiKey = pgTable(
  "api_key",
  {
    ...entityColumns(),
    name: text().notNull(),
    keyHash: text().notNull(),
    /** The first characters of the key, to recognise it in listings. */
    keyPrefix: text().notNull(),
    roles: text().array().notNull().default(sql`'{}'::text[]`),
    legalEntities: text().array(),
    revoked: boolean().notNull().default(false),
    revokedAt: timestamptz(),
    lastUsedAt: timestamptz(),
  },
  (t) => [
    uniqueIndex("api_key_name_key").on(t.name),
    uniqueIndex("api_key_key_hash_key").on(t.keyHash),
  ],
);

/**
 * Exchange rates for reporting (Kpis converts every amount to a reporting currency with them).
 * As NetSuite's currencyrate record defines it: 1 unit of `currency` (its transactioncurrency) is
 * `rate` units of `base_currency`, from `effective_date` on. Source ERP (read through SuiteQL,
 * cdc/netsuite currency-rates.ts) or FILE (a rates file loaded with db fx-rates.ts). Exact: numeric,
 * never a float.
 */
export const fxRate = pgTable(
  "fx_rate",
  {
    id: uuid().primaryKey().defaultRandom(),
    baseCurrency: currency().notNull(),
    currency: currency().notNull(),
    rate: numeric({ precision: 24, scale: 10 }).notNull(),
    effectiveDate: date().notNull(),
    source: text().notNull(),
    /** The source's id of the rate (NetSuite currencyrate internal id), when it has one. */
    externalId: text(),
    updatedAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("fx_rate_pair_date_key").on(t.baseCurrency, t.currency, t.effectiveDate),
    check("fx_rate_positive", sql`${t.rate} > 0`),
    check("fx_rate_source", sql`${t.source} in ('ERP', 'FILE')`),
    currencyCheck("fx_rate_base_currency_iso", t.baseCurrency),
    currencyCheck("fx_rate_currency_iso", t.currency),
  ],
);

// ---------------------------------------------------------------------------------------------
// KPI summaries (issue #12): derived rows kept by triggers in the transaction of every change to
// their sources (migration 0017_kpi_summaries.sql), so every writer — lifecycle operations,
// inbound applies, seeds — keeps them exact. No id / version: they are never written by code.
// ---------------------------------------------------------------------------------------------

/**
 * Time entries per project, month worked, status and billable flag: their count and hours (the
 * utilisation KPI reads this instead of ~200,000 entries). A row whose entries reach 0 stays with
 * 0 hours; readers skip it.
 */
export const kpiTimeMonth = pgTable(
  "kpi_time_month",
  {
    projectId: uuid().notNull(),
    month: date().notNull(),
    status: workStatus().notNull(),
    billable: boolean().notNull(),
    entries: integer().notNull(),
    hours: numeric({ precision: 14, scale: 2 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.month, t.status, t.billable] })],
);

/**
 * Per invoice, the instants of its cycle: its first invoice.created and first status change to
 * ISSUED / POSTED / PAID (domain events), and over its live lines the earliest approval of a
 * billed item and the earliest billing event. The invoice cycle-time KPI reads one row per invoice.
 */
export const kpiInvoiceCycle = pgTable("kpi_invoice_cycle", {
  invoiceId: uuid().primaryKey(),
  generatedAt: timestamptz(),
  issuedAt: timestamptz(),
  postedAt: timestamptz(),
  paidAt: timestamptz(),
  approvedAt: timestamptz(),
  billedAt: timestamptz(),
});
