/** The Salesforce sandbox (tests and the launcher only: connector code never imports it). */

export { type ActivityOptions, seedSandboxOrg, startActivity } from "./activity.ts";
export { startSandboxOrg } from "./launch.ts";
export { type ChangeEventData, SandboxOrg, type SfRecord, sfDateTime, to18 } from "./org.ts";
export { changeEventName, OBJECTS } from "./schema.ts";
export {
  SalesforceSandbox,
  type SalesforceSandboxOptions,
  startSalesforceSandbox,
} from "./server.ts";
