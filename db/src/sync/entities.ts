/**
 * What inbound sync may write, per canonical entity type: its table, the columns a source can set
 * (camelCase → SQL type, for the set-based upserts' typed arrays), the columns a new row needs,
 * its state machine, what a source-side delete means, and which system owns which field
 * (DESIGN "Which system owns which state"). The one table of these rules; the applier (./apply.ts) reads it.
 */
import type { StateMachine } from "../lifecycle/machines.ts";
import {
  contractMachine,
  expenseMachine,
  invoiceMachine,
  milestoneMachine,
  projectMachine,
  timeEntryMachine,
} from "../lifecycle/machines.ts";

export type SyncSystem = "SALESFORCE" | "PSA" | "ERP";

export type SyncEntityType =
  | "customer"
  | "contact"
  | "opportunity"
  | "contract"
  | "project"
  | "milestone"
  | "resource"
  | "assignment"
  | "time_entry"
  | "expense"
  | "invoice"
  | "payment";

/** A column's SQL type, the element type of its array in the set-based upserts: `$1::<type>[]`. */
export type ColumnType =
  | "text"
  | "uuid"
  | "numeric"
  | "date"
  | "timestamptz"
  | "boolean"
  | "integer"
  | `enum:${string}`;

export interface EntitySpec {
  entityType: SyncEntityType;
  table: string;
  /** Columns a source may write (state columns excluded: those move through the machines). */
  columns: Record<string, ColumnType>;
  /** Columns a new row must have. */
  requiredOnCreate: string[];
  /** The lifecycle machine of the `status` column, when the entity has one. */
  machine?: StateMachine<string>;
  /** Who may report the state, and which target states they may report. */
  stateOwner?: { system: SyncSystem; states: string[] };
  /** Per field, the system that owns it; a field not listed is the hub's own. */
  owners: Record<string, SyncSystem>;
  /** Natural-key columns an inbound change may match an unlinked row on (`matchOn`). */
  naturalKeys?: string[];
  /** A source-side delete: set these columns, delete the row, or keep the row (history). */
  onDelete: { set: Record<string, unknown> } | "delete" | "keep";
  /** Can inbound sync insert rows of this type? (invoices originate in the hub; payments are
   *  recorded through recordPayment.) */
  insert: "rows" | "never" | "recordPayment";
  /** Dependency rank: parents are applied before children in one batch. */
  rank: number;
}

const all = (system: SyncSystem, fields: string[]) =>
  Object.fromEntries(fields.map((f) => [f, system])) as Record<string, SyncSystem>;

function spec(s: EntitySpec): EntitySpec {
  return s;
}

const customerColumns = {
  name: "text",
  parentId: "uuid",
  legalEntityId: "uuid",
  taxJurisdiction: "text",
  currency: "text",
  billingContactName: "text",
  billingEmail: "text",
  status: "enum:customer_status",
} satisfies Record<string, ColumnType>;

const opportunityColumns = {
  customerId: "uuid",
  name: "text",
  stage: "enum:opportunity_stage",
  amount: "numeric",
  currency: "text",
  closeDate: "date",
  billingModel: "enum:billing_model",
  isWon: "boolean",
  legalEntityId: "uuid",
  taxJurisdiction: "text",
  startDate: "date",
  endDate: "date",
  paymentTermsDays: "integer",
  retainerAmount: "numeric",
  retainerHours: "numeric",
  budgetHours: "numeric",
  installments: "integer",
} satisfies Record<string, ColumnType>;

const contractColumns = {
  number: "text",
  customerId: "uuid",
  opportunityId: "uuid",
  legalEntityId: "uuid",
  billingModel: "enum:billing_model",
  totalValue: "numeric",
  currency: "text",
  retainerAmount: "numeric",
  retainerHours: "numeric",
  startDate: "date",
  endDate: "date",
  paymentTermsDays: "integer",
} satisfies Record<string, ColumnType>;

const projectColumns = {
  code: "text",
  name: "text",
  contractId: "uuid",
  customerId: "uuid",
  budgetHours: "numeric",
  budgetAmount: "numeric",
  currency: "text",
  startDate: "date",
  endDate: "date",
} satisfies Record<string, ColumnType>;

const milestoneColumns = {
  projectId: "uuid",
  name: "text",
  amount: "numeric",
  currency: "text",
  dueDate: "date",
  completedOn: "date",
} satisfies Record<string, ColumnType>;

const resourceColumns = {
  name: "text",
  email: "text",
  role: "text",
  legalEntityId: "uuid",
  billRate: "numeric",
  costRate: "numeric",
  currency: "text",
  active: "boolean",
} satisfies Record<string, ColumnType>;

const assignmentColumns = {
  resourceId: "uuid",
  projectId: "uuid",
  role: "text",
  billRateOverride: "numeric",
  startDate: "date",
  endDate: "date",
} satisfies Record<string, ColumnType>;

const timeEntryColumns = {
  projectId: "uuid",
  resourceId: "uuid",
  workDate: "date",
  hours: "numeric",
  billable: "boolean",
  billRate: "numeric",
  currency: "text",
  description: "text",
} satisfies Record<string, ColumnType>;

const expenseColumns = {
  projectId: "uuid",
  resourceId: "uuid",
  incurredOn: "date",
  amount: "numeric",
  currency: "text",
  category: "text",
  billable: "boolean",
  description: "text",
} satisfies Record<string, ColumnType>;

const invoiceColumns = {
  erpNumber: "text",
  subtotal: "numeric",
  tax: "numeric",
  total: "numeric",
} satisfies Record<string, ColumnType>;

const paymentColumns = {
  invoiceId: "uuid",
  amount: "numeric",
  currency: "text",
  receivedOn: "date",
  reference: "text",
  erpId: "text",
} satisfies Record<string, ColumnType>;

