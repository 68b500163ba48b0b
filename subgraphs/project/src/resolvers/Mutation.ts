/**
 * Lifecycle mutations of the project subgraph (declared in ../../sdl/Mutation.graphql): thin
 * wrappers over the db layer's operations, run as the caller's principal. The single-item
 * mutations are the bulk operations with one id.
 */
import { executeAs, operations as op } from "@pshub/db";
import type { MutationResolvers } from "../__generated__/resolvers-types.ts";

const first = <T>(rows: T[]): T => rows[0]!;

export const Mutation: MutationResolvers = {
  activateProject: (_, args, ctx) => executeAs(ctx, op.activateProject, args),
  approveTimeEntry: (_, { id, idempotencyKey }, ctx) =>
    executeAs(ctx, op.approveTimeEntries, { ids: [id], idempotencyKey }).then(first),
  rejectTimeEntry: (_, { id, reason, idempotencyKey }, ctx) =>
    executeAs(ctx, op.rejectTimeEntries, { ids: [id], reason, idempotencyKey }).then(first),
  approveTimeEntries: (_, args, ctx) => executeAs(ctx, op.approveTimeEntries, args),
  rejectTimeEntries: (_, args, ctx) => executeAs(ctx, op.rejectTimeEntries, args),
  approveExpense: (_, { id, idempotencyKey }, ctx) =>
    executeAs(ctx, op.approveExpenses, { ids: [id], idempotencyKey }).then(first),
  rejectExpense: (_, { id, reason, idempotencyKey }, ctx) =>
    executeAs(ctx, op.rejectExpenses, { ids: [id], reason, idempotencyKey }).then(first),
  approveExpenses: (_, args, ctx) => executeAs(ctx, op.approveExpenses, args),
  rejectExpenses: (_, args, ctx) => executeAs(ctx, op.rejectExpenses, args),
  completeMilestone: (_, args, ctx) => executeAs(ctx, op.completeMilestone, args),
  approveMilestone: (_, args, ctx) => executeAs(ctx, op.approveMilestone, args),
};
