/**
 * Subscriptions in the IDE, in a real browser: headless Chromium loads GraphiQL from a gateway
 * with subscriptions attached, runs the "Subscription: invoice status" example tab (graphql-ws on
 * the same URL), a mutation is sent through the gateway over HTTP, and the event, with its
 * invoice resolved across subgraphs, appears in the response pane.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AttachedSubscriptions,
  attachSubscriptions,
} from "../gateway/src/subscriptions/index.ts";
import { buildCustomerTree, type CustomerTree } from "./support/builders.ts";
import { type Stack, startStack } from "./support/stack.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let stack: Stack;
let subscriptions: AttachedSubscriptions;
let browser: BrowserContext;
let profile: string;
let tree: CustomerTree;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  stack = await startStack({ ide: true });
  subscriptions = await attachSubscriptions(stack.gateway, {
    sql: stack.database.sql,
    url: stack.database.url,
  });
  tree = await buildCustomerTree(stack.db, { invoices: 2, name: "Contoso Live" });
  profile = mkdtempSync(join(tmpdir(), "pshub-ide-sub-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    viewport: { width: 1440, height: 900 },
  });
});

afterAll(async () => {
  await browser?.close();
  await subscriptions?.close();
  await stack?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

type CodeMirrorHost = Element & { CodeMirror: { getValue(): string } };

describe("subscriptions in the IDE", () => {
  it("subscribes from GraphiQL, and the event of a mutation arrives in the response pane", async () => {
    const page = browser.pages()[0] ?? (await browser.newPage());
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${stack.origin}/playground`);
    await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 30_000 });
    await expect.poll(() => page.locator(".graphiql-tab").count()).toBeGreaterThanOrEqual(4);
    await page.locator(".graphiql-tab").filter({ hasText: "InvoiceStatus" }).first().click();
    await expect
      .poll(() =>
        page.evaluate(() =>
          (
            document.querySelector(".graphiql-query-editor .CodeMirror") as CodeMirrorHost
          ).CodeMirror.getValue(),
        ),
      )
      .toContain("subscription InvoiceStatus");

    // Run the tab; on a slow first load the click can land before GraphiQL is ready: retry.
    for (let attempt = 0; attempt < 4 && subscriptions.stats().subscriptions === 0; attempt++) {
      await page.click(".graphiql-execute-button");
      const deadline = Date.now() + 5000;
      while (subscriptions.stats().subscriptions === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
    }
    expect(subscriptions.stats().subscriptions).toBe(1);

    const mutation = await stack.query(
      /* GraphQL */ `
        mutation Dispute($invoiceId: ID!) {
          disputeInvoice(invoiceId: $invoiceId, reason: "wrong rate") { invoice { status } }
        }
      `,
      { invoiceId: tree.invoiceIds[0] },
      { "x-pshub-principal": "ide-test" },
    );
    expect(mutation.json.errors).toBeUndefined();
    expect(mutation.json.data.disputeInvoice.invoice.status).toBe("DISPUTED");

    await page.waitForFunction(
      () =>
        (
          (
            document.querySelector(".graphiql-response .CodeMirror") as CodeMirrorHost | null
          )?.CodeMirror.getValue() ?? ""
        ).includes("DISPUTED"),
      null,
      { timeout: 30_000 },
    );
    const text = await page.evaluate(() =>
      (
        document.querySelector(".graphiql-response .CodeMirror") as CodeMirrorHost
      ).CodeMirror.getValue(),
    );
    const event = JSON.parse(text).data.invoiceStatusChanged;
    expect(event).toMatchObject({
      previousStatus: "PARTIALLY_PAID",
      status: "DISPUTED",
      invoice: { customer: { name: "Contoso Live" } },
    });
    expect(event.eventId).toMatch(/^\d+$/);
    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/ide-subscription.png" });
    expect(pageErrors).toEqual([]);
  });
});
