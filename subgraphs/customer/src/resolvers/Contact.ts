import { contact, customer } from "@pshub/db/schema";
import type { ContactResolvers } from "../__generated__/resolvers-types.ts";

export const Contact: ContactResolvers = {
  __resolveReference: (ref, ctx) => ctx.loaders.byId(contact).load(ref.id),
  customer: (c, _, ctx) =>
    ctx.loaders.byId(customer).load(c.customerId).then(required("Customer", c.customerId)),
};

/** A NOT NULL foreign key always finds its row; if not, the database is broken, so say which. */
export function required<T>(entityType: string, id: string) {
  return (row: T | null): T => {
    if (!row) throw new Error(`${entityType} ${id} referenced by a foreign key is missing`);
    return row;
  };
}
