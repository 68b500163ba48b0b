import { project } from "@pshub/db/schema";
import type { CustomerResolvers } from "../__generated__/resolvers-types.ts";
import { projectList } from "../lists.ts";

/** Customer is owned by the customer subgraph; this one adds its projects. */
export const Customer: CustomerResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  projects: (c, args, ctx, info) =>
    ctx.loaders.connection(projectList, project.customerId, c.id, args, info),
};
