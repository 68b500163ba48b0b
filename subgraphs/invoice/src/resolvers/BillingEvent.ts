import { project } from "@pshub/db/schema";
import { stubReference } from "@pshub/subgraph-kit";
import type { BillingEventResolvers } from "../__generated__/resolvers-types.ts";

export const BillingEvent: BillingEventResolvers = {
  __resolveReference: stubReference,
  // Asked only under InvoiceLine.billingEvent, which provides it with the event row (@provides).
  project: (ev, _, ctx) =>
    "projectId" in ev && ev.projectId ? ctx.loaders.byId(project).load(ev.projectId) : null,
  invoiceLine: (ref, _, ctx) => ctx.loaders.liveLineByBillingEvent().load(ref.id),
};
