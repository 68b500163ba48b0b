import { BadUserInputError, isUuid } from "@pshub/subgraph-kit";
import type { EntityRef } from "../mappers.ts";

/**
 * `__resolveReference` of a type another subgraph owns: the key is all billing needs. A key that
 * is not a uuid names nothing, so it resolves to null instead of failing the whole batch.
 */
export function stubReference(ref: EntityRef): EntityRef | null {
  return isUuid(ref.id) ? { id: ref.id.toLowerCase() } : null;
}

/**
 * The key of a representation of an entity this subgraph owns. A representation without a string
 * `id` is a client error (BAD_USER_INPUT on that entity), not a server fault.
 */
export function referenceId(ref: { id?: unknown }, typename: string): string {
  if (typeof ref.id !== "string") {
    throw new BadUserInputError(`${typename} representation needs "id" (a string)`, {
      typename,
    });
  }
  return ref.id;
}
