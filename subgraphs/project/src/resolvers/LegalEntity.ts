import { resource } from "@pshub/db/schema";
import type { LegalEntityResolvers } from "../__generated__/resolvers-types.ts";
import { resourceList } from "../lists.ts";

/** LegalEntity is owned by the customer subgraph; this one adds the resources it employs. */
export const LegalEntity: LegalEntityResolvers = {
  __resolveReference: (ref) => ({ id: ref.id }),
  resources: (le, args, ctx, info) =>
    ctx.loaders.connection(resourceList, resource.legalEntityId, le.id, args, info),
};
