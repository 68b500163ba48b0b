/**
 * The CDC process's configuration: the only reader of process.env in cdc/. Parsed once with zod;
 * every problem is one line naming the variable. For each source system: with none of its
 * settings present its sandbox runs in its place; with some of them, the missing ones are errors.
 */
import { readFileSync } from "node:fs";
import { ConfigError, dbEnvSchema, parseEnv, SERVICE_PORTS } from "@pshub/db";
import { z } from "zod";
import { salesforceConfig, salesforceEnv, settings } from "./salesforce/config.ts";
import type { SalesforceConfig } from "./salesforce/connector.ts";

const url = z.url({ error: "must be an http(s) URL" });
const ms = (d: number) => z.coerce.number().int().min(100).max(86_400_000).default(d);

export const cdcEnvSchema = dbEnvSchema.extend(salesforceEnv.shape).extend({
  /** The CDC process's HTTP port: POST /webhooks, GET /healthz. */
  PORT: z.coerce.number().int().min(0).max(65535).default(SERVICE_PORTS.cdc),
  // NetSuite
  NETSUITE_BASE_URL: url.optional(),
  NETSUITE_ACCESS_TOKEN: z.string().min(1).optional(),
  NETSUITE_CLIENT_ID: z.string().min(1).optional(),
  NETSUITE_CERTIFICATE_ID: z.string().min(1).optional(),
  /** PKCS#8 PEM (literal, \n escapes allowed) … */
  NETSUITE_PRIVATE_KEY: z.string().min(1).optional(),
  /** … or a file holding it. */
  NETSUITE_PRIVATE_KEY_FILE: z.string().min(1).optional(),
  NETSUITE_JWT_ALGORITHM: z
    // NetSuite's documented client-assertion algorithms (RSA PKCS#1 v1.5, RS256, is not one).
    .enum(["PS256", "PS384", "PS512", "ES256", "ES384", "ES512"])
    .default("PS256"),
  NETSUITE_TOKEN_URL: url.optional(),
  NETSUITE_POLL_INTERVAL_MS: ms(60_000),
  NETSUITE_LOOKBACK_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  NETSUITE_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(1000),
  /** How often NetSuite's currency rates are read into fx_rate (the KPIs' conversions); 0 = never. */
  NETSUITE_FX_RATES_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(3_600_000),
  // Webhooks
  WEBHOOK_SECRETS: z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .refine(
      (list) => list.length > 0 && list.every((s) => /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(s)),
      "must be comma-separated whsec_<base64> secrets",
    )
    .optional(),
  WEBHOOK_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_000_000).default(262_144),
  // Engine and sandboxes
  CDC_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Sandbox live activity (PSA approvals, ERP payments) every N ms; 0 = off. */
  CDC_SANDBOX_ACTIVITY_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  // Outbound worker (cdc/outbound)
  /** Commands running at once per target (ERP, SALESFORCE, PSA); 0 = the worker does not run here. */
  OUTBOUND_CONCURRENCY: z.coerce.number().int().min(0).max(256).default(8),
  /** How often an idle worker looks for due commands. */
  OUTBOUND_POLL_MS: ms(500),
  /** The NetSuite service item invoice lines are booked to. */
  NETSUITE_SERVICE_ITEM_ID: z.string().min(1).default("1"),
  // Billing calendar (cdc/calendar)
  /** How often the billing calendar looks for due runs; 0 = the calendar does not run here. */
  BILLING_CALENDAR_INTERVAL_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
  /**
   * Demo: with the ERP sandbox (no NetSuite settings), MONTHLY schedules bill n-second periods and
   * one demo contract gets a schedule if none has one; 0 = real months, no demo schedule.
   */
  BILLING_CALENDAR_DEMO_PERIOD_S: z.coerce.number().int().min(0).max(86_400).default(60),
});

export type CdcEnv = z.infer<typeof cdcEnvSchema>;

/** What the env says about each system: real settings, or the sandbox. */
export interface CdcConfig {
  env: CdcEnv;
  /** The org's settings; `auth` undefined = run the Salesforce sandbox and use its credentials. */
  salesforce: Omit<SalesforceConfig, "auth"> & { auth?: SalesforceConfig["auth"] };
  netsuite:
    | { mode: "sandbox" }
    | {
        mode: "real";
        baseUrl: string;
        accessToken?: string;
        clientCredentials?: {
          clientId: string;
          certificateId: string;
          privateKey: string;
          algorithm: string;
          tokenUrl?: string;
        };
      };
  webhooks: { mode: "sandbox" } | { mode: "real"; secrets: string[] };
}

