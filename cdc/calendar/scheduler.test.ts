/**
 * The billing calendar's process: kill -9 in the middle of a run (inside its transaction), then a
 * restart, bills the period once; two schedulers: one leader, and the leader's death hands over;
 * the demo schedule bills a contract on its own, period after period.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ensureDemoBillingSchedule, execute, operations, schema } from "@pshub/db";
import {
  addTime,
  createTestDatabase,
  newResource,
  seedBasics,
  type TestDatabase,
  wonOpportunity,
} from "@pshub/db/testing";
import { eq, inArray } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BillingScheduler } from "./scheduler.ts";

let t: TestDatabase;
const ctx = { actor: "test" };
const children = new Set<ChildProcess>();
const schedulers = new Set<BillingScheduler>();

beforeAll(async () => {
  t = await createTestDatabase();
});
afterEach(async () => {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
  for (const s of schedulers) await s.stop().catch(() => {});
  schedulers.clear();
});
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await t?.drop();
});

/** The first day of the month before the database's current month (a period that is due). */
async function lastMonth(): Promise<string> {
  const [row] = await t.sql<{ d: string }[]>`
    select to_char(date_trunc('month', current_date) - interval '1 month', 'YYYY-MM-DD') as d`;
  return row!.d;
}

/** An active T&M contract with two approved entries last month; its schedule on (auto-issue). */
async function scheduledContract(schedule = true, db: TestDatabase = t) {
  const first = await lastMonth();
  const basics = await seedBasics(db.db, { taxRate: "0.1000" });
  const opportunityId = await wonOpportunity(db.db, basics, {
    startDate: `${first.slice(0, 4)}-01-01`,
    endDate: null,
  });
  const { contract, project } = await execute(db.db, operations.convertOpportunity, ctx, {
    opportunityId,
  });
  await execute(db.db, operations.activateProject, ctx, { projectId: project.id });
  const ids = await addTime(db.db, project.id, await newResource(db.db), [
    { workDate: first, hours: "3.00", billRate: "100.00" },
    { workDate: first.replace(/-01$/, "-10"), hours: "1.50", billRate: "100.00" },
  ]);
  await execute(db.db, operations.approveTimeEntries, ctx, { ids });
  if (schedule)
    await execute(db.db, operations.setBillingSchedule, ctx, {
      contractId: contract.id,
      enabled: true,
      autoIssue: true,
    });
  return { contractId: contract.id, projectId: project.id };
}

const invoicesOf = (contractId: string) =>
  t.db.select().from(schema.invoice).where(eq(schema.invoice.contractId, contractId));
const runsOf = (contractId: string) =>
  t.db.select().from(schema.billingRun).where(eq(schema.billingRun.contractId, contractId));

const script = fileURLToPath(new URL("./testing/scheduler.ts", import.meta.url));

/** Starts the scheduler process; resolves with its first line ("paused" or "done …"). */
function startProcess(pauseAt?: string): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", script, JSON.stringify({ databaseUrl: t.url, pauseAt })],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l === "paused" || l.startsWith("done"));
      if (line) resolve({ child, line });
    });
    child.once("exit", (code) => reject(new Error(`scheduler exited ${code}: ${out}`)));
  });
}

async function kill9(child: ChildProcess) {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
  children.delete(child);
}

function scheduler(
  runner: string,
  options: Partial<ConstructorParameters<typeof BillingScheduler>[0]> = {},
) {
  const s = new BillingScheduler({ client: t, databaseUrl: t.url, runner, ...options });
  schedulers.add(s);
  return s;
}

