/**
 * @pshub/cdc — the sync engine's public API (see ../README.md, "Engine API"): the shapes
 * connectors implement (./types.ts), the engine that drives them, and the applier.
 */
export * from "./applier.ts";
export * from "./engine.ts";
export type * from "./types.ts";
