/**
 * The domain_event stream: a reader that loses nothing (see reader.ts for the gap rule), replay
 * from an event id, and the facts subscription filters need.
 */
export * from "./facts.ts";
export * from "./reader.ts";
