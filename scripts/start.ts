/**
 * `npm start`: one command runs the hub.
 *
 * 1. parses its environment (one clear line per bad variable, exit 78);
 * 2. checks that every port it will use is free, before starting anything;
 * 3. resolves the database (DATABASE_URL, else embedded Postgres in .data/pg, reused if running),
 *    applies the migrations and seeds the demo firm into an empty database;
 * 4. starts every service of scripts/services.ts with tsx (subgraphs first, then the gateway once
 *    they are healthy), prefixing each log line with the service's name;
 * 5. holds PORT from its first second: it listens there itself, answering GET /healthz with 503
 *    `{ status: "starting", services: { name: state } }` (any other path: 503 SERVICE_UNAVAILABLE),
 *    and hands the listening socket to the gateway over IPC when it starts it (again after a
 *    gateway crash), so the port never refuses a connection. Without a gateway it keeps serving
 *    /healthz there: 503 until every service is healthy, then 200;
 * 6. trust between the services: a GATEWAY_SUBGRAPH_SECRET shared by the gateway and the
 *    subgraphs (generated for the run when unset); in development/sandbox mode (no
 *    GATEWAY_JWT_SECRET, GATEWAY_JWKS_URL or GATEWAY_AUTH_MODE=production) also a JWT secret for
 *    the run, with which it signs and prints a demo token per role;
 * 7. prints where to go, and on Ctrl-C / SIGTERM stops the services (SIGTERM, then SIGKILL after
 *    SHUTDOWN_TIMEOUT_MS) and the embedded Postgres it started, exiting 0. A service that dies on
 *    its own is restarted with backoff; one that keeps crashing stops everything with exit code 1
 *    (see crashed()).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { realSourcesConfigured } from "@pshub/cdc/env";
import {
  ConfigError,
  createDbClient,
  createLogger,
  dbEnvSchema,
  loadEnvOrExit,
  logFormat,
  prettyLine,
  type ResolvedDatabase,
  resolveDatabaseUrl,
  runMigrations,
  SERVICE_PORTS,
  seed,
} from "@pshub/db";
import { demoTokens, formatDemoTokens } from "@pshub/gateway/demo-tokens";
import { z } from "zod";
import { services as registry, type ServiceSpec } from "./services.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const port = z.coerce.number().int().min(1).max(65_535);

const envSchema = dbEnvSchema.extend({
  PORT: port.default(SERVICE_PORTS.gateway),
  ...Object.fromEntries(
    registry.filter((s) => s.portEnv !== "PORT").map((s) => [s.portEnv, port.default(s.port)]),
  ),
  /** Comma-separated names of the services to run (default: all of scripts/services.ts). */
  PSHUB_SERVICES: z
    .string()
    .optional()
    .refine(
      (value) =>
        value === undefined ||
        value === "none" ||
        value.split(",").every((name) => registry.some((s) => s.name === name.trim())),
      `must be "none" or a comma-separated list of: ${registry.map((s) => s.name).join(", ") || "(no services registered)"}`,
    ),
  /** "demo" seeds the demo firm into an empty database; "none" starts with whatever is there.
   *  Default: "demo", or "none" when real sources are configured (the hub fills from them). */
  PSHUB_SEED: z.enum(["demo", "none"]).optional(),
  START_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(120_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** A crashed service is restarted after RESTART_BACKOFF_MS × 2^(crashes in the window − 1), ≤ 30 s. */
  RESTART_BACKOFF_MS: z.coerce.number().int().min(10).default(1_000),
  /** More than RESTART_LIMIT crashes of one service within RESTART_WINDOW_MS stop the hub (exit 1). */
  RESTART_LIMIT: z.coerce.number().int().min(0).default(5),
  RESTART_WINDOW_MS: z.coerce.number().int().min(1_000).default(60_000),
  // Read here only to decide what to generate; the services parse them themselves.
  GATEWAY_SUBGRAPH_SECRET: z.string().optional(),
  GATEWAY_JWT_SECRET: z.string().optional(),
  GATEWAY_JWKS_URL: z.string().optional(),
  GATEWAY_AUTH_MODE: z.string().optional(),
  GATEWAY_JWT_ISSUER: z.string().optional(),
  GATEWAY_JWT_AUDIENCE: z.string().optional(),
  /** Where the gateway listens (its own default: loopback in development mode, else 0.0.0.0). */
  HOST: z.string().min(1).optional(),
});

const env = loadEnvOrExit(envSchema) as z.infer<typeof envSchema> & Record<string, number>;
const log = createLogger("launcher", { level: env.LOG_LEVEL, format: logFormat(env.LOG_FORMAT) });

