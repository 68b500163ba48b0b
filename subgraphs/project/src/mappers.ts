/**
 * GraphQL type → the row a resolver returns for it (read by codegen.ts: every `export type
 * XMapper` maps GraphQL type X).
 */
import type {
  assignment,
  expense,
  milestone,
  project,
  resource,
  timeEntry,
} from "@pshub/db/schema";

export type ProjectMapper = typeof project.$inferSelect;
export type MilestoneMapper = typeof milestone.$inferSelect;
export type ResourceMapper = typeof resource.$inferSelect;
export type AssignmentMapper = typeof assignment.$inferSelect;
export type TimeEntryMapper = typeof timeEntry.$inferSelect;
export type ExpenseMapper = typeof expense.$inferSelect;
/** Entities owned by the customer subgraph: this one only knows their key. */
export type CustomerMapper = { id: string };
export type ContractMapper = { id: string };
export type LegalEntityMapper = { id: string };
export type MoneyMapper = { amount: string; currency: string };
export type ProjectHoursMapper = {
  total: string;
  submitted: string;
  approved: string;
  billed: string;
  billable: string;
  remaining: string | null;
};
