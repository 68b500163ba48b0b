/**
 * For the launcher: the sandbox org in place of a real one. Starts the sandbox (optionally with
 * live activity) and returns the credentials the connector uses: the same OAuth
 * username-password flow a real org gets, pointed at the sandbox's URL.
 */
import type { SalesforceAuth } from "../../salesforce/client.ts";
import { SalesforceSandbox, type SalesforceSandboxOptions } from "./server.ts";

export async function startSandboxOrg(
  options: SalesforceSandboxOptions = {},
): Promise<{ sandbox: SalesforceSandbox; auth: SalesforceAuth }> {
  const sandbox = await new SalesforceSandbox(options).start();
  return {
    sandbox,
    auth: {
      kind: "password",
      loginUrl: sandbox.url,
      clientId: sandbox.options.clientId,
      clientSecret: sandbox.options.clientSecret,
      username: sandbox.options.username,
      password: sandbox.options.password,
    },
  };
}
