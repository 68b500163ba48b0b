/**
 * Every example tab of the IDE (gateway/src/ide/examples.ts), clicked and run in headless
 * Chromium against a stack seeded with the demo firm as `npm start` seeds it: each answers
 * without errors and with what its comment promises (real demo ids, open invoices only, the
 * customer group's tree, a live status event, an idempotent issue).
 */
import { execute, operations, seed } from "@pshub/db";
import { DEMO_IDS, EXAMPLE_TABS } from "@pshub/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Browser,
  editorText,
  launchBrowser,
  QUERY_EDITOR,
  waitForResponse,
} from "./support/ide.ts";
import { type Stack, startStack } from "./support/stack.ts";

let stack: Stack | undefined;
let browser: Browser | undefined;
const OPEN = ["ISSUED", "POSTED", "PARTIALLY_PAID", "DISPUTED"];

beforeAll(async () => {
  browser = await launchBrowser();
  stack = await startStack({ ide: true, subscriptions: true });
  await seed.seedDemo(stack.database.sql);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The operation name of a tab's query: GraphiQL's label for the tab. */
function operationName(query: string): string {
  return /^(?:query|mutation|subscription) (\w+)/m.exec(query)?.[1] ?? "";
}

describe("the IDE's example tabs on the demo firm", () => {
  it("are named after their titles, and every one answers meaningfully", async () => {
    const s = stack as Stack;
    const page = await (browser as Browser).page();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${s.origin}/`);
    await page.waitForSelector(QUERY_EDITOR, { timeout: 30_000 });
    const tabs = page.locator(".graphiql-tab");
    await expect.poll(() => tabs.count()).toBe(EXAMPLE_TABS.length);
    for (const [index, tab] of EXAMPLE_TABS.entries()) {
      expect(operationName(tab.query)).toBe(
        tab.title.replace(/(^|\s)(\w)/g, (_m, _s, c: string) => c.toUpperCase()),
      );
      await expect.poll(() => tabs.nth(index).textContent()).toContain(operationName(tab.query));
    }
    const run = async (index: number, marker: string) => {
      await tabs.nth(index).click();
      const name = operationName(EXAMPLE_TABS[index]?.query ?? "");
      await expect.poll(() => editorText(page, QUERY_EDITOR)).toContain(name);
      await page.click(".graphiql-execute-button");
      return JSON.parse(await waitForResponse(page, marker, 30_000));
    };

    // Open invoices: only open statuses, soonest due first, as many as the database holds.
    const open = await run(0, '"invoices"');
    expect(open.errors).toBeUndefined();
    const [count] = await s.database.sql<{ n: number }[]>`
      select count(*)::int as n from invoice where status::text = any(${OPEN})`;
    expect(open.data.invoices.totalCount).toBe(count?.n);
    expect(count?.n).toBeGreaterThan(0);
    const nodes = open.data.invoices.edges.map(
      (e: { node: { status: string; dueOn: string } }) => e.node,
    );
    expect(nodes.length).toBeGreaterThan(0);
    for (const node of nodes) expect(OPEN).toContain(node.status);
    const due = nodes.map((n: { dueOn: string }) => n.dueOn);
    expect(due).toEqual([...due].sort());

    // Customer tree: the demo group, its subsidiaries and their contracts.
    const tree = await run(1, '"children"');
    expect(tree.errors).toBeUndefined();
    expect(tree.data.customer.name).toBe("Bluewater Energy Group");
    expect(tree.data.customer.children.totalCount).toBeGreaterThan(0);
    const contracts = tree.data.customer.children.edges.flatMap(
      (e: { node: { contracts: { edges: unknown[] } } }) => e.node.contracts.edges,
    );
    expect(contracts.length).toBeGreaterThan(0);

    // Invoice status changes: listening, the draft is issued (the Issue tab's own operation,
    // variables and headers, over HTTP: the same principal as the IDE) and the event arrives.
    const issueTab = EXAMPLE_TABS[2];
    const ideHeaders = Object.fromEntries(
      Object.entries(JSON.parse(issueTab?.headers ?? "{}") as Record<string, string>).filter(
        ([name]) => !name.startsWith("#"),
      ),
    );
    await tabs.nth(3).click();
    await expect.poll(() => editorText(page, QUERY_EDITOR)).toContain("subscription");
    await page.click(".graphiql-execute-button");
    await expect
      .poll(
        async () => {
          const { json } = await s.query(
            issueTab?.query ?? "",
            JSON.parse(issueTab?.variables ?? "{}"),
            ideHeaders,
          );
          return json.data?.issueInvoice?.status ?? JSON.stringify(json.errors);
        },
        { timeout: 15_000 },
      )
      .toBe("ISSUED");
    const event = JSON.parse(await waitForResponse(page, "ISSUED", 20_000)).data
      .invoiceStatusChanged;
    expect(event).toMatchObject({ previousStatus: "DRAFT", status: "ISSUED" });
    expect(event.invoice.number).toBeTruthy();

    // Time entry approvals: listening, a submitted entry is approved and its event arrives.
    await tabs.nth(4).click();
    await expect.poll(() => editorText(page, QUERY_EDITOR)).toContain("TimeEntryApprovals");
    await page.click(".graphiql-execute-button");
    const [entry] = await s.database.sql<{ id: string }[]>`
      select id::text as id from time_entry where status = 'SUBMITTED' order by id limit 1`;
    expect(entry).toBeDefined();
    // Once the IDE's subscription is listening (its socket is already open from the tab before).
    await new Promise((r) => setTimeout(r, 1000));
    await execute(
      s.db,
      operations.approveTimeEntries,
      { actor: "ide-tabs-test" },
      {
        ids: [entry!.id],
      },
    );
    const approval = JSON.parse(await waitForResponse(page, entry!.id, 20_000)).data
      .timeEntryStatusChanged;
    expect(approval).toMatchObject({ previousStatus: "SUBMITTED", status: "APPROVED" });
    expect(approval.timeEntry).toMatchObject({ id: entry!.id, approvedBy: "ide-tabs-test" });
    expect(approval.timeEntry.project.name).toBeTruthy();

    // Issue an invoice: the same idempotency key replays the first answer (no error).
    const issued = await run(2, '"issueInvoice"');
    expect(issued.errors).toBeUndefined();
    expect(issued.data.issueInvoice).toMatchObject({ id: DEMO_IDS.draftInvoice, status: "ISSUED" });
    expect(issued.data.issueInvoice.number).toBe(event.invoice.number);
    expect(pageErrors).toEqual([]);
  }, 180_000);
});
