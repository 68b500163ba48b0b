import { isUuid } from "@pshub/subgraph-kit";
import type { EntityRef } from "../mappers.ts";

/**
 * `__resolveReference` of a type another subgraph owns: the key is all invoice needs. A key that
 * is not a uuid names nothing, so it resolves to null instead of failing the whole batch.
 */
export function stubReference(ref: EntityRef): EntityRef | null {
  return isUuid(ref.id) ? { id: ref.id.toLowerCase() } : null;
}
