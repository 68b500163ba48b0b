/**
 * `npm start` as a user runs it: the real launcher process against a fresh test database, on
 * free ports.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { createPrincipalSigner, PRINCIPAL_TOKEN_HEADER } from "@pshub/subgraph-kit";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { services } from "./services.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let t: TestDatabase;
const started: ChildProcess[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
});
/**
 * Every launch runs in its own process group (detached): after each test, passed, failed or timed
 * out, the whole group is killed — the launcher and every service it started, not only the
 * launcher (whose children would be left running). Embedded Postgres detaches on purpose; its own
 * describe stops it.
 */
function killLaunches(): void {
  for (const child of started.splice(0)) {
    try {
      process.kill(-(child.pid as number), "SIGKILL");
    } catch {
      // the group is gone already
    }
  }
}
afterEach(killLaunches);
afterAll(async () => {
  killLaunches();
  await t?.drop();
});

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

interface Launch {
  child: ChildProcess;
  output: () => string;
  exitCode: () => number | null;
  exited: Promise<number | null>;
}

/**
 * The launcher itself, or with `viaNpm` the real `npm start`, in its own process group. A variable
 * given as undefined is removed from the environment.
 */
function launch(env: Record<string, string | undefined>, viaNpm = false): Launch {
  const [command, args] = viaNpm
    ? ["npm", ["start", "--silent"]]
    : [process.execPath, ["--import", "tsx", "scripts/start.ts"]];
  const merged: Record<string, string | undefined> = {
    ...process.env,
    LOG_LEVEL: "info",
    NODE_ENV: "production",
    // The human format, as on a terminal; the restart test reads JSON lines instead.
    LOG_FORMAT: "pretty",
    ...env,
  };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: merged,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  started.push(child);
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  return { child, output: () => output, exitCode: () => child.exitCode, exited };
}

/** The pid of the launcher's child running `service` (its entry path names it). */
function serviceChild(launcherPid: number, service: string): number {
  const lines = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(launcherPid)], {
    encoding: "utf8",
  }).split("\n");
  const line = lines.find((l) => l.includes(`/${service}/src/main.ts`));
  if (!line) throw new Error(`no ${service} process under ${launcherPid}`);
  return Number(line.trim().split(/\s+/)[0]);
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function health(port: number): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    return { status: response.status, body: await response.json() };
  } catch {
    return undefined;
  }
}