type State = "waiting" | "starting" | "healthy" | "unhealthy" | "restarting" | "exited";

interface Running {
  spec: ServiceSpec;
  port: number;
  state: State;
  child?: ChildProcess;
  /** Restarts after a crash since the launcher started. */
  restarts: number;
  /** When it crashed, within the restart window (the crash-loop rule). */
  crashes: number[];
  lastExit?: string;
  lastExitAt?: string;
}

const selected =
  env.PSHUB_SERVICES === undefined
    ? registry
    : env.PSHUB_SERVICES === "none"
      ? []
      : registry.filter((s) =>
          env.PSHUB_SERVICES?.split(",")
            .map((n) => n.trim())
            .includes(s.name),
        );
const running: Running[] = selected.map((spec) => ({
  spec,
  port: spec.portEnv === "PORT" ? env.PORT : (env[spec.portEnv] ?? spec.port),
  state: "waiting",
  restarts: 0,
  crashes: [],
}));
const launcherServesHealth = !running.some((r) => r.port === env.PORT);
/** The service on PORT (the gateway): it gets the launcher's listening socket (holdPort). */
const portOwner = running.find((r) => r.port === env.PORT);

/** The subgraphs trust only this run's gateway. */
const subgraphSecret = env.GATEWAY_SUBGRAPH_SECRET || randomBytes(32).toString("base64url");
/** Sandbox: nothing configured, so a JWT secret for this run signs the printed demo tokens. */
const sandbox =
  !env.GATEWAY_JWT_SECRET && !env.GATEWAY_JWKS_URL && env.GATEWAY_AUTH_MODE !== "production";
const sandboxJwtSecret = sandbox ? randomBytes(32).toString("base64url") : undefined;
/** The host the gateway would pick itself (gateway/src/main.ts): loopback in development mode. */
const portHost =
  env.HOST ?? (sandbox || env.GATEWAY_AUTH_MODE === "development" ? "127.0.0.1" : "0.0.0.0");

