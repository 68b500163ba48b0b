/**
 * The CDC process: the sync engine with every configured connector, the webhook receiver on PORT
 * (POST /webhooks, GET /healthz), and — for each system without settings — its sandbox in its
 * place (the connector code is the same either way: it only sees URLs and credentials).
 * The outbound worker runs here too (cdc/outbound): it writes through the connectors' own clients
 * and, without settings, to the same sandboxes the connectors read.
 * SIGTERM / SIGINT stop pollers, streams, the receiver and the sandboxes, then exit 0.
 */
import {
  ConfigError,
  createDbClient,
  createLogger,
  createServiceMetrics,
  ensureDemoBillingSchedule,
  registerDbPoolMetrics,
  registerHubStateMetrics,
  resolveDatabaseUrl,
  startTelemetry,
} from "@pshub/db";
import { BillingScheduler } from "./calendar/scheduler.ts";
import { SyncEngine } from "./engine/engine.ts";
import type { AfterApplyHook, Connector } from "./engine/types.ts";
import { type CdcConfig, parseCdcConfig } from "./env.ts";
import { NetSuiteConnector } from "./netsuite/connector.ts";
import { syncCurrencyRates } from "./netsuite/currency-rates.ts";
import { netsuiteHandlers } from "./outbound/netsuite.ts";
import { salesforceHandlers } from "./outbound/salesforce.ts";
import { OutboundWorker } from "./outbound/worker.ts";
import { closedWonHook } from "./salesforce/closed-won.ts";
import { createSalesforceOrg } from "./salesforce/connector.ts";
import { startSandboxActivity } from "./sandbox/activity.ts";
import { NetSuiteSandbox } from "./sandbox/netsuite/server.ts";
import { startSandboxOrg } from "./sandbox/salesforce/launch.ts";
import { newWebhookSecret, WebhookSender } from "./sandbox/webhooks/sender.ts";
import { webhookMappers } from "./webhooks/events.ts";
import { WEBHOOK_SOURCE, WebhookReceiver } from "./webhooks/receiver.ts";

let config: CdcConfig;
try {
  config = parseCdcConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(78);
  }
  throw error;
}
const { env } = config;
const log = createLogger("cdc", env.LOG_LEVEL);
// Traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set (@pshub/db telemetry.ts).
const telemetry = await startTelemetry("cdc");
const database = await resolveDatabaseUrl(log);
const client = createDbClient(database.url, { max: env.DB_POOL_MAX, applicationName: "pshub-cdc" });
const stops: (() => Promise<void> | void)[] = [];
// GET /metrics on the receiver's port: the pool, and the hub's state (sync lag, inbox and outbound
// queues, open exceptions), which the sync process reports for the whole hub.
const metrics = createServiceMetrics("cdc", { defaultMetrics: true, token: env.METRICS_TOKEN });
registerDbPoolMetrics(metrics.registry, client);
registerHubStateMetrics(metrics.registry, client.sql);

const connectors: Connector[] = [];
const hooks: AfterApplyHook[] = [];

// Salesforce + Certinia (one org).
let salesforceAuth = config.salesforce.auth;
if (!salesforceAuth) {
  const { sandbox, auth } = await startSandboxOrg();
  stops.push(() => sandbox.stop());
  salesforceAuth = auth;
  log.info({ url: sandbox.url }, "Salesforce sandbox running in place of a real org");
}
const org = createSalesforceOrg(
  { ...config.salesforce, auth: salesforceAuth },
  client.db,
  (message, detail) => log.info(detail ?? {}, message),
);
connectors.push(...org.connectors);
hooks.push(closedWonHook({ autoConvert: env.SALESFORCE_AUTO_CONVERT }));

// NetSuite.
let netsuiteSandbox: NetSuiteSandbox | undefined;
let erp: NetSuiteConnector;
if (config.netsuite.mode === "real") {
  erp = new NetSuiteConnector({
    baseUrl: config.netsuite.baseUrl,
    auth: {
      accessToken: config.netsuite.accessToken,
      clientCredentials: config.netsuite.clientCredentials,
    },
    pageSize: env.NETSUITE_PAGE_SIZE,
    lookbackSeconds: env.NETSUITE_LOOKBACK_SECONDS,
    pollIntervalMs: env.NETSUITE_POLL_INTERVAL_MS,
  });
} else {
  netsuiteSandbox = new NetSuiteSandbox();
  const baseUrl = await netsuiteSandbox.listen(0);
  stops.push(() => netsuiteSandbox?.close());
  erp = new NetSuiteConnector({
    baseUrl,
    auth: { accessToken: [...netsuiteSandbox.accessTokens][0]! },
    lookbackSeconds: env.NETSUITE_LOOKBACK_SECONDS,
    pollIntervalMs: Math.min(env.NETSUITE_POLL_INTERVAL_MS, 3_000),
  });
  log.info({ url: baseUrl }, "NetSuite sandbox running in place of a real account");
}
connectors.push(erp);