const SALESFORCE_KEYS = [
  "SALESFORCE_LOGIN_URL",
  "SALESFORCE_CLIENT_ID",
  "SALESFORCE_CLIENT_SECRET",
  "SALESFORCE_USERNAME",
  "SALESFORCE_PASSWORD",
  "SALESFORCE_INSTANCE_URL",
  "SALESFORCE_ACCESS_TOKEN",
  "SALESFORCE_REFRESH_TOKEN",
] as const;
const NETSUITE_KEYS = [
  "NETSUITE_BASE_URL",
  "NETSUITE_ACCESS_TOKEN",
  "NETSUITE_CLIENT_ID",
  "NETSUITE_CERTIFICATE_ID",
  "NETSUITE_PRIVATE_KEY",
  "NETSUITE_PRIVATE_KEY_FILE",
  "NETSUITE_TOKEN_URL",
] as const;

/** Real sources configured? (npm start then loads no demo data.) */
export function realSourcesConfigured(source: NodeJS.ProcessEnv): boolean {
  return [...SALESFORCE_KEYS, ...NETSUITE_KEYS].some((k) => !!source[k]);
}

/** Parses and cross-checks the environment; throws ConfigError with one line per problem. */
export function parseCdcConfig(source: NodeJS.ProcessEnv): CdcConfig {
  const env = parseEnv(cdcEnvSchema, source);
  const problems: string[] = [];
  const need = (name: keyof CdcEnv, why: string) => {
    if (!env[name]) problems.push(`missing environment variable ${name}: required ${why}`);
  };
  let salesforce: CdcConfig["salesforce"] = settings(env);
  try {
    salesforce = salesforceConfig(env) ?? salesforce;
  } catch (error) {
    problems.push(`invalid Salesforce settings: ${(error as Error).message}`);
  }
  let netsuite: CdcConfig["netsuite"] = { mode: "sandbox" };
  if (NETSUITE_KEYS.some((k) => env[k])) {
    need(
      "NETSUITE_BASE_URL",
      "for NetSuite (the REST root, e.g. https://123456.suitetalk.api.netsuite.com)",
    );
    const m2m = !!(
      env.NETSUITE_CLIENT_ID ||
      env.NETSUITE_CERTIFICATE_ID ||
      env.NETSUITE_PRIVATE_KEY ||
      env.NETSUITE_PRIVATE_KEY_FILE
    );
    if (!m2m)
      need(
        "NETSUITE_ACCESS_TOKEN",
        "with NETSUITE_BASE_URL (or the client-credentials settings NETSUITE_CLIENT_ID, NETSUITE_CERTIFICATE_ID, NETSUITE_PRIVATE_KEY)",
      );
    let privateKey = env.NETSUITE_PRIVATE_KEY?.replace(/\\n/g, "\n");
    if (m2m) {
      need("NETSUITE_CLIENT_ID", "for NetSuite client credentials");
      need("NETSUITE_CERTIFICATE_ID", "for NetSuite client credentials");
      if (!privateKey && env.NETSUITE_PRIVATE_KEY_FILE) {
        try {
          privateKey = readFileSync(env.NETSUITE_PRIVATE_KEY_FILE, "utf8");
        } catch (error) {
          problems.push(
            `invalid environment variable NETSUITE_PRIVATE_KEY_FILE=${JSON.stringify(env.NETSUITE_PRIVATE_KEY_FILE)}: cannot be read (${(error as Error).message})`,
          );
        }
      }
      if (!privateKey && !env.NETSUITE_PRIVATE_KEY_FILE)
        problems.push(
          "missing environment variable NETSUITE_PRIVATE_KEY: required for NetSuite client credentials (or NETSUITE_PRIVATE_KEY_FILE)",
        );
      if (privateKey && !privateKey.includes("PRIVATE KEY-----"))
        problems.push(
          "invalid environment variable NETSUITE_PRIVATE_KEY: must be a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)",
        );
    }
    netsuite = {
      mode: "real",
      baseUrl: env.NETSUITE_BASE_URL ?? "",
      accessToken: m2m ? undefined : env.NETSUITE_ACCESS_TOKEN,
      clientCredentials: m2m
        ? {
            clientId: env.NETSUITE_CLIENT_ID ?? "",
            certificateId: env.NETSUITE_CERTIFICATE_ID ?? "",
            privateKey: privateKey ?? "",
            algorithm: env.NETSUITE_JWT_ALGORITHM,
            tokenUrl: env.NETSUITE_TOKEN_URL,
          }
        : undefined,
    };
  }
  const webhooks: CdcConfig["webhooks"] = env.WEBHOOK_SECRETS
    ? { mode: "real", secrets: env.WEBHOOK_SECRETS }
    : { mode: "sandbox" };
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return { env, salesforce, netsuite, webhooks };
}
