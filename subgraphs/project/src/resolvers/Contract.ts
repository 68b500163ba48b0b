import { project } from "@pshub/db/schema";
import type { ContractResolvers } from "../__generated__/resolvers-types.ts";
import { projectList } from "../lists.ts";

/** Contract is owned by the customer subgraph; this one adds the projects delivering it. */
export const Contract: ContractResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  projects: (c, args, ctx, info) =>
    ctx.loaders.connection(projectList, project.contractId, c.id, args, info),
};
