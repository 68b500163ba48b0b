/**
 * Inbound sync's rules on the canonical model (the engine in cdc/engine translates sources to
 * these): the inbox, set-based application of canonical changes with field ownership and state
 * transitions, leader locks, resync requests.
 */

export { RemediableError } from "../lifecycle/operation.ts";
export {
  type RaiseExceptionInput,
  raiseSyncException,
} from "../sync-exceptions.ts";
export * from "./apply.ts";
export * from "./entities.ts";
export * from "./inbox.ts";
export * from "./leader.ts";
export * from "./resync.ts";
export * from "./state-path.ts";
