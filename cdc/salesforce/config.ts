/**
 * The Salesforce / Certinia settings, as a zod schema over the process environment. cdc/env.ts
 * (the only reader of process.env in cdc/) parses with `salesforceEnv` and hands the result to
 * `salesforceConfig`; with no SALESFORCE_* credentials at all the launcher runs the sandbox in
 * the org's place (`salesforceConfig` returns undefined and the launcher fills in the sandbox's
 * URL and credentials — the connector code cannot tell the difference).
 */
import { z } from "zod";
import { SALESFORCE_DEFAULTS, type SalesforceConfig } from "./connector.ts";
import { loadMappingOverride } from "./field-map.ts";

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0"], { error: "must be true or false" })
    .optional()
    .transform((v) => (v === undefined ? fallback : v === "true" || v === "1"));
const int = (fallback: number, min = 0) =>
  z.coerce.number().int({ error: "must be a whole number" }).min(min).optional().default(fallback);
const url = () => z.url({ error: "must be a URL like https://login.salesforce.com" }).optional();

export const salesforceEnv = z.object({
  SALESFORCE_LOGIN_URL: url(),
  SALESFORCE_CLIENT_ID: z.string().min(1).optional(),
  SALESFORCE_CLIENT_SECRET: z.string().min(1).optional(),
  SALESFORCE_USERNAME: z.string().min(1).optional(),
  SALESFORCE_PASSWORD: z.string().min(1).optional(),
  SALESFORCE_INSTANCE_URL: url(),
  SALESFORCE_ACCESS_TOKEN: z.string().min(1).optional(),
  SALESFORCE_REFRESH_TOKEN: z.string().min(1).optional(),
  SALESFORCE_API_VERSION: z
    .string()
    .regex(/^\d{2}\.0$/, { error: "must be an API version like 62.0" })
    .default(SALESFORCE_DEFAULTS.apiVersion),
  SALESFORCE_POLL_INTERVAL_MS: int(SALESFORCE_DEFAULTS.pollIntervalMs, 100),
  SALESFORCE_STREAMING: bool(SALESFORCE_DEFAULTS.streaming),
  SALESFORCE_CDC_CHANNEL: z
    .string()
    .regex(/^\/data\/\w+$/, { error: "must be a CDC channel like /data/ChangeEvents" })
    .default(SALESFORCE_DEFAULTS.channel),
  SALESFORCE_PAGE_SIZE: int(SALESFORCE_DEFAULTS.pageSize, 1),
  SALESFORCE_BULK_THRESHOLD: int(SALESFORCE_DEFAULTS.bulkThreshold, 0),
  SALESFORCE_LOOKBACK_MS: int(SALESFORCE_DEFAULTS.lookbackMs, 0),
  SALESFORCE_SWEEP_INTERVAL_MS: int(SALESFORCE_DEFAULTS.sweepEveryMs, 0),
  SALESFORCE_API_SLOWDOWN_SHARE: z.coerce
    .number()
    .min(0)
    .max(1, { error: "must be a share between 0 and 1" })
    .default(SALESFORCE_DEFAULTS.slowDownShare),
  SALESFORCE_API_SLOWDOWN_DELAY_MS: int(SALESFORCE_DEFAULTS.slowDownDelayMs, 0),
  SALESFORCE_LIMIT_PAUSE_MS: int(SALESFORCE_DEFAULTS.limitPauseMs, 0),
  SALESFORCE_HTTP_TIMEOUT_MS: int(SALESFORCE_DEFAULTS.httpTimeoutMs, 1000),
  SALESFORCE_CLIENT_NAME: z
    .string()
    .regex(/^[\w.-]+$/)
    .default(SALESFORCE_DEFAULTS.clientName),
  SALESFORCE_INTEGRATION_USER_IDS: z
    .string()
    .optional()
    .transform((v) =>
      v
        ? v
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean)
        : [],
    ),
  SALESFORCE_FIELD_MAP: z.string().optional(),
  SALESFORCE_AUTO_CONVERT: bool(true),
  CERTINIA_ENABLED: bool(SALESFORCE_DEFAULTS.certinia),
});

