/** The CDC process's configuration: sandbox per system when unset, one clear line per problem. */
import { ConfigError } from "@pshub/db";
import { describe, expect, it } from "vitest";
import { parseCdcConfig, realSourcesConfigured } from "./env.ts";

const problems = (env: Record<string, string>) => {
  try {
    parseCdcConfig(env);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message.split("\n");
  }
};

describe("cdc env", () => {
  it("with nothing set, every system runs its sandbox", () => {
    const c = parseCdcConfig({});
    expect(c.netsuite.mode).toBe("sandbox");
    expect(c.webhooks.mode).toBe("sandbox");
    expect(c.salesforce.auth).toBeUndefined();
    expect(realSourcesConfigured({})).toBe(false);
  });

  it("real NetSuite settings: token or client credentials; partial settings are one line each", () => {
    const token = parseCdcConfig({
      NETSUITE_BASE_URL: "https://123.suitetalk.api.netsuite.com",
      NETSUITE_ACCESS_TOKEN: "t",
    });
    expect(token.netsuite).toMatchObject({ mode: "real", accessToken: "t" });
    expect(realSourcesConfigured({ NETSUITE_BASE_URL: "https://x" })).toBe(true);
    expect(problems({ NETSUITE_BASE_URL: "https://123.suitetalk.api.netsuite.com" })).toEqual([
      expect.stringMatching(/^missing environment variable NETSUITE_ACCESS_TOKEN: /),
    ]);
    expect(problems({ NETSUITE_CLIENT_ID: "c" })).toEqual([
      expect.stringMatching(/^missing environment variable NETSUITE_BASE_URL/),
      expect.stringMatching(/^missing environment variable NETSUITE_CERTIFICATE_ID/),
      expect.stringMatching(/^missing environment variable NETSUITE_PRIVATE_KEY/),
    ]);
    expect(problems({ NETSUITE_BASE_URL: "not a url" })[0]).toMatch(
      /^invalid environment variable NETSUITE_BASE_URL="not a url"/,
    );
  });

  it("webhook secrets must be whsec_ base64, comma-separated", () => {
    expect(
      parseCdcConfig({ WEBHOOK_SECRETS: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, whsec_c2Vjb25k" })
        .webhooks,
    ).toEqual({
      mode: "real",
      secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2Vjb25k"],
    });
    expect(problems({ WEBHOOK_SECRETS: "hunter2" })[0]).toMatch(
      /^invalid environment variable WEBHOOK_SECRETS="hunter2": must be comma-separated whsec_/,
    );
  });

  it("incomplete Salesforce credentials are a clear line", () => {
    expect(problems({ SALESFORCE_USERNAME: "u" })[0]).toMatch(
      /Salesforce username-password flow: set SALESFORCE_LOGIN_URL/,
    );
  });
});