let database: ResolvedDatabase | undefined;
/** Migrated and seeded. */
let prepared = false;
let healthServer: http.Server | undefined;
/** PORT, listened on by the launcher until the gateway takes the socket over. */
let portHolder: http.Server | undefined;
let launcherUrl: string | undefined;
let shuttingDown = false;

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** Resolves when `port` can be bound on 127.0.0.1 (services listen there), false when taken. */
function portIsFree(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(p, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function checkPorts(): Promise<void> {
  const wanted = [
    ...(launcherServesHealth ? [{ port: env.PORT, name: "PORT" }] : []),
    ...running.map((r) => ({ port: r.port, name: r.spec.portEnv })),
  ];
  const seen = new Map<number, string>();
  for (const { port: p, name } of wanted) {
    const other = seen.get(p);
    if (other) fail(`port ${p} is configured twice (${other} and ${name}); give each its own port`);
    seen.set(p, name);
  }
  for (const { port: p, name } of wanted) {
    if (!(await portIsFree(p))) {
      fail(
        `port ${p} (${name}) is already in use; stop what uses it or set ${name} to another port`,
      );
    }
  }
}

function healthBody() {
  const services = Object.fromEntries(running.map((r) => [r.spec.name, r.state]));
  const ready = prepared && running.every((r) => r.state === "healthy");
  const restarted = running.filter((r) => r.restarts > 0 || r.crashes.length > 0);
  const restarts = Object.fromEntries(
    restarted.map((r) => [
      r.spec.name,
      { count: r.restarts, lastExit: r.lastExit, lastExitAt: r.lastExitAt },
    ]),
  );
  return {
    ready,
    body: {
      status: ready ? "ok" : "starting",
      services,
      ...(restarted.length > 0 ? { restarts } : {}),
    },
  };
}

function healthHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (req.method === "GET" && url.pathname === "/healthz") {
    const { ready, body } = healthBody();
    res.writeHead(ready ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("pshub launcher: GET /healthz (the gateway serves the graph once it is registered)\n");
}

/** What the launcher answers on the gateway's port until the gateway has the socket. */
function startingHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/healthz") {
    res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
    res.end(JSON.stringify(healthBody().body));
    return;
  }
  res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
  res.end(
    JSON.stringify({
      errors: [
        {
          message: "pshub is starting; retry in a moment (GET /healthz answers 200 when ready)",
          extensions: { code: "SERVICE_UNAVAILABLE", retryable: true },
        },
      ],
    }),
  );
}

/**
 * Listens on PORT for the gateway (startingHandler) until the gateway takes the socket over.
 * After a gateway crash the port frees once its process is gone: retried for a few seconds.
 */
function holdPort(): Promise<void> {
  if (portHolder) return Promise.resolve();
  holding ??= bindPort().finally(() => {
    holding = undefined;
  });
  return holding;
}
let holding: Promise<void> | undefined;

async function bindPort(): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const server = http.createServer(startingHandler);
    const error = await new Promise<Error | undefined>((resolve) => {
      server.once("error", resolve);
      server.listen(env.PORT, portHost, () => resolve(undefined));
    });
    if (!error) {
      portHolder = server;
      return;
    }
    if (Date.now() > deadline) throw error;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The gateway listens on the held socket now: the launcher stops accepting there. */
function releasePort(): void {
  portHolder?.close();
  portHolder?.closeAllConnections();
  portHolder = undefined;
}

function startHealthServer(): Promise<void> {
  healthServer = http.createServer(healthHandler);
  return new Promise((resolve, reject) => {
    healthServer?.once("error", reject);
    // On PORT while no gateway takes it; otherwise on a free port the gateway is told about
    // (PSHUB_LAUNCHER_URL), whose /healthz then includes the launcher's view (restarts).
    healthServer?.listen(launcherServesHealth ? env.PORT : 0, "127.0.0.1", () => {
      const address = healthServer?.address();
      if (address && typeof address === "object") launcherUrl = `http://127.0.0.1:${address.port}`;
      resolve();
    });
  });
}

/** The launcher's log format; its children always write JSON lines, which it renders in it. */
const format = logFormat(env.LOG_FORMAT);
const render = format === "pretty" ? prettyLine() : undefined;

/**
 * Writes one record in the launcher's format: a JSON line as is (every child writes the one
 * schema, @pshub/db logger.ts), or its pretty line.
 */
function emit(record: Record<string, unknown>, to: NodeJS.WriteStream): void {
  to.write(`${render ? render(record) : JSON.stringify(record)}\n`);
}

/**
 * A child's output, line by line, in the launcher's format. A line that is not a log record (a
 * crash's stack trace, a config error printed before the logger exists) becomes one, with the
 * child's service name, `error` from stderr and `info` from stdout.
 */
function pipeLines(stream: NodeJS.ReadableStream, name: string, to: NodeJS.WriteStream) {
  readline.createInterface({ input: stream }).on("line", (line) => {
    if (line.startsWith("{")) {
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        if (typeof record.msg === "string" || record.msg === undefined) {
          if (render) emit(record, to);
          else to.write(`${line}\n`);
          return;
        }
      } catch {
        // not JSON: wrapped below
      }
    }
    emit(
      {
        time: new Date().toISOString(),
        level: to === process.stderr ? "error" : "info",
        service: name,
        msg: line,
      },
      to,
    );
  });
}

function serviceEnv(url: string): NodeJS.ProcessEnv {
  const urls = Object.fromEntries(
    running
      .filter((r) => r.spec.name !== "gateway" && r.spec.subgraph !== false)
      .map((r) => [
        `SUBGRAPH_${r.spec.name.toUpperCase()}_URL`,
        `http://127.0.0.1:${r.port}/graphql`,
      ]),
  );
  const ports = Object.fromEntries(running.map((r) => [r.spec.portEnv, String(r.port)]));
  return {
    ...process.env,
    ...ports,
    ...urls,
    DATABASE_URL: url,
    ...(launcherUrl ? { PSHUB_LAUNCHER_URL: launcherUrl } : {}),
    GATEWAY_SUBGRAPH_SECRET: subgraphSecret,
    ...(sandboxJwtSecret
      ? { GATEWAY_JWT_SECRET: sandboxJwtSecret, GATEWAY_AUTH_MODE: "development" }
      : {}),
    APOLLO_TELEMETRY_DISABLED: "1",
    LOG_LEVEL: env.LOG_LEVEL,
    // JSON lines, whatever the launcher's own format: it renders them (pipeLines).
    LOG_FORMAT: "json",
  };
}

