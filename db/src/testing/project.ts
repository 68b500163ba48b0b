/**
 * Builders for project-side rows (customer-side rows: ./customer.ts). One row per call; money is a
 * decimal string.
 */
import type { Db } from "../client.ts";
import { assignment, expense, milestone, project, resource, timeEntry } from "../schema.ts";
import { buildContract, buildCustomer, buildLegalEntity, unique } from "./customer.ts";

type Insert<T extends { $inferInsert: unknown }> = Partial<T["$inferInsert"]>;

/** A legal entity, a customer, a T&M contract and a project under it. */
export async function buildProject(
  db: Db,
  values: Insert<typeof project> & { contractId?: string; customerId?: string } = {},
) {
  let { contractId, customerId } = values;
  if (!contractId || !customerId) {
    const le = await buildLegalEntity(db);
    customerId ??= (await buildCustomer(db, { legalEntityId: le.id })).id;
    contractId ??= (await buildContract(db, { customerId, legalEntityId: le.id })).id;
  }
  const [row] = await db
    .insert(project)
    .values({
      code: unique("P"),
      name: unique("Project"),
      currency: "GBP",
      startDate: "2026-01-05",
      status: "ACTIVE",
      budgetHours: "400.00",
      ...values,
      contractId,
      customerId,
    })
    .returning();
  return row!;
}

export async function buildResource(db: Db, values: Insert<typeof resource> = {}) {
  const [row] = await db
    .insert(resource)
    .values({
      name: unique("Resource"),
      email: `${unique("r")}@firm.example`,
      role: "Consultant",
      billRate: "150.00",
      costRate: "80.00",
      currency: "GBP",
      ...values,
    })
    .returning();
  return row!;
}

export async function buildAssignment(
  db: Db,
  values: Insert<typeof assignment> & { projectId: string; resourceId: string },
) {
  const [row] = await db
    .insert(assignment)
    .values({ role: "Consultant", ...values })
    .returning();
  return row!;
}

export async function buildMilestone(
  db: Db,
  values: Insert<typeof milestone> & { projectId: string },
) {
  const [row] = await db
    .insert(milestone)
    .values({
      name: unique("Milestone"),
      amount: "10000.00",
      currency: "GBP",
      dueDate: "2026-06-30",
      ...values,
    })
    .returning();
  return row!;
}

export async function buildTimeEntry(
  db: Db,
  values: Insert<typeof timeEntry> & { projectId: string; resourceId: string },
) {
  const [row] = await db
    .insert(timeEntry)
    .values({
      workDate: "2026-03-02",
      hours: "7.50",
      billRate: "150.00",
      currency: "GBP",
      ...values,
    })
    .returning();
  return row!;
}

export async function buildExpense(
  db: Db,
  values: Insert<typeof expense> & { projectId: string; resourceId: string },
) {
  const [row] = await db
    .insert(expense)
    .values({
      incurredOn: "2026-03-02",
      amount: "120.40",
      currency: "GBP",
      category: "TRAVEL",
      ...values,
    })
    .returning();
  return row!;
}
