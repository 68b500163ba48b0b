/** Child processes for benches: spawn a TypeScript entry with tsx, wait until it answers, stop it. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface Child {
  name: string;
  process: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s; a profiled process needs longer). */
  stop(graceMs?: number): Promise<void>;
}

function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/** Ports the fetch standard refuses ("bad port"), above 1024: a bench must not serve on them. */
const FETCH_BAD_PORTS = new Set([
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669,
  6679, 6697, 10080,
]);

// BENCH_PORTS=4180-4219 keeps a bench's servers inside a port range (engineers sharing a machine
// each have their own); unset, the system picks free ports.
const range = /^(\d+)-(\d+)$/.exec(process.env.BENCH_PORTS ?? "");
let nextInRange = range ? Number(range[1]) : 0;

/** A port that was free a moment ago (bind, read, close): the next free one in BENCH_PORTS, or any. */
export async function freePort(): Promise<number> {
  if (!range) {
    const port = await tryPort(0);
    if (port === undefined) throw new Error("no free port");
    return port;
  }
  while (nextInRange <= Number(range[2])) {
    const candidate = nextInRange++;
    if (FETCH_BAD_PORTS.has(candidate)) continue;
    const port = await tryPort(candidate);
    if (port !== undefined) return port;
  }
  throw new Error(`no free port left in BENCH_PORTS=${process.env.BENCH_PORTS}`);
}

export function spawnTs(
  name: string,
  entry: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Child {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", entry], {
    // Its own process group, so that stop() ends whatever it started too.
    detached: true,
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      APOLLO_TELEMETRY_DISABLED: "1",
      LOG_LEVEL: "warn",
      NODE_ENV: "production",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return {
    name,
    process: child,
    output: () => output,
    stop: (graceMs = 5000) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const group = (signal: NodeJS.Signals) => {
          try {
            if (child.pid) process.kill(-child.pid, signal);
          } catch {
            child.kill(signal);
          }
        };
        const timer = setTimeout(() => group("SIGKILL"), graceMs);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
        group("SIGTERM");
      }),
  };
}

/** Polls `probe` until it resolves true, the child exits, or `timeoutMs` passes. */
export async function waitUntil(
  child: Child,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) {
      throw new Error(`${child.name} exited with ${child.process.exitCode}:\n${child.output()}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${child.name} did not become ready in ${timeoutMs} ms:\n${child.output()}`);
}

export const httpOk = (url: string) => async () =>
  (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;

export const graphqlOk = (url: string) => async () => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ __typename }" }),
    signal: AbortSignal.timeout(2000),
  });
  return response.ok;
};