describe("billing scheduler process", () => {
  it("kill -9 mid-run (invoice generated and issued, not committed): nothing is left; the restarted scheduler bills the period once", async () => {
    const { contractId } = await scheduledContract();
    const { child, line } = await startProcess("issued");
    expect(line).toBe("paused");
    // Inside its transaction: nothing visible yet.
    expect(await invoicesOf(contractId)).toHaveLength(0);
    expect(await runsOf(contractId)).toHaveLength(0);
    await kill9(child);
    expect(await invoicesOf(contractId)).toHaveLength(0);
    const [events] = await t.sql<{ n: number }[]>`
      select count(*)::int as n from billing_event where contract_id = ${contractId}`;
    expect(events!.n).toBe(0);

    // The restart takes the freed leader lock and bills the period.
    const restarted = await startProcess();
    expect(JSON.parse(restarted.line.slice(5))).toMatchObject({ leader: true, issued: 1 });
    await kill9(restarted.child);
    const invoices = await invoicesOf(contractId);
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({ status: "ISSUED", subtotal: "450.00", tax: "45.00" });
    const runs = await runsOf(contractId);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "ISSUED", invoiceId: invoices[0]!.id, attempts: 1 });
    expect(runs[0]!.runner).toBe(`crash-${restarted.child.pid}`);
    const commands = await t.db
      .select()
      .from(schema.outboundCommand)
      .where(eq(schema.outboundCommand.entityId, invoices[0]!.id));
    expect(commands).toHaveLength(1);

    // Killed after its commit, restarted again: nothing more.
    const again = await startProcess();
    expect(JSON.parse(again.line.slice(5))).toMatchObject({ leader: true, due: 0 });
    expect(await invoicesOf(contractId)).toHaveLength(1);
  });

  it("two schedulers at once: one is the leader and bills; when it dies the other takes over", async () => {
    const a = await scheduledContract();
    const one = scheduler("one");
    const two = scheduler("two");
    const [r1, r2] = await Promise.all([one.tick(), two.tick()]);
    expect([r1, r2].filter((r) => r === undefined)).toHaveLength(1);
    expect(one.isLeader() !== two.isLeader()).toBe(true);
    expect(await invoicesOf(a.contractId)).toHaveLength(1);

    const b = await scheduledContract();
    const [leader, other] = one.isLeader() ? [one, two] : [two, one];
    expect(await other.tick()).toBeUndefined();
    expect(await invoicesOf(b.contractId)).toHaveLength(0);
    await leader.stop();
    schedulers.delete(leader);
    const took = await other.tick();
    expect(took).toMatchObject({ issued: 1 });
    expect(other.isLeader()).toBe(true);
    expect(await invoicesOf(b.contractId)).toHaveLength(1);
    expect(await invoicesOf(a.contractId)).toHaveLength(1);
  });

  it("the demo: a contract gets a schedule and bills itself on its own, period after period (1 s periods)", async () => {
    // The demo picks a contract only when no schedule exists: in a fresh database of its own.
    const own = await createTestDatabase();
    try {
      const { contractId, projectId } = await scheduledContract(false, own);
      expect(await ensureDemoBillingSchedule(own.db)).toBe(contractId);
      expect(await ensureDemoBillingSchedule(own.db)).toBeNull();
      const s = new BillingScheduler({
        client: own,
        databaseUrl: own.url,
        intervalMs: 200,
        periodSeconds: 1,
      });
      schedulers.add(s);
      s.start();
      const invoices = async () =>
        own.db.select().from(schema.invoice).where(eq(schema.invoice.contractId, contractId));
      const waitFor = async (n: number) => {
        for (let i = 0; i < 150 && (await invoices()).length < n; i++)
          await new Promise((r) => setTimeout(r, 100));
        return invoices();
      };
      const first = await waitFor(1);
      expect(first).toHaveLength(1);
      expect(first[0]!.status).toBe("ISSUED");
      // New approved work: the next period bills it, with nobody pressing a button.
      const ids = await addTime(own.db, projectId, await newResource(own.db), [
        { workDate: (await lastMonth()).replace(/-01$/, "-20"), hours: "2.00", billRate: "50.00" },
      ]);
      await execute(own.db, operations.approveTimeEntries, ctx, { ids });
      const second = await waitFor(2);
      expect(second).toHaveLength(2);
      expect(second.map((i) => i.subtotal).sort()).toEqual(["100.00", "450.00"]);
      await s.stop();
      schedulers.delete(s);
      const runs = await own.db
        .select()
        .from(schema.billingRun)
        .where(inArray(schema.billingRun.status, ["ISSUED"]));
      expect(runs).toHaveLength(2);
      expect(runs.every((r) => /^S1:/.test(r.period))).toBe(true);
      const [audit] = await own.sql<{ n: number }[]>`
        select count(*)::int as n from audit_log where operation = 'setBillingSchedule'
          and actor = 'billing-calendar-demo'`;
      expect(audit!.n).toBe(1);
    } finally {
      await own.drop();
    }
  });
});
