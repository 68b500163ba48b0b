/**
 * How each project-subgraph table is listed: sort fields (GraphQL enum value → NOT NULL column)
 * and filters (GraphQL filter input → SQL). Used by top-level lists and nested connections alike.
 */
import { assignment, expense, milestone, project, resource, timeEntry } from "@pshub/db/schema";
import {
  anyOf,
  assertUuid,
  atLeast,
  atMost,
  containsText,
  equals,
  equalsId,
  type ListSpec,
} from "@pshub/subgraph-kit";
import { and, gte, isNull, lte, or, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type {
  AssignmentFilter,
  ExpenseFilter,
  MilestoneFilter,
  ProjectFilter,
  ResourceFilter,
  TimeEntryFilter,
} from "./__generated__/resolvers-types.ts";

/** Rows whose project belongs to `customerId` (time entries and expenses carry no customer). */
function ofCustomer(
  projectColumn: PgColumn,
  customerId: string | null | undefined,
): SQL | undefined {
  if (customerId == null) return undefined;
  const id = assertUuid(customerId, "filter.customerId");
  return sql`${projectColumn} in (select ${project.id} from ${project} where ${project.customerId} = ${id})`;
}

function search(columns: PgColumn[], text: string | null | undefined): SQL | undefined {
  return text ? or(...columns.map((column) => containsText(column, text))) : undefined;
}

export const projectList: ListSpec<typeof project, ProjectFilter> = {
  name: "Project",
  table: project,
  id: project.id,
  orderFields: {
    CODE: project.code,
    NAME: project.name,
    START_DATE: project.startDate,
    CREATED_AT: project.createdAt,
    UPDATED_AT: project.updatedAt,
  },
  defaultOrder: { field: "CODE", direction: "ASC" },
  where: (f) =>
    and(
      anyOf(project.status, f.status),
      equalsId(project.customerId, f.customerId, "filter.customerId"),
      equalsId(project.contractId, f.contractId, "filter.contractId"),
      anyOf(project.currency, f.currency),
      search([project.name, project.code], f.search),
      atLeast(project.startDate, f.startDateFrom),
      atMost(project.startDate, f.startDateTo),
      atLeast(project.updatedAt, f.updatedSince),
    ),
};

export const milestoneList: ListSpec<typeof milestone, MilestoneFilter> = {
  name: "Milestone",
  table: milestone,
  id: milestone.id,
  orderFields: {
    DUE_DATE: milestone.dueDate,
    NAME: milestone.name,
    AMOUNT: milestone.amount,
    CREATED_AT: milestone.createdAt,
    UPDATED_AT: milestone.updatedAt,
  },
  defaultOrder: { field: "DUE_DATE", direction: "ASC" },
  where: (f) =>
    and(
      anyOf(milestone.status, f.status),
      equalsId(milestone.projectId, f.projectId, "filter.projectId"),
      anyOf(milestone.currency, f.currency),
      atLeast(milestone.dueDate, f.dueDateFrom),
      atMost(milestone.dueDate, f.dueDateTo),
      atLeast(milestone.updatedAt, f.updatedSince),
    ),
};

export const resourceList: ListSpec<typeof resource, ResourceFilter> = {
  name: "Resource",
  table: resource,
  id: resource.id,
  orderFields: {
    NAME: resource.name,
    EMAIL: resource.email,
    BILL_RATE: resource.billRate,
    CREATED_AT: resource.createdAt,
    UPDATED_AT: resource.updatedAt,
  },
  defaultOrder: { field: "NAME", direction: "ASC" },
  where: (f) =>
    and(
      equals(resource.active, f.active),
      anyOf(resource.role, f.role),
      equalsId(resource.legalEntityId, f.legalEntityId, "filter.legalEntityId"),
      anyOf(resource.currency, f.currency),
      search([resource.name, resource.email], f.search),
      atLeast(resource.updatedAt, f.updatedSince),
    ),
};

export const assignmentList: ListSpec<typeof assignment, AssignmentFilter> = {
  name: "Assignment",
  table: assignment,
  id: assignment.id,
  orderFields: { CREATED_AT: assignment.createdAt, UPDATED_AT: assignment.updatedAt },
  defaultOrder: { field: "CREATED_AT", direction: "ASC" },
  where: (f) =>
    and(
      equalsId(assignment.projectId, f.projectId, "filter.projectId"),
      equalsId(assignment.resourceId, f.resourceId, "filter.resourceId"),
      f.activeOn == null
        ? undefined
        : and(
            or(isNull(assignment.startDate), lte(assignment.startDate, f.activeOn)),
            or(isNull(assignment.endDate), gte(assignment.endDate, f.activeOn)),
          ),
    ),
};

export const timeEntryList: ListSpec<typeof timeEntry, TimeEntryFilter> = {
  name: "TimeEntry",
  table: timeEntry,
  id: timeEntry.id,
  orderFields: {
    WORK_DATE: timeEntry.workDate,
    HOURS: timeEntry.hours,
    CREATED_AT: timeEntry.createdAt,
    UPDATED_AT: timeEntry.updatedAt,
  },
  defaultOrder: { field: "WORK_DATE", direction: "ASC" },
  where: (f) =>
    and(
      anyOf(timeEntry.status, f.status),
      equalsId(timeEntry.projectId, f.projectId, "filter.projectId"),
      equalsId(timeEntry.resourceId, f.resourceId, "filter.resourceId"),
      ofCustomer(timeEntry.projectId, f.customerId),
      equals(timeEntry.billable, f.billable),
      anyOf(timeEntry.currency, f.currency),
      atLeast(timeEntry.workDate, f.workDateFrom),
      atMost(timeEntry.workDate, f.workDateTo),
      atLeast(timeEntry.updatedAt, f.updatedSince),
    ),
};

export const expenseList: ListSpec<typeof expense, ExpenseFilter> = {
  name: "Expense",
  table: expense,
  id: expense.id,
  orderFields: {
    INCURRED_ON: expense.incurredOn,
    AMOUNT: expense.amount,
    CREATED_AT: expense.createdAt,
    UPDATED_AT: expense.updatedAt,
  },
  defaultOrder: { field: "INCURRED_ON", direction: "ASC" },
  where: (f) =>
    and(
      anyOf(expense.status, f.status),
      equalsId(expense.projectId, f.projectId, "filter.projectId"),
      equalsId(expense.resourceId, f.resourceId, "filter.resourceId"),
      ofCustomer(expense.projectId, f.customerId),
      equals(expense.billable, f.billable),
      anyOf(expense.category, f.category),
      anyOf(expense.currency, f.currency),
      atLeast(expense.incurredOn, f.incurredFrom),
      atMost(expense.incurredOn, f.incurredTo),
      atLeast(expense.updatedAt, f.updatedSince),
    ),
};
