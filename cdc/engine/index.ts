/**
 * @pshub/cdc — the sync engine's public API (see ../README.md, "Engine API"). Connectors import
 * their shapes from here; the engine's runtime (ingest, applier, pollers, leader lock) lands behind
 * the same exports.
 */
export type * from "./types.ts";
