/**
 * Entity references between subgraphs: the stub a subgraph returns for a type another subgraph
 * owns, and the key of a representation of a type it owns.
 */
import { BadUserInputError } from "./errors.ts";
import { isUuid } from "./filters.ts";

/**
 * `__resolveReference` of a type another subgraph owns: the key is all this subgraph needs. A key that
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

/** A reference to an entity another subgraph owns (the mapper of such a stub type). */
export interface EntityRef {
  id: string;
}
