/**
 * Subscriptions in the IDE, in a real browser: headless Chromium loads GraphiQL from a gateway
 * with subscriptions attached, runs the "Invoice status changes" example tab (graphql-ws on
 * the same URL), a mutation is sent through the gateway over HTTP, and the event, with its
 * invoice resolved across subgraphs, appears in the response pane.
 */
import { mkdirSync } from "node:fs";
import { buildCustomerTree, type CustomerTree } from "@pshub/db/testing";
import { type AttachedSubscriptions, attachSubscriptions } from "@pshub/gateway";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Browser,
  editorText,
  launchBrowser,
  QUERY_EDITOR,
  waitForResponse,
} from "./support/ide.ts";
import { type Stack, startStack } from "./support/stack.ts";

let stack: Stack;
let subscriptions: AttachedSubscriptions;
let browser: Browser;
let tree: CustomerTree;

beforeAll(async () => {
  browser = await launchBrowser();
  stack = await startStack({ ide: true });
  subscriptions = await attachSubscriptions(stack.gateway, {
    sql: stack.database.sql,
    url: stack.database.url,
  });
  tree = await buildCustomerTree(stack.db, { invoices: 2, name: "Contoso Live" });
});

afterAll(async () => {
  await browser?.close();
  await subscriptions?.close();
  await stack?.stop();
});

describe("subscriptions in the IDE", () => {
  it("subscribes from GraphiQL, and the event of a mutation arrives in the response pane", async () => {
    const page = await browser.page();
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${stack.origin}/playground`);
    await page.waitForSelector(QUERY_EDITOR, { timeout: 30_000 });
    await expect.poll(() => page.locator(".graphiql-tab").count()).toBeGreaterThanOrEqual(4);
    await page.locator(".graphiql-tab").filter({ hasText: "InvoiceStatus" }).first().click();
    await expect.poll(() => editorText(page, QUERY_EDITOR)).toContain("subscription InvoiceStatus");

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

    const text = await waitForResponse(page, "DISPUTED", 30_000);
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
