/** The Salesforce org's connectors (CRM + Certinia), their configuration and the closed-won hook. */
export * from "./client.ts";
export * from "./closed-won.ts";
export * from "./config.ts";
export * from "./connector.ts";
export * from "./field-map.ts";
