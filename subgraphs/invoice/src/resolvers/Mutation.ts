/**
 * Lifecycle mutations of the invoice subgraph (declared in ../../sdl/Mutation.graphql): thin
 * wrappers over the db layer's operations, run as the caller's principal.
 */
import { executeAs, operations as op } from "@pshub/db";
import type { MutationResolvers } from "../__generated__/resolvers-types.ts";

export const Mutation: MutationResolvers = {
  generateInvoice: (_, args, ctx) => executeAs(ctx, op.generateInvoice, args),
  issueInvoice: (_, args, ctx) => executeAs(ctx, op.issueInvoice, args),
  recordPayment: (_, { input, idempotencyKey }, ctx) =>
    executeAs(ctx, op.recordPayment, { ...input, idempotencyKey }),
  disputeInvoice: (_, args, ctx) => executeAs(ctx, op.disputeInvoice, args),
  resolveDispute: (_, args, ctx) => executeAs(ctx, op.resolveDispute, args),
  voidInvoice: (_, args, ctx) => executeAs(ctx, op.voidInvoice, args),
};