const psaWork = ["SUBMITTED", "APPROVED", "REJECTED"];

export const ENTITY_SPECS: Record<SyncEntityType, EntitySpec> = {
  customer: spec({
    entityType: "customer",
    table: "customer",
    columns: customerColumns,
    requiredOnCreate: ["name", "currency"],
    owners: all("SALESFORCE", Object.keys(customerColumns)),
    onDelete: { set: { status: "INACTIVE" } },
    insert: "rows",
    rank: 0,
  }),
  contact: spec({
    entityType: "contact",
    table: "contact",
    columns: {
      customerId: "uuid",
      name: "text",
      email: "text",
      phone: "text",
      title: "text",
      isBillingContact: "boolean",
    },
    requiredOnCreate: ["customerId", "name"],
    owners: all("SALESFORCE", [
      "customerId",
      "name",
      "email",
      "phone",
      "title",
      "isBillingContact",
    ]),
    onDelete: "delete",
    insert: "rows",
    rank: 1,
  }),
  opportunity: spec({
    entityType: "opportunity",
    table: "opportunity",
    columns: opportunityColumns,
    requiredOnCreate: ["customerId", "name", "stage", "amount", "currency", "closeDate"],
    owners: all("SALESFORCE", Object.keys(opportunityColumns)),
    onDelete: "keep",
    insert: "rows",
    rank: 1,
  }),
  contract: spec({
    entityType: "contract",
    table: "contract",
    columns: contractColumns,
    requiredOnCreate: [
      "number",
      "customerId",
      "legalEntityId",
      "billingModel",
      "totalValue",
      "currency",
      "startDate",
    ],
    machine: contractMachine,
    owners: all("SALESFORCE", Object.keys(contractColumns)),
    naturalKeys: ["number"],
    onDelete: "keep",
    insert: "rows",
    rank: 2,
  }),
  resource: spec({
    entityType: "resource",
    table: "resource",
    columns: resourceColumns,
    requiredOnCreate: ["name", "email", "role", "billRate", "costRate", "currency"],
    owners: all("PSA", Object.keys(resourceColumns)),
    naturalKeys: ["email"],
    onDelete: { set: { active: false } },
    insert: "rows",
    rank: 0,
  }),
  project: spec({
    entityType: "project",
    table: "project",
    columns: projectColumns,
    requiredOnCreate: ["code", "name", "contractId", "customerId", "currency", "startDate"],
    machine: projectMachine,
    stateOwner: { system: "PSA", states: ["PLANNED", "ACTIVE", "ON_HOLD", "COMPLETED", "CLOSED"] },
    // code, contract, customer and currency are set when the hub converts the opportunity.
    owners: all("PSA", ["name", "budgetHours", "budgetAmount", "startDate", "endDate"]),
    naturalKeys: ["code"],
    onDelete: "keep",
    insert: "rows",
    rank: 3,
  }),
  assignment: spec({
    entityType: "assignment",
    table: "assignment",
    columns: assignmentColumns,
    requiredOnCreate: ["resourceId", "projectId", "role"],
    owners: all("PSA", Object.keys(assignmentColumns)),
    onDelete: "delete",
    insert: "rows",
    rank: 4,
  }),
  milestone: spec({
    entityType: "milestone",
    table: "milestone",
    columns: milestoneColumns,
    requiredOnCreate: ["projectId", "name", "amount", "currency", "dueDate"],
    machine: milestoneMachine,
    stateOwner: { system: "PSA", states: ["OPEN", "COMPLETED", "APPROVED"] },
    owners: all("PSA", Object.keys(milestoneColumns)),
    onDelete: "keep",
    insert: "rows",
    rank: 4,
  }),
  time_entry: spec({
    entityType: "time_entry",
    table: "time_entry",
    columns: timeEntryColumns,
    requiredOnCreate: ["projectId", "resourceId", "workDate", "hours", "billRate", "currency"],
    machine: timeEntryMachine,
    stateOwner: { system: "PSA", states: psaWork },
    owners: all("PSA", Object.keys(timeEntryColumns)),
    onDelete: "keep",
    insert: "rows",
    rank: 5,
  }),
  expense: spec({
    entityType: "expense",
    table: "expense",
    columns: expenseColumns,
    requiredOnCreate: ["projectId", "resourceId", "incurredOn", "amount", "currency", "category"],
    machine: expenseMachine,
    stateOwner: { system: "PSA", states: psaWork },
    owners: all("PSA", Object.keys(expenseColumns)),
    onDelete: "keep",
    insert: "rows",
    rank: 5,
  }),
  invoice: spec({
    entityType: "invoice",
    table: "invoice",
    columns: invoiceColumns,
    requiredOnCreate: [],
    machine: invoiceMachine,
    // PAID / PARTIALLY_PAID follow from payments (recordPayment), not from a reported status.
    stateOwner: { system: "ERP", states: ["POSTED", "VOID"] },
    owners: all("ERP", Object.keys(invoiceColumns)),
    naturalKeys: ["number", "erpNumber"],
    onDelete: "keep",
    insert: "never",
    rank: 6,
  }),
  payment: spec({
    entityType: "payment",
    table: "payment",
    columns: paymentColumns,
    requiredOnCreate: ["invoiceId", "amount", "receivedOn"],
    owners: all("ERP", Object.keys(paymentColumns)),
    naturalKeys: ["erpId"],
    onDelete: "keep",
    insert: "recordPayment",
    rank: 7,
  }),
};

/** snake_case of a camelCase column name. */
export function columnName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function sqlType(type: ColumnType): string {
  return type.startsWith("enum:") ? type.slice(5) : type;
}