// Webhooks: the receiver on PORT; in sandbox mode a signing sender pushes PSA activity.
const secrets = config.webhooks.mode === "real" ? config.webhooks.secrets : [newWebhookSecret()];
const receiver = new WebhookReceiver({
  client,
  secrets,
  maxBodyBytes: env.WEBHOOK_MAX_BODY_BYTES,
  logger: log,
  metrics,
});

const engine = new SyncEngine({
  client,
  databaseUrl: database.url,
  connectors,
  sourceMappers: { [WEBHOOK_SOURCE]: webhookMappers },
  hooks,
  logger: log,
  batchSize: env.CDC_BATCH_SIZE,
});
await engine.start();
const port = await receiver.listen(env.PORT);
log.info({ url: `http://127.0.0.1:${port}/webhooks` }, "webhook receiver listening");

let stopActivity = () => {};
if (env.CDC_SANDBOX_ACTIVITY_MS > 0 && (config.webhooks.mode === "sandbox" || netsuiteSandbox)) {
  const activity = startSandboxActivity({
    db: client.db,
    intervalMs: env.CDC_SANDBOX_ACTIVITY_MS,
    sender:
      config.webhooks.mode === "sandbox"
        ? new WebhookSender(`http://127.0.0.1:${port}/webhooks`, secrets[0]!)
        : undefined,
    netsuite: netsuiteSandbox,
    logger: log,
  });
  stopActivity = () => activity.stop();
}

// The outbound worker: write-back to the ERP, Salesforce and the PSA through the same clients the
// connectors use (so the Salesforce writes are the integration user's, and CDC skips their echo).
let outbound: OutboundWorker | undefined;
if (env.OUTBOUND_CONCURRENCY > 0) {
  const concurrency = env.OUTBOUND_CONCURRENCY;
  outbound = new OutboundWorker({
    client,
    handlers: {
      ...netsuiteHandlers(erp.client, { serviceItemId: env.NETSUITE_SERVICE_ITEM_ID }),
      ...salesforceHandlers(org.client),
    },
    pollMs: env.OUTBOUND_POLL_MS,
    targets: { ERP: { concurrency }, SALESFORCE: { concurrency }, PSA: { concurrency } },
    logger: log,
    onError: (error) => log.warn({ err: error }, "outbound worker tick failed"),
  });
  outbound.start();
  log.info({ concurrency }, "outbound worker running");
}

// NetSuite's currency rates → fx_rate, at start and then every interval (the KPIs convert with them).
let fxTimer: NodeJS.Timeout | undefined;
if (env.NETSUITE_FX_RATES_INTERVAL_MS > 0) {
  const syncRates = () =>
    syncCurrencyRates(erp.client, client.db).then(
      (result) => log.info(result, "NetSuite currency rates read"),
      (error) =>
        log.warn({ err: error }, "NetSuite currency rates: sync failed; retried next interval"),
    );
  void syncRates();
  fxTimer = setInterval(syncRates, env.NETSUITE_FX_RATES_INTERVAL_MS);
  fxTimer.unref();
}

// The billing calendar: contracts with a billing schedule bill themselves (leader-locked).
let calendar: BillingScheduler | undefined;
if (env.BILLING_CALENDAR_INTERVAL_MS > 0) {
  const demoPeriodS = netsuiteSandbox ? env.BILLING_CALENDAR_DEMO_PERIOD_S : 0;
  if (demoPeriodS > 0) {
    const demo = await ensureDemoBillingSchedule(client.db);
    if (demo)
      log.info({ contractId: demo, periodSeconds: demoPeriodS }, "demo billing schedule set");
  }
  calendar = new BillingScheduler({
    client,
    databaseUrl: database.url,
    intervalMs: demoPeriodS
      ? Math.min(env.BILLING_CALENDAR_INTERVAL_MS, (demoPeriodS * 1000) / 4)
      : env.BILLING_CALENDAR_INTERVAL_MS,
    periodSeconds: demoPeriodS || undefined,
    logger: log,
  });
  calendar.start();
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    stopActivity();
    clearInterval(fxTimer);
    await calendar?.stop();
    // Within the launcher's shutdown timeout: a slow target must not hold the process.
    await outbound?.stop(3_000);
    await receiver.close();
    await engine.stop();
    // The sandboxes last: the connectors talk to them until they have stopped.
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => {});
    await client.close();
    await database.stop();
    await telemetry?.shutdown().catch(() => {});
    process.exit(0);
  });
}