export type SalesforceEnv = z.output<typeof salesforceEnv>;

const PASSWORD_FLOW = [
  "SALESFORCE_LOGIN_URL",
  "SALESFORCE_CLIENT_ID",
  "SALESFORCE_CLIENT_SECRET",
  "SALESFORCE_USERNAME",
  "SALESFORCE_PASSWORD",
] as const;

/** The org's config from parsed variables; undefined when no credentials are set (sandbox).
 *  Throws one line naming what is missing when the credentials are incomplete. */
export function salesforceConfig(env: SalesforceEnv): Omit<SalesforceConfig, never> | undefined {
  const given = PASSWORD_FLOW.filter((k) => env[k] !== undefined);
  const token =
    env.SALESFORCE_INSTANCE_URL !== undefined || env.SALESFORCE_ACCESS_TOKEN !== undefined;
  let auth: SalesforceConfig["auth"];
  if (given.length > 0 && given.length < PASSWORD_FLOW.length && !token) {
    const missing = PASSWORD_FLOW.filter((k) => env[k] === undefined);
    throw new Error(
      `Salesforce username-password flow: set ${missing.join(", ")} (or unset ${given.join(", ")} to run the sandbox)`,
    );
  }
  if (given.length === PASSWORD_FLOW.length) {
    auth = {
      kind: "password",
      loginUrl: env.SALESFORCE_LOGIN_URL!,
      clientId: env.SALESFORCE_CLIENT_ID!,
      clientSecret: env.SALESFORCE_CLIENT_SECRET!,
      username: env.SALESFORCE_USERNAME!,
      password: env.SALESFORCE_PASSWORD!,
    };
  } else if (token) {
    if (!env.SALESFORCE_INSTANCE_URL || !env.SALESFORCE_ACCESS_TOKEN) {
      throw new Error(
        "Salesforce access token: set both SALESFORCE_INSTANCE_URL and SALESFORCE_ACCESS_TOKEN",
      );
    }
    auth = {
      kind: "token",
      instanceUrl: env.SALESFORCE_INSTANCE_URL,
      accessToken: env.SALESFORCE_ACCESS_TOKEN,
      refreshToken: env.SALESFORCE_REFRESH_TOKEN,
      loginUrl: env.SALESFORCE_LOGIN_URL,
      clientId: env.SALESFORCE_CLIENT_ID,
      clientSecret: env.SALESFORCE_CLIENT_SECRET,
    };
  } else {
    return undefined;
  }
  return { ...settings(env), auth };
}

/** Everything but the credentials (the launcher adds the sandbox's). */
export function settings(env: SalesforceEnv): Omit<SalesforceConfig, "auth"> {
  return {
    apiVersion: env.SALESFORCE_API_VERSION,
    pollIntervalMs: env.SALESFORCE_POLL_INTERVAL_MS,
    streaming: env.SALESFORCE_STREAMING,
    channel: env.SALESFORCE_CDC_CHANNEL,
    pageSize: env.SALESFORCE_PAGE_SIZE,
    bulkThreshold: env.SALESFORCE_BULK_THRESHOLD,
    lookbackMs: env.SALESFORCE_LOOKBACK_MS,
    sweepEveryMs: env.SALESFORCE_SWEEP_INTERVAL_MS,
    slowDownShare: env.SALESFORCE_API_SLOWDOWN_SHARE,
    slowDownDelayMs: env.SALESFORCE_API_SLOWDOWN_DELAY_MS,
    limitPauseMs: env.SALESFORCE_LIMIT_PAUSE_MS,
    httpTimeoutMs: env.SALESFORCE_HTTP_TIMEOUT_MS,
    clientName: env.SALESFORCE_CLIENT_NAME,
    integrationUserIds: env.SALESFORCE_INTEGRATION_USER_IDS,
    fieldMapOverride: loadMappingOverride(env.SALESFORCE_FIELD_MAP),
    certinia: env.CERTINIA_ENABLED,
  };
}
