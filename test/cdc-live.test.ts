/**
 * The live demo of `npm start` in sandbox mode, end to end: the real CDC process (cdc/main.ts, as
 * the launcher runs it, with its PSA, ERP and Salesforce sandboxes and their live activity) over a
 * demo-seeded test database, and the real gateway with subscriptions over every subgraph. Through
 * the gateway: PSA approvals (signed webhooks from the sandbox PSA → inbox → engine) become
 * APPROVED time entries approved by the CDC, each arriving live on a graphql-ws
 * `timeEntryStatusChanged(status: APPROVED)` subscription, and an invoice status change made by
 * the sandbox ERP (posting / payment read back by the NetSuite poller) arrives on another.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { seed } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import {
  type AttachedSubscriptions,
  attachSubscriptions,
  compose,
  createGateway,
  type PshubGateway,
  readAllSubgraphSdl,
} from "@pshub/gateway";
import type { ExecutionResult } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningSubgraphs, startSubgraphs } from "./support/subgraphs.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let database: TestDatabase;
let subgraphs: RunningSubgraphs | undefined;
let gateway: PshubGateway | undefined;
let subscriptions: AttachedSubscriptions | undefined;
let cdc: ChildProcess | undefined;
let cdcOutput = "";
let client: Client | undefined;
let httpUrl = "";
let wsUrl = "";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Ends the CDC process and whatever it started (its own process group), also on failure. */
async function stopCdc() {
  const child = cdc;
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {}
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {}
  }, 8000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  database = await createTestDatabase({ max: 20 });
  await seed.seedDemo(database.sql);
  subgraphs = await startSubgraphs(database.db);
  const composed = compose(readAllSubgraphSdl(subgraphs.urls));
  if (!composed.ok) throw new Error(`composition failed: ${composed.errors.join("; ")}`);
  gateway = await createGateway({
    subgraphUrls: subgraphs.urls,
    supergraph: { sdl: composed.supergraphSdl },
    ide: false,
  });
  const { port } = await gateway.listen({ port: 0 });
  subscriptions = await attachSubscriptions(gateway, { sql: database.sql, url: database.url });
  httpUrl = `http://127.0.0.1:${port}/graphql`;
  wsUrl = `ws://127.0.0.1:${port}/graphql`;
  cdc = spawn(process.execPath, ["--import", "tsx", "cdc/main.ts"], {
    cwd: repoRoot,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      PORT: String(await freePort()),
      LOG_LEVEL: "warn",
      CDC_SANDBOX_ACTIVITY_MS: "300",
      BILLING_CALENDAR_INTERVAL_MS: "1000",
      BILLING_CALENDAR_DEMO_PERIOD_S: "5",
    },
  });
  const keep = (chunk: Buffer) => {
    cdcOutput = (cdcOutput + chunk.toString()).slice(-20_000);
  };
  cdc.stdout?.on("data", keep);
  cdc.stderr?.on("data", keep);
}, 120_000);

afterAll(async () => {
  await client?.dispose();
  await stopCdc();
  await subscriptions?.close();
  await gateway?.close();
  await subgraphs?.close();
  await database?.drop();
});

async function query(text: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(httpUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: text, variables }),
  });
  return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

const approvedByCdc = async () => {
  const r = await query(
    `{ timeEntries(first: 100, filter: { status: [APPROVED] }, orderBy: { field: WORK_DATE, direction: DESC }) { nodes { id approvedBy } } }`,
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  const page = r.data?.timeEntries as { nodes: { approvedBy: string | null }[] } | undefined;
  const nodes = page?.nodes ?? [];
  return nodes.filter((n) => n.approvedBy?.startsWith("cdc:")).length;
};

it("npm start's sandbox activity flows into the graph live: PSA approvals become APPROVED time entries and arrive on a subscription, and an ERP invoice change arrives on another", async () => {
  const before = await approvedByCdc();
  const events: ExecutionResult[] = [];
  const approvals: ExecutionResult[] = [];
  const errors: unknown[] = [];
  client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
  });
  client.subscribe(
    {
      query: `subscription { invoiceStatusChanged { eventId type previousStatus status invoice { id number } } }`,
    },
    {
      next: (r) => void events.push(r as ExecutionResult),
      error: (e) => void errors.push(e),
      complete: () => {},
    },
  );
  client.subscribe(
    {
      query: `subscription { timeEntryStatusChanged(status: APPROVED) { eventId type previousStatus status timeEntry { id status approvedBy project { name } } } }`,
    },
    {
      next: (r) => void approvals.push(r as ExecutionResult),
      error: (e) => void errors.push(e),
      complete: () => {},
    },
  );
  type Approval = {
    type: string;
    previousStatus: string;
    status: string;
    timeEntry: { id: string; status: string; approvedBy: string | null; project: { name: string } };
  };
  const psaApproval = () =>
    approvals
      .map((r) => r.data?.timeEntryStatusChanged as Approval | undefined)
      .find((e) => e?.timeEntry.approvedBy?.startsWith("cdc:"));
  const deadline = Date.now() + 150_000;
  let approved = before;
  const erpChange = () =>
    events.find((e) => {
      const s = (e.data?.invoiceStatusChanged as { status?: string } | undefined)?.status;
      return s === "POSTED" || s === "PARTIALLY_PAID" || s === "PAID";
    });
  while (Date.now() < deadline && (approved <= before || !erpChange() || !psaApproval())) {
    if (cdc?.exitCode !== null && cdc?.exitCode !== undefined)
      throw new Error(`the CDC process exited with ${cdc.exitCode}:\n${cdcOutput}`);
    if (errors.length > 0) throw new Error(`subscription failed: ${JSON.stringify(errors)}`);
    await new Promise((r) => setTimeout(r, 500));
    approved = await approvedByCdc();
  }
  expect(approved, `CDC output:\n${cdcOutput}`).toBeGreaterThan(before);
  // A PSA approval, streamed as it was applied: the CDC's transition, with its time entry.
  const approval = psaApproval();
  expect(
    approval,
    `approvals: ${JSON.stringify(approvals)}\nCDC output:\n${cdcOutput}`,
  ).toMatchObject({
    type: "time_entry.status_changed",
    previousStatus: "SUBMITTED",
    status: "APPROVED",
  });
  // As it is at delivery: the billing calendar may already have billed it.
  expect(["APPROVED", "BILLED"]).toContain(approval!.timeEntry.status);
  expect(approval!.timeEntry.project.name).toBeTruthy();
  for (const r of approvals) {
    expect(r.errors).toBeUndefined();
    expect((r.data?.timeEntryStatusChanged as Approval | undefined)?.status).toBe("APPROVED");
  }
  const change = erpChange();
  expect(change, `events: ${JSON.stringify(events)}\nCDC output:\n${cdcOutput}`).toBeDefined();
  expect(change!.errors).toBeUndefined();
  expect(
    (change!.data!.invoiceStatusChanged as { invoice: { number: string | null } }).invoice.number,
  ).toBeTruthy();
}, 200_000);
