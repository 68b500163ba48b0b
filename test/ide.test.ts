/**
 * The analysts' IDE in a real browser: headless Chromium (Debian `chromium`, driven by
 * playwright-core) loads GraphiQL from the gateway, runs the preloaded BI query (a federated
 * query over the four subgraphs), reads the result, opens the docs explorer, and saves a
 * screenshot to test-results/ide.png. Every request must stay on the gateway's origin: the IDE
 * works offline.
 */
import { existsSync, mkdirSync } from "node:fs";
import { invoice } from "@pshub/db/schema";
import { buildCustomerTree, type CustomerTree } from "@pshub/db/testing";
import { eq } from "drizzle-orm";
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
let tree: CustomerTree;
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
  stack = await startStack({ ide: true, subscriptions: true });
  tree = await buildCustomerTree(stack.db, { invoices: 3, name: "Contoso UK" });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("the IDE", () => {
  it("runs the preloaded federated BI query, shows the docs, and stays on its own origin", async () => {
    const page = await browser.page();
    const offOrigin: string[] = [];
    const pageErrors: string[] = [];
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(stack.origin) && !url.startsWith("data:")) offOrigin.push(url);
    });
    page.on("pageerror", (error) => pageErrors.push(error.message));

    await page.goto(`${stack.origin}/playground`);
    await page.waitForSelector(QUERY_EDITOR, { timeout: 30_000 });
    // The example tabs are there: the BI query (active), the customer tree, a mutation, two subscriptions.
    await expect.poll(() => page.locator(".graphiql-tab").count()).toBe(5);
    const query = await editorText(page, QUERY_EDITOR);
    expect(query).toContain("query OpenInvoices");

    // The headers editor is open with the principal header, for auth.
    const headers = await editorText(
      page,
      ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror",
    );
    expect(headers).toContain("x-pshub-principal");
    // …and explains the demo tokens (a "#" comment key, which the IDE does not send).
    expect(headers).toContain("Bearer <token>");

    await page.click(".graphiql-execute-button");
    const text = await waitForResponse(page, "totalCount", 30_000);
    const result = JSON.parse(text);
    expect(result.errors).toBeUndefined();
    expect(result.data.invoices.totalCount).toBe(3);
    const first = result.data.invoices.edges[0].node;
    expect(first.customer).toEqual({ name: "Contoso UK", parent: { name: "Contoso UK Group" } });
    expect(first.contract.billingModel).toBe("TIME_AND_MATERIALS");
    expect(first.lines.edges[0].node.billingEvent.project.name).toBe("Data platform migration");

    // The docs explorer, built from the composed schema's introspection.
    await page.click('button[aria-label="Show Documentation Explorer"]');
    await page.waitForSelector(".graphiql-doc-explorer", { timeout: 10_000 });
    await expect.poll(() => page.locator(".graphiql-doc-explorer").innerText()).toContain("Query");

    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/ide.png" });
    expect(existsSync("test-results/ide.png")).toBe(true);
    expect(offOrigin).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it("streams an invoice subscription from the preloaded tab over graphql-ws", async () => {
    const page = await browser.page();
    await page.goto(`${stack.origin}/`);
    await page.waitForSelector(QUERY_EDITOR, { timeout: 30_000 });
    await page.locator(".graphiql-tab", { hasText: "InvoiceStatus" }).click();
    await expect.poll(() => editorText(page, QUERY_EDITOR)).toContain("subscription InvoiceStatus");
    await page.click(".graphiql-execute-button");

    // A draft invoice is issued through the gateway while the IDE listens.
    const invoiceId = tree.invoiceIds[0] ?? "";
    await stack.db
      .update(invoice)
      .set({ status: "DRAFT", number: null, amountPaid: "0", issuedOn: null, dueOn: null })
      .where(eq(invoice.id, invoiceId));
    await expect
      .poll(
        async () => {
          const { json } = await stack.query(
            "mutation($id: ID!) { issueInvoice(invoiceId: $id) { status } }",
            { id: invoiceId },
            { "x-pshub-principal": "ide-test" },
          );
          return json.data?.issueInvoice?.status ?? JSON.stringify(json.errors);
        },
        { timeout: 10_000 },
      )
      .toBe("ISSUED");

    const text = await waitForResponse(page, "ISSUED", 20_000);
    const event = JSON.parse(text).data.invoiceStatusChanged;
    expect(event.previousStatus).toBe("DRAFT");
    expect(event.status).toBe("ISSUED");
    expect(event.invoice.customer.name).toBe("Contoso UK");
    await page.screenshot({ path: "test-results/ide-subscription.png" });
  });
});
