/**
 * Delivery transitions: activate a project, approve / reject time and expenses (single or bulk,
 * all-or-nothing), complete and approve milestones.
 */
import { eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "../client.ts";
import { type DomainEventInput, emitDomainEvents } from "../domain-events.ts";
import { contract, expense, milestone, project, timeEntry } from "../schema.ts";
import {
  contractMachine,
  expenseMachine,
  milestoneMachine,
  projectMachine,
  type StateMachine,
  timeEntryMachine,
  type WorkStatus,
} from "./machines.ts";
import {
  defineOperation,
  id,
  isoDate,
  type Operation,
  type OperationContext,
} from "./operation.ts";
import { lockMany, lockOne, transitionRows } from "./rows.ts";

export type ProjectRow = typeof project.$inferSelect;
export type TimeEntryRow = typeof timeEntry.$inferSelect;
export type ExpenseRow = typeof expense.$inferSelect;
export type MilestoneRow = typeof milestone.$inferSelect;

async function projectCorrelations(
  tx: Tx,
  projectIds: string[],
): Promise<Map<string, string | null>> {
  const rows = await tx
    .select({ id: project.id, correlationId: project.correlationId })
    .from(project)
    .where(inArray(project.id, [...new Set(projectIds)]));
  return new Map(rows.map((r) => [r.id, r.correlationId]));
}

/** PLANNED/ON_HOLD → ACTIVE; a DRAFT contract is activated with its first project. */
export const activateProject = defineOperation({
  name: "activateProject",
  input: z.object({ projectId: id() }),
  async run(tx, ctx, input): Promise<ProjectRow> {
    const p = await lockOne(tx, project, "project", input.projectId);
    const [updated] = await transitionRows(tx, project, projectMachine, [p], "ACTIVE");
    const events: DomainEventInput[] = [
      {
        type: "project.status_changed",
        entityType: "project",
        entityId: p.id,
        payload: { from: p.status, to: "ACTIVE" },
        correlationId: p.correlationId,
        causationId: ctx.requestId,
        actor: ctx.actor,
      },
    ];
    const c = await lockOne(tx, contract, "contract", p.contractId);
    if (c.status === "DRAFT") {
      await transitionRows(tx, contract, contractMachine, [c], "ACTIVE");
      events.push({
        type: "contract.status_changed",
        entityType: "contract",
        entityId: c.id,
        payload: { from: "DRAFT", to: "ACTIVE" },
        correlationId: c.correlationId,
        causationId: ctx.requestId,
        actor: ctx.actor,
      });
    }
    await emitDomainEvents(tx, events);
    return updated!;
  },
  auditRef: (input, result) => ({
    entityType: "project",
    entityId: input.projectId,
    correlationId: result?.correlationId,
  }),
});

type WorkTable = typeof timeEntry | typeof expense;

async function decideWork(
  tx: Tx,
  ctx: OperationContext,
  table: WorkTable,
  machine: StateMachine<WorkStatus>,
  ids: string[],
  to: "APPROVED" | "REJECTED",
  reason: string | undefined,
) {
  const entityType = machine.entityType as "time_entry" | "expense";
  const rows = (await lockMany(tx, table, entityType, ids)) as (TimeEntryRow | ExpenseRow)[];
  const updated = (await transitionRows(
    tx,
    table,
    machine,
    rows,
    to,
    to === "APPROVED" ? { approvedAt: new Date(), approvedBy: ctx.actor } : {},
  )) as (TimeEntryRow | ExpenseRow)[];
  const correlations = await projectCorrelations(
    tx,
    rows.map((r) => r.projectId),
  );
  await emitDomainEvents(
    tx,
    rows.map((r) => ({
      type: `${entityType}.status_changed` as const,
      entityType,
      entityId: r.id,
      payload: { from: r.status, to, projectId: r.projectId, ...(reason ? { reason } : {}) },
      correlationId: correlations.get(r.projectId) ?? null,
      causationId: ctx.requestId,
      actor: ctx.actor,
    })),
  );
  const order = new Map(ids.map((v, i) => [v, i]));
  return updated.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
}

const idList = () => z.array(id()).min(1).max(5000);
const approvalInput = z.object({ ids: idList() });
const rejectionInput = z.object({
  ids: idList(),
  reason: z.string().trim().min(1, { error: "a reason is required" }).max(2000),
});

/**
 * One bulk decision on time entries or expenses (all-or-nothing): approve, or reject with a
 * reason. The four operations below are this factory with their table and machine.
 */
function workDecision<T extends WorkTable>(
  name: string,
  table: T,
  machine: StateMachine<WorkStatus>,
  decision: "approve",
): Operation<typeof approvalInput, T["$inferSelect"][]>;
function workDecision<T extends WorkTable>(
  name: string,
  table: T,
  machine: StateMachine<WorkStatus>,
  decision: "reject",
): Operation<typeof rejectionInput, T["$inferSelect"][]>;
function workDecision<T extends WorkTable>(
  name: string,
  table: T,
  machine: StateMachine<WorkStatus>,
  decision: "approve" | "reject",
) {
  const entityType = machine.entityType as "time_entry" | "expense";
  const to = decision === "approve" ? "APPROVED" : "REJECTED";
  return defineOperation({
    name,
    input: decision === "approve" ? approvalInput : rejectionInput,
    auditRef: (input) => ({ entityType, entityId: input.ids[0]! }),
    run: async (tx, ctx, input) =>
      (await decideWork(
        tx,
        ctx,
        table,
        machine,
        input.ids,
        to,
        "reason" in input ? String(input.reason) : undefined,
      )) as T["$inferSelect"][],
  });
}

export const approveTimeEntries = workDecision(
  "approveTimeEntries",
  timeEntry,
  timeEntryMachine,
  "approve",
);
export const rejectTimeEntries = workDecision(
  "rejectTimeEntries",
  timeEntry,
  timeEntryMachine,
  "reject",
);
export const approveExpenses = workDecision("approveExpenses", expense, expenseMachine, "approve");
export const rejectExpenses = workDecision("rejectExpenses", expense, expenseMachine, "reject");

async function milestoneTransition(
  tx: Tx,
  ctx: OperationContext,
  milestoneId: string,
  to: "COMPLETED" | "APPROVED",
  set: Record<string, unknown>,
): Promise<MilestoneRow> {
  const m = await lockOne(tx, milestone, "milestone", milestoneId);
  const [updated] = await transitionRows(tx, milestone, milestoneMachine, [m], to, set);
  const [p] = await tx
    .select({ correlationId: project.correlationId })
    .from(project)
    .where(eq(project.id, m.projectId));
  await emitDomainEvents(tx, [
    {
      type: "milestone.status_changed",
      entityType: "milestone",
      entityId: m.id,
      payload: { from: m.status, to, projectId: m.projectId },
      correlationId: p?.correlationId ?? null,
      causationId: ctx.requestId,
      actor: ctx.actor,
    },
  ]);
  return updated!;
}

/** OPEN → COMPLETED, recording the completion date (default today). */
export const completeMilestone = defineOperation({
  name: "completeMilestone",
  input: z.object({ milestoneId: id(), completedOn: isoDate().optional() }),
  auditRef: (input) => ({ entityType: "milestone", entityId: input.milestoneId }),
  run: (tx, ctx, input) =>
    milestoneTransition(tx, ctx, input.milestoneId, "COMPLETED", {
      completedOn: input.completedOn ?? new Date().toISOString().slice(0, 10),
    }),
});

/** COMPLETED → APPROVED: the milestone becomes billable. */
export const approveMilestone = defineOperation({
  name: "approveMilestone",
  input: z.object({ milestoneId: id() }),
  auditRef: (input) => ({ entityType: "milestone", entityId: input.milestoneId }),
  run: (tx, ctx, input) =>
    milestoneTransition(tx, ctx, input.milestoneId, "APPROVED", {
      approvedAt: new Date(),
      approvedBy: ctx.actor,
    }),
});