function spawnService(r: Running, url: string): void {
  const handOver = r === portOwner && portHolder !== undefined;
  const child = spawn(process.execPath, ["--import", "tsx", r.spec.entry], {
    cwd: repoRoot,
    env: {
      ...serviceEnv(url),
      PORT: String(r.port),
      ...(handOver ? { PSHUB_LISTEN_HANDLE: "ipc" } : {}),
    },
    stdio: handOver ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
  });
  if (handOver && portHolder) {
    // Both processes accept on the socket until the gateway listens on it, then only the gateway.
    child.send({ type: "pshub:listen" }, portHolder);
    child.on("message", (message: { type?: string } | null) => {
      if (message?.type === "pshub:listening") releasePort();
    });
  }
  r.child = child;
  r.state = "starting";
  if (child.stdout) pipeLines(child.stdout, r.spec.name, process.stdout);
  if (child.stderr) pipeLines(child.stderr, r.spec.name, process.stderr);
  child.on("exit", (code, signal) => {
    r.state = "exited";
    if (shuttingDown) return;
    // The gateway's port answers 503 again while it is restarted.
    if (r === portOwner)
      holdPort().catch((error: unknown) =>
        log.error({ err: error }, `cannot hold port ${env.PORT}`),
      );
    // A Ctrl-C reaches the children and the launcher together: give our own handler a moment.
    setTimeout(() => {
      if (shuttingDown) return;
      crashed(r, url, signal ? `signal ${signal}` : `exit code ${code}`);
    }, 300);
  });
}

/**
 * The restart policy: a service that exits on its own is started again after a backoff
 * (RESTART_BACKOFF_MS, doubling with each crash inside RESTART_WINDOW_MS, at most 30 s); one that
 * crashes more than RESTART_LIMIT times within the window keeps crashing, and stops the hub with
 * exit code 1, naming it.
 */
