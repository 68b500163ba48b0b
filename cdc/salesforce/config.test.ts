import { describe, expect, it } from "vitest";
import { salesforceConfig, salesforceEnv } from "./config.ts";

const parse = (env: Record<string, string>) => salesforceConfig(salesforceEnv.parse(env));

describe("Salesforce configuration", () => {
  it("runs the sandbox when no credentials are set, with the documented defaults", () => {
    expect(parse({})).toBeUndefined();
    const s = salesforceEnv.parse({});
    expect(s.SALESFORCE_API_VERSION).toBe("62.0");
    expect(s.SALESFORCE_STREAMING).toBe(true);
    expect(s.SALESFORCE_AUTO_CONVERT).toBe(true);
  });

  it("takes the username-password flow or an access token", () => {
    const pw = parse({
      SALESFORCE_LOGIN_URL: "https://login.salesforce.com",
      SALESFORCE_CLIENT_ID: "id",
      SALESFORCE_CLIENT_SECRET: "secret",
      SALESFORCE_USERNAME: "u@example.com",
      SALESFORCE_PASSWORD: "pw",
      SALESFORCE_STREAMING: "false",
    });
    expect(pw?.auth.kind).toBe("password");
    expect(pw?.streaming).toBe(false);
    const token = parse({
      SALESFORCE_INSTANCE_URL: "https://acme.my.salesforce.com",
      SALESFORCE_ACCESS_TOKEN: "00D!x",
    });
    expect(token?.auth).toMatchObject({
      kind: "token",
      instanceUrl: "https://acme.my.salesforce.com",
    });
  });

  it("names what is missing or wrong", () => {
    expect(() => parse({ SALESFORCE_USERNAME: "u", SALESFORCE_PASSWORD: "p" })).toThrow(
      /set SALESFORCE_LOGIN_URL, SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET/,
    );
    expect(() => parse({ SALESFORCE_ACCESS_TOKEN: "x" })).toThrow(/SALESFORCE_INSTANCE_URL/);
    expect(salesforceEnv.safeParse({ SALESFORCE_API_VERSION: "62" }).success).toBe(false);
    expect(salesforceEnv.safeParse({ SALESFORCE_API_SLOWDOWN_SHARE: "2" }).success).toBe(false);
    expect(() =>
      parse({
        SALESFORCE_INSTANCE_URL: "https://x.example",
        SALESFORCE_ACCESS_TOKEN: "t",
        SALESFORCE_FIELD_MAP: "{not json",
      }),
    ).toThrow(/SALESFORCE_FIELD_MAP is not valid JSON/);
  });
});
