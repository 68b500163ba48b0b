import type { InvoiceContext } from "../context.ts";
import type { EntityRef } from "../mappers.ts";
import { stubReference } from "./refs.ts";

export const BillingEvent = {
  __resolveReference: stubReference,
  invoiceLine: (ref: EntityRef, _: unknown, ctx: InvoiceContext) =>
    ctx.loaders.liveLineByBillingEvent().load(ref.id),
};