function crashed(r: Running, url: string, how: string): void {
  const now = Date.now();
  r.crashes = [...r.crashes.filter((at) => now - at < env.RESTART_WINDOW_MS), now];
  r.lastExit = how;
  r.lastExitAt = new Date(now).toISOString();
  if (r.crashes.length > env.RESTART_LIMIT) {
    log.error(
      `service ${r.spec.name} keeps crashing (${r.crashes.length} exits within ${env.RESTART_WINDOW_MS / 1000} s, last: ${how}); stopping pshub`,
    );
    void shutdown(1);
    return;
  }
  const delay = Math.min(env.RESTART_BACKOFF_MS * 2 ** (r.crashes.length - 1), 30_000);
  r.state = "restarting";
  log.warn(
    `service ${r.spec.name} exited unexpectedly (${how}); restarting it in ${delay} ms (crash ${r.crashes.length} of at most ${env.RESTART_LIMIT} within ${env.RESTART_WINDOW_MS / 1000} s)`,
  );
  setTimeout(async () => {
    if (shuttingDown) return;
    r.restarts++;
    if (r === portOwner) await holdPort().catch(() => undefined);
    spawnService(r, url);
    void (async () => {
      const deadline = Date.now() + env.START_TIMEOUT_MS;
      while (!shuttingDown && r.state === "starting" && Date.now() < deadline) {
        if (await healthy(r)) {
          r.state = "healthy";
          log.info(`${r.spec.name} is healthy again on port ${r.port} (restart ${r.restarts})`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
  }, delay);
}

async function healthy(r: Running): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${r.port}${r.spec.healthPath}`, {
      signal: AbortSignal.timeout(2_000),
    });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

async function waitHealthy(group: Running[]): Promise<void> {
  const deadline = Date.now() + env.START_TIMEOUT_MS;
  while (group.some((r) => r.state !== "healthy")) {
    if (shuttingDown) return;
    for (const r of group) {
      if (r.state === "starting" && (await healthy(r))) {
        r.state = "healthy";
        log.info(`${r.spec.name} is healthy on port ${r.port}`);
      }
    }
    if (Date.now() > deadline) {
      const late = group.filter((r) => r.state !== "healthy").map((r) => r.spec.name);
      log.error(
        `${late.join(", ")} did not answer 200 on their health endpoint within ${env.START_TIMEOUT_MS} ms; stopping pshub`,
      );
      await shutdown(1);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Keeps /healthz honest after start-up: a service that stops answering is reported. */
function monitor(): void {
  const timer = setInterval(async () => {
    for (const r of running) {
      if (r.state === "healthy" || r.state === "unhealthy") {
        r.state = (await healthy(r)) ? "healthy" : "unhealthy";
      }
    }
  }, 5_000);
  timer.unref();
}

async function stopChild(r: Running): Promise<void> {
  const child = r.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => {
    log.warn(`${r.spec.name} did not stop within ${env.SHUTDOWN_TIMEOUT_MS} ms; killing it`);
    child.kill("SIGKILL");
  }, env.SHUTDOWN_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

let stopping: Promise<never> | undefined;

/**
 * Stops everything once; later calls (npm forwards the Ctrl-C its process group already got, a
 * child dies while stopping) wait for the same shutdown.
 */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    shuttingDown = true;
    log.info("stopping pshub");
    // The gateway first, then the subgraphs, then the database.
    await Promise.all(running.filter((r) => r.spec.name === "gateway").map(stopChild));
    await Promise.all(running.map(stopChild));
    await new Promise<void>((resolve) =>
      healthServer ? healthServer.close(() => resolve()) : resolve(),
    );
    releasePort();
    // The database last: every service has let go of its connections.
    if (database?.owned) {
      await database
        .stop()
        .then(() => log.info("embedded Postgres stopped"))
        .catch((error: unknown) =>
          log.warn({ err: error }, "embedded Postgres did not stop cleanly"),
        );
    }
    log.info(code === 0 ? "pshub stopped" : "pshub stopped after a failure");
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    process.exit(code);
  })();
  return stopping;
}

function banner(url: string, embedded: boolean): string {
  const width = Math.max(12, ...running.map((r) => r.spec.name.length + 1));
  const lines = ["", "pshub is up"];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(width)} ${value}`);
  const gateway = running.find((r) => r.spec.name === "gateway");
  if (gateway) {
    row("GraphQL IDE", `http://127.0.0.1:${gateway.port}/`);
    row("ops console", `http://127.0.0.1:${gateway.port}/ops`);
    row("GraphQL API", `http://127.0.0.1:${gateway.port}/graphql`);
  }
  row("health", `http://127.0.0.1:${env.PORT}/healthz`);
  for (const r of running.filter((s) => s.spec.name !== "gateway")) {
    row(r.spec.name, `http://127.0.0.1:${r.port}${r.spec.urlPath ?? "/graphql"}`);
  }
  row("database", `${url.replace(/:[^:@/]*@/, ":***@")}${embedded ? " (embedded)" : ""}`);
  lines.push("Press Ctrl-C to stop.", "");
  return lines.join("\n");
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  // One owner of the signals: the launcher stops the services first, then the database it
  // started (detached, so the terminal's Ctrl-C does not reach it; db/src/embedded.ts), then
  // exits 0.
  process.removeAllListeners(signal);
  process.on(signal, () => {
    void shutdown(0);
  });
}

await checkPorts();
if (portOwner) {
  await holdPort();
  log.info(`holding port ${env.PORT} for the gateway (503 until it is ready)`);
}
await startHealthServer();

try {
  database = await resolveDatabaseUrl(log);
} catch (error) {
  if (error instanceof ConfigError) fail(error.message, 78);
  throw error;
}
const db = database;
try {
  await runMigrations(db.url);
  log.info("migrations applied");
  const seedMode = env.PSHUB_SEED ?? (realSourcesConfigured(process.env) ? "none" : "demo");
  if (seedMode === "none" && !env.PSHUB_SEED)
    log.info("real sources configured: not loading demo data");
  if (seedMode === "demo") {
    const client = createDbClient(db.url, { max: 1, applicationName: "pshub-start" });
    try {
      const seeded = await seed.seedIfEmpty(client.sql);
      if (seeded) {
        log.info(
          `seeded the demo firm: ${seeded.totalRows.toLocaleString("en-US")} rows in ${seeded.seconds.toFixed(1)} s`,
        );
      } else {
        log.info("database has data: not seeding");
      }
    } finally {
      await client.close();
    }
  }
} catch (error) {
  log.error({ err: error }, "could not prepare the database");
  await shutdown(1);
}

prepared = true;

// Subgraphs (everything but the gateway) start together; the gateway once they are healthy.
const first = running.filter((r) => r.spec.name !== "gateway");
const last = running.filter((r) => r.spec.name === "gateway");
for (const r of first) spawnService(r, db.url);
await waitHealthy(first);
for (const r of last) spawnService(r, db.url);
await waitHealthy(last);
if (!shuttingDown) {
  monitor();
  if (running.length === 0) {
    log.info(
      registry.length === 0
        ? "no services registered yet (scripts/services.ts)"
        : "no services selected (PSHUB_SERVICES)",
    );
  }
  // On a terminal a block to read; as JSON one record whose msg is the same block.
  if (render) process.stdout.write(`${banner(db.url, db.embedded)}\n`);
  else log.info(banner(db.url, db.embedded));
  if (sandboxJwtSecret && running.some((r) => r.spec.name === "gateway")) {
    const tokens = await demoTokens({
      secret: sandboxJwtSecret,
      issuer: env.GATEWAY_JWT_ISSUER,
      audience: env.GATEWAY_JWT_AUDIENCE,
    });
    if (render) process.stdout.write(`${formatDemoTokens(tokens)}\n`);
    else log.info({ tokens }, formatDemoTokens(tokens));
  }
}