describe("npm start", () => {
  it("migrates, seeds an empty database, answers /healthz 200 and stops with 0 on SIGTERM", async () => {
    const port = await freePort();
    const run = launch({ DATABASE_URL: t.url, PORT: String(port), PSHUB_SERVICES: "none" });
    const seen = new Set<number>();
    const ok = await waitFor(async () => {
      const h = await health(port);
      if (h) seen.add(h.status);
      return h?.status === 200 ? h : undefined;
    });
    expect(ok.body).toEqual({ status: "ok", services: {} });
    // Served from the start, 503 while migrating and seeding.
    expect(seen.has(503)).toBe(true);
    expect(run.output()).toContain("pshub is up");
    expect(run.output()).toContain(`http://127.0.0.1:${port}/healthz`);
    const [{ n }] = (await t.sql`select count(*)::int as n from customer`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(25);
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain("pshub stopped");
  });

  it("reuses the data of an earlier start: no second seed", async () => {
    const before = await t.sql`select count(*)::int as n from time_entry`;
    const port = await freePort();
    const run = launch({ DATABASE_URL: t.url, PORT: String(port), PSHUB_SERVICES: "none" });
    await waitFor(async () => ((await health(port))?.status === 200 ? true : undefined));
    expect(run.output()).toContain("database has data: not seeding");
    const after = await t.sql`select count(*)::int as n from time_entry`;
    expect(after).toEqual(before);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
  });

  it("npm start stops on Ctrl-C (SIGINT to its process group) with exit code 0", async () => {
    const port = await freePort();
    const run = launch({ DATABASE_URL: t.url, PORT: String(port), PSHUB_SERVICES: "none" }, true);
    await waitFor(async () => ((await health(port))?.status === 200 ? true : undefined));
    process.kill(-(run.child.pid as number), "SIGINT");
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain("pshub stopped");
    expect(await health(port)).toBeUndefined();
  });

  it("refuses a port in use, naming it, before starting anything", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", () => resolve()));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const run = launch({
        DATABASE_URL: t.url,
        PORT: String(await freePort()),
        CUSTOMER_PORT: String(taken),
        PSHUB_SERVICES: "customer",
      });
      expect(await run.exited).toBe(1);
      expect(run.output()).toContain(`port ${taken} (CUSTOMER_PORT) is already in use`);
      expect(run.output()).not.toContain("migrations applied");
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("stops with one clear line on a malformed DATABASE_URL or port", async () => {
    const bad = launch({ DATABASE_URL: "nonsense", PSHUB_SERVICES: "none" });
    expect(await bad.exited).not.toBe(0);
    const lines = bad.output().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^invalid environment variable DATABASE_URL="nonsense": must be a postgres/,
    );

    const badPort = launch({ DATABASE_URL: t.url, PORT: "forty", PSHUB_SERVICES: "none" });
    expect(await badPort.exited).not.toBe(0);
    expect(badPort.output().trim()).toMatch(/^invalid environment variable PORT="forty"/);
  });

  it("runs a registered service, restarts it after a crash (shown in /healthz), and exits 1 naming it when it keeps crashing", async () => {
    const port = await freePort();
    const customerPort = await freePort();
    const subgraphSecret = "a-subgraph-secret-for-this-test-0123456789";
    const run = launch({
      DATABASE_URL: t.url,
      PORT: String(port),
      CUSTOMER_PORT: String(customerPort),
      PSHUB_SERVICES: "customer",
      RESTART_BACKOFF_MS: "200",
      RESTART_LIMIT: "2",
      GATEWAY_SUBGRAPH_SECRET: subgraphSecret,
      LOG_FORMAT: "json",
    });
    const ok = await waitFor(async () => {
      const h = await health(port);
      return h?.status === 200 ? h : undefined;
    }, 90_000);
    expect(ok.body).toEqual({ status: "ok", services: { customer: "healthy" } });
    // LOG_FORMAT=json: the launcher's lines and its child's are JSON records of one schema, the
    // child's passed through with its service name.
    const records = run
      .output()
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(3);
    for (const record of records) {
      expect(typeof record.time).toBe("string");
      expect(typeof record.level).toBe("string");
      expect(typeof record.msg).toBe("string");
      expect(["launcher", "customer"]).toContain(record.service);
    }
    expect(records).toContainEqual(
      expect.objectContaining({ service: "customer", msg: expect.stringMatching(/listening/) }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ service: "launcher", msg: "migrations applied" }),
    );
    // The subgraph answers a principal signed with the secret it was given, as the gateway signs.
    const sign = createPrincipalSigner(subgraphSecret);
    const response = await fetch(`http://127.0.0.1:${customerPort}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [PRINCIPAL_TOKEN_HEADER]: await sign({ id: "t", roles: ["analyst"], method: "jwt" }),
      },
      body: JSON.stringify({ query: "{ customers(first: 1) { totalCount } }" }),
    });
    expect(await response.json()).toEqual({ data: { customers: { totalCount: 25 } } });

    // kill -9: it comes back on its port, and /healthz says it was restarted.
    const firstPid = serviceChild(run.child.pid as number, "customer");
    process.kill(firstPid, "SIGKILL");
    const back = await waitFor(async () => {
      const h = await health(port);
      const body = h?.body as { restarts?: Record<string, { count: number }> } | undefined;
      return h?.status === 200 && body?.restarts?.customer?.count === 1 ? body : undefined;
    }, 60_000);
    expect(back).toMatchObject({
      status: "ok",
      services: { customer: "healthy" },
      restarts: { customer: { count: 1, lastExit: "signal SIGKILL" } },
    });
    expect(run.output()).toMatch(
      /service customer exited unexpectedly \(signal SIGKILL\); restarting it in 200 ms/,
    );
    expect(serviceChild(run.child.pid as number, "customer")).not.toBe(firstPid);
    expect(run.exitCode()).toBeNull();
    const again = await fetch(`http://127.0.0.1:${customerPort}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [PRINCIPAL_TOKEN_HEADER]: await sign({ id: "t", roles: ["analyst"], method: "jwt" }),
      },
      body: JSON.stringify({ query: "{ customers(first: 1) { totalCount } }" }),
    });
    expect(await again.json()).toEqual({ data: { customers: { totalCount: 25 } } });

    // A crash loop: killed each time it is back, it exceeds RESTART_LIMIT and the launcher stops.
    const killer = setInterval(() => {
      try {
        process.kill(serviceChild(run.child.pid as number, "customer"), "SIGKILL");
      } catch {
        // between restarts: nothing to kill yet
      }
    }, 100);
    try {
      expect(await run.exited).toBe(1);
    } finally {
      clearInterval(killer);
    }
    expect(run.output()).toMatch(
      /service customer keeps crashing \(3 exits within 60 s, last: signal SIGKILL\); stopping pshub/,
    );
    expect(run.output()).toContain("pshub stopped after a failure");
  }, 120_000);

  it("runs the whole hub (the subgraphs, then the gateway) and every service stops cleanly on SIGTERM", async () => {
    const ports: Record<string, number> = {};
    for (const service of services) ports[service.portEnv] = await freePort();
    const run = launch({
      DATABASE_URL: t.url,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    });
    // From the spawn on, /healthz every 200 ms: once the launcher says it holds the gateway's port,
    // every poll is answered (503 while starting, then 200), never refused.
    const polls: { held: boolean; status: number | "refused"; body?: unknown }[] = [];
    const ok = await waitFor(async () => {
      const held = run.output().includes(`holding port ${ports.PORT} for the gateway`);
      const h = await health(ports.PORT!);
      polls.push({ held, status: h?.status ?? "refused", body: h?.body });
      return h?.status === 200 ? h : undefined;
    }, 150_000);
    const afterHeld = polls.filter((p) => p.held);
    expect(afterHeld.filter((p) => p.status === "refused")).toEqual([]);
    const starting = afterHeld.filter((p) => p.status === 503);
    expect(starting.length).toBeGreaterThan(0);
    // The launcher's own answer first (its services' states), then the gateway's (its subgraphs').
    expect(starting[0]?.body).toMatchObject({ status: "starting" });
    // The gateway owns /healthz now: every subgraph answers.
    const subgraphs = (ok.body as { subgraphs: Record<string, { status: string }> }).subgraphs;
    const subgraphNames = services
      .filter((s) => s.name !== "gateway" && s.subgraph !== false)
      .map((s) => s.name);
    expect(Object.keys(subgraphs).sort()).toEqual([...subgraphNames].sort());
    expect(Object.values(subgraphs).map((s) => s.status)).toEqual(subgraphNames.map(() => "ok"));
    const response = await fetch(`http://127.0.0.1:${ports.PORT!}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: "{ invoices(first: 1) { totalCount nodes { customer { name } } } }",
      }),
    });
    const body = (await response.json()) as {
      data: { invoices: { totalCount: number; nodes: { customer: { name: string } }[] } };
    };
    expect(body.data.invoices.totalCount).toBeGreaterThan(0);
    expect(body.data.invoices.nodes[0]?.customer.name).toBeTruthy();

    // Sandbox mode: a demo token per role is printed and works; the subgraphs answer only the
    // gateway (a secret generated for the run), not a caller on their own ports.
    // The launcher prints the tokens once it has seen the gateway healthy itself, which can be a
    // moment after /healthz first answers 200 to us.
    await waitFor(async () => (run.output().includes("Demo tokens") ? true : undefined), 30_000);
    const finance = /^\s+finance\s+(\S+)$/m.exec(run.output())?.[1];
    expect(finance).toMatch(/^ey/);
    const withToken = await fetch(`http://127.0.0.1:${ports.PORT!}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${finance}` },
      body: JSON.stringify({ query: "{ invoices(first: 1) { totalCount } }" }),
    });
    expect(withToken.status).toBe(200);
    const badToken = await fetch(`http://127.0.0.1:${ports.PORT!}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${finance}x` },
      body: JSON.stringify({ query: "{ invoices(first: 1) { totalCount } }" }),
    });
    expect(badToken.status).toBe(401);
    // The ops console is served beside the IDE, and its URL is printed with the others.
    expect(run.output()).toMatch(
      new RegExp(`ops console\\s+http://127\\.0\\.0\\.1:${ports.PORT!}/ops\\n`),
    );
    const opsConsole = await fetch(`http://127.0.0.1:${ports.PORT!}/ops`);
    expect(opsConsole.status).toBe(200);
    expect(await opsConsole.text()).toContain("<title>pshub ops console</title>");
    for (const service of services.filter((s) => s.name !== "gateway" && s.subgraph !== false)) {
      const port = ports[service.portEnv];
      const direct = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-pshub-principal": "admin" },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
      expect(direct.status).toBe(401);
    }
    // kill -9 one subgraph: the launcher restarts it and the gateway's /healthz shows it.
    process.kill(serviceChild(run.child.pid as number, "project"), "SIGKILL");
    const restarted = await waitFor(async () => {
      const h = await health(ports.PORT!);
      const report = h?.body as
        | { launcher?: { restarts?: Record<string, { count: number; lastExit: string }> } }
        | undefined;
      return h?.status === 200 && report?.launcher?.restarts?.project?.count === 1
        ? report
        : undefined;
    }, 60_000);
    expect(restarted.launcher?.restarts?.project?.lastExit).toBe("signal SIGKILL");
    expect(run.exitCode()).toBeNull();

    const stoppedAt = Date.now();
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    // Each service left on its own: none had to be killed after the shutdown timeout.
    expect(run.output()).not.toContain("did not stop");
    expect(Date.now() - stoppedAt).toBeLessThan(8_000);
  }, 180_000);

  describe("on embedded Postgres (no DATABASE_URL)", () => {
    const dirs: string[] = [];
    afterAll(async () => {
      for (const dir of dirs) {
        // A failed run may leave the detached server up: stop it (it is this test's own).
        const pidFile = path.join(dir, "pg", "postmaster.pid");
        if (existsSync(pidFile)) {
          const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
          try {
            if (pid > 0) process.kill(pid, "SIGINT");
            for (let i = 0; i < 50 && existsSync(pidFile); i++) {
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          } catch {
            // already gone
          }
        }
        rmSync(dir, { recursive: true, force: true });
      }
    });

    // Ctrl-C on the whole hub (the user's case), SIGTERM on one service.
    for (const [signal, selected] of [
      ["SIGINT", undefined],
      ["SIGTERM", "customer"],
    ] as const) {
      it(`npm start (${selected ?? "every service"}) on a fresh data folder stops on ${signal} to its process group: services, then the database, exit 0`, async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), "pshub-embedded-"));
        dirs.push(dir);
        const dataDir = path.join(dir, "pg");
        const ports: Record<string, string> = {};
        for (const service of services) ports[service.portEnv] = String(await freePort());
        const port = Number(ports.PORT);
        const run = launch(
          {
            DATABASE_URL: undefined,
            PSHUB_DATA_DIR: dataDir,
            ...ports,
            PSHUB_SERVICES: selected,
            PSHUB_SEED: selected ? "none" : "demo",
          },
          true,
        );
        await waitFor(
          async () => ((await health(port))?.status === 200 ? true : undefined),
          120_000,
        );
        await waitFor(async () => (run.output().includes("pshub is up") ? true : undefined));
        expect(run.output()).toContain("(embedded)");
        const pid = Number(
          readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0],
        );
        expect(pid).toBeGreaterThan(0);
        // Out of the launcher's process group: a Ctrl-C in the terminal does not reach it.
        const pgid = (p: number) =>
          Number(execFileSync("ps", ["-o", "pgid=", "-p", String(p)], { encoding: "utf8" }).trim());
        expect(pgid(pid)).not.toBe(pgid(run.child.pid as number));
        // As a terminal's Ctrl-C does: the signal goes to the whole foreground process group.
        process.kill(-(run.child.pid as number), signal);
        expect(await run.exited).toBe(0);
        const output = run.output();
        expect(output).toContain("pshub stopped");
        // The database stopped last: after the service, before the launcher's last line.
        const serviceStopped = output.indexOf("[customer]", output.indexOf("stopping pshub"));
        const dbStopped = output.indexOf("embedded Postgres stopped");
        expect(dbStopped).toBeGreaterThan(output.indexOf("stopping pshub"));
        expect(serviceStopped === -1 || serviceStopped < dbStopped).toBe(true);
        expect(dbStopped).toBeGreaterThan(-1);
        expect(output).not.toMatch(/terminating connection due to administrator command|57P01/);
        expect(existsSync(path.join(dataDir, "postmaster.pid"))).toBe(false);
        expect(() => process.kill(pid, 0)).toThrow();
      }, 180_000);
    }
  });
});
