/**
 * `.ci/run`'s choice of Postgres (.ci/postgres.sh), against real servers: a throwaway cluster of
 * the machine's Postgres binaries on a port that is not 5432, found through `pg_lsclusters`; and
 * a cluster that cannot be reached, which falls back to embedded Postgres and says so. Only
 * `pg_lsclusters` (which clusters exist) and `pg_ctlcluster` (never start the machine's services
 * from a test) are replaced, by scripts on PATH; pg_isready and psql are the real ones.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const pgRoot = "/usr/lib/postgresql";
const version = existsSync(pgRoot)
  ? readdirSync(pgRoot)
      .filter((v) => existsSync(path.join(pgRoot, v, "bin", "pg_ctl")))
      .sort((a, b) => Number(a) - Number(b))
      .at(-1)
  : undefined;
const haveTools = version !== undefined && spawnSync("pg_isready", ["--version"]).status === 0;
const asRoot = process.getuid?.() === 0;

let dir: string;
let dataDir: string;
let port: number;
let started = false;

/** Runs a Postgres binary as the `postgres` user when we are root (Postgres refuses root). */
function pgBin(name: string, args: string[]): string {
  const binary = path.join(pgRoot, version as string, "bin", name);
  const [command, argv] = asRoot
    ? ["runuser", ["-u", "postgres", "--", binary, ...args]]
    : [binary, args];
  return execFileSync(command, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

beforeAll(async () => {
  if (!haveTools) return;
  dir = mkdtempSync(path.join(os.tmpdir(), "pshub-ci-pg-"));
  chmodSync(dir, 0o755);
  dataDir = path.join(dir, "data");
  if (asRoot) execFileSync("install", ["-d", "-o", "postgres", "-g", "postgres", dataDir]);
  pgBin("initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync"]);
  port = await freePort();
  pgBin("pg_ctl", [
    "-D",
    dataDir,
    "-w",
    "-l",
    path.join(dataDir, "server.log"),
    "-o",
    `-p ${port} -c listen_addresses=127.0.0.1 -k ${dataDir}`,
    "start",
  ]);
  started = true;
}, 60_000);

afterAll(() => {
  if (started) pgBin("pg_ctl", ["-D", dataDir, "-m", "immediate", "stop"]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs ci_choose_postgres with these fake clusters; returns its output and DATABASE_URL. */
function choose(clusters: string): { output: string; url: string } {
  const bin = mkdtempSync(path.join(os.tmpdir(), "pshub-ci-bin-"));
  try {
    writeFileSync(
      path.join(bin, "pg_lsclusters"),
      `#!/bin/sh\n[ "$1" = "-h" ] || echo "Ver Cluster Port Status Owner Data directory Log file"\nprintf '%s\\n' "${clusters}"\n`,
      { mode: 0o755 },
    );
    writeFileSync(path.join(bin, "pg_ctlcluster"), '#!/bin/sh\necho "refused: $*" >&2\nexit 1\n', {
      mode: 0o755,
    });
    const result = spawnSync(
      "bash",
      [
        "-c",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash expansion
        'set -euo pipefail; export DATABASE_URL=postgres://stale@127.0.0.1:1/x; source .ci/postgres.sh; ci_choose_postgres; echo "URL=${DATABASE_URL:-}"',
      ],
      {
        cwd: repoRoot,
        encoding: "utf8",
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CI_PG_WAIT_SECONDS: "2" },
      },
    );
    expect(result.status, result.stderr).toBe(0);
    const url = /URL=(.*)$/m.exec(result.stdout)?.[1] ?? "";
    return { output: result.stdout + result.stderr, url };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

describe.skipIf(!haveTools)(".ci/run chooses the Postgres for the tests", () => {
  it("uses the cluster's own port from pg_lsclusters, not 5432", () => {
    expect(port).not.toBe(5432);
    const { output, url } = choose(`${version} ci ${port} online postgres ${dataDir} /dev/null`);
    expect(url).toBe(`postgres://postgres@127.0.0.1:${port}/postgres`);
    expect(output).toContain(`tests use postgres://postgres@127.0.0.1:${port}/postgres`);
    // The URL it exports really reaches that server.
    expect(execFileSync("psql", [url, "-Atc", "show port"], { encoding: "utf8" }).trim()).toBe(
      String(port),
    );
  });

  it("falls back to embedded Postgres, saying so, when the cluster cannot be reached", async () => {
    const nothing = await freePort();
    const { output, url } = choose(`${version} gone ${nothing} down postgres /nowhere /dev/null`);
    expect(url).toBe("");
    expect(output).toContain(`starting the Postgres ${version}/gone cluster (port ${nothing})`);
    expect(output).toContain(
      `does not answer on port ${nothing}: falling back to embedded Postgres`,
    );
  });

  it("falls back when the cluster wants a password (no trust authentication)", () => {
    writeFileSync(
      path.join(dataDir, "pg_hba.conf"),
      "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
    );
    pgBin("pg_ctl", ["-D", dataDir, "reload"]);
    const { output, url } = choose(`${version} ci ${port} online postgres ${dataDir} /dev/null`);
    expect(url).toBe("");
    expect(output).toMatch(
      new RegExp(
        `on port ${port} refused postgres without a password \\(.*password.*\\): falling back to embedded Postgres`,
      ),
    );
  });
});
