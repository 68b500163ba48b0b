/**
 * The ops console (/ops) in a real browser: headless Chromium (Debian `chromium`, driven by
 * playwright-core) against the whole graph with JWT authentication. A finance user pastes a
 * token, sees the exception queue, watches a new exception arrive live (syncExceptionRaised over
 * graphql-ws), opens one, retries it and sees it RETRYING and then RESOLVED live when its
 * outbound command succeeds (the worker's own resolveCommandExceptions); an analyst gets no
 * action buttons. Every page loads with no console errors and no off-origin request. Trusted
 * documents are enforced throughout.
 * Screenshots go to test-results/console-*.png (docs/ has copies the README shows).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import {
  type Db,
  enqueueCommands,
  raiseSyncException,
  resolveCommandExceptions,
  type SyncExceptionRow,
} from "@pshub/db";
import { outboundCommand } from "@pshub/db/schema";
import { buildCustomerTree, type CustomerTree } from "@pshub/db/testing";
import { type DemoToken, demoTokens } from "@pshub/gateway/demo-tokens";
import { eq } from "drizzle-orm";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchBrowser } from "./support/ide.ts";
import { type Stack, startStack } from "./support/stack.ts";

let stack: Stack;
let tree: CustomerTree;
let browser: Browser;
let tokens: DemoToken[];

function tokenOf(label: string): string {
  const token = tokens.find((t) => t.label === label);
  if (!token) throw new Error(`no demo token ${label}`);
  return token.token;
}

beforeAll(async () => {
  const jwtSecret = randomBytes(32).toString("base64url");
  tokens = await demoTokens({ secret: jwtSecret });
  browser = await launchBrowser();
  // Trusted documents enforced: finance is no ad-hoc role, so everything the console sends
  // (queue, detail, retry, resolve, ignore, the live feed) must be registered as urql sends it.
  stack = await startStack({
    ide: true,
    subscriptions: true,
    gateway: { auth: { jwtSecret }, trustedDocuments: { mode: "enforce" } },
  });
  tree = await buildCustomerTree(stack.db, { invoices: 2, name: "Fabrikam Ltd" });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** A failed ERP posting of the invoice and the FINANCE exception it raised, as the worker leaves them. */
async function failedPosting(
  db: Db,
  invoiceId: string,
  code: string,
): Promise<{ exception: SyncExceptionRow; commandId: string }> {
  return db.transaction(async (tx) => {
    const [command] = await enqueueCommands(tx, [
      {
        target: "ERP",
        kind: "invoice.post",
        idempotencyKey: `console-test:${randomUUID()}`,
        entityType: "invoice",
        entityId: invoiceId,
        payload: { invoiceId, reason: "console test" },
      },
    ]);
    await tx
      .update(outboundCommand)
      .set({ state: "FAILED", attempts: 3, lastError: "ERP answered 400: customer has no tax id" })
      .where(eq(outboundCommand.id, command!.id));
    const exception = await raiseSyncException(tx, {
      owner: "FINANCE",
      severity: "HIGH",
      code,
      entityType: "invoice",
      entityId: invoiceId,
      sourceSystem: "ERP",
      commandId: command!.id,
      message: "The ERP refused the invoice: the customer has no tax id.",
      remediation: "Add the customer's tax id in Salesforce, then retry.",
      actor: "console-test",
    });
    return { exception, commandId: command!.id };
  });
}

/** Collects page errors, console errors and requests that leave the gateway's origin. */
function watch(page: Page): { problems: string[] } {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(stack.origin) && !url.startsWith(stack.origin.replace("http", "ws"))) {
      if (!url.startsWith("data:")) problems.push(`off-origin: ${url}`);
    }
  });
  return { problems };
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.fill('input[name="credential"]', token);
  await page.click('form.auth button[type="submit"]');
}

describe("the ops console", () => {
  it("a finance user sees the queue live, retries an exception and sees it resolve live", async () => {
    const first = await failedPosting(stack.db, tree.invoiceIds[0]!, "ERP_POST_REJECTED");
    const page = await browser.page();
    const { problems } = watch(page);

    await page.goto(`${stack.origin}/ops`);
    // Nothing is asked of the graph before a credential is pasted.
    await page.getByTestId("sign-in").waitFor({ timeout: 30_000 });
    await signIn(page, tokenOf("finance"));
    const firstRow = page.locator(`tr[data-id="${first.exception.id}"]`);
    await firstRow.waitFor({ timeout: 30_000 });
    await expect.poll(() => firstRow.textContent()).toContain("ERP_POST_REJECTED");
    expect(await firstRow.textContent()).toMatch(/due in 2[34]h/);

    // A new exception appears without a reload (syncExceptionRaised over graphql-ws).
    const second = await failedPosting(stack.db, tree.invoiceIds[1]!, "ERP_CUSTOMER_MISSING");
    await page.locator(`tr[data-id="${second.exception.id}"]`).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId("total").textContent()).toContain("2 exceptions");
    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/console-exceptions.png" });

    // The detail page: remediation, the command and its payload, the buttons.
    await firstRow.click();
    await page.getByTestId("remediation").waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("remediation").textContent()).toBe(
      "Add the customer's tax id in Salesforce, then retry.",
    );
    // The command itself is for the analyst and integration roles: a note instead, no error.
    expect(await page.getByTestId("source-hidden").textContent()).toContain(first.commandId);
    expect(await page.locator("main .error").count()).toBe(0);
    expect(await page.getByTestId("detail-status").textContent()).toBe("OPEN");
    await page.screenshot({ path: "test-results/console-exception-detail.png" });

    await page.click('button[name="retry"]');
    await expect
      .poll(() => page.getByTestId("detail-status").textContent(), { timeout: 10_000 })
      .toBe("RETRYING");
    const [requeued] = await stack.db
      .select()
      .from(outboundCommand)
      .where(eq(outboundCommand.id, first.commandId));
    expect(requeued?.state).toBe("PENDING");

    // The outbound worker's success step, as it runs it: the page follows live.
    await stack.db.transaction(async (tx) => {
      await tx
        .update(outboundCommand)
        .set({ state: "SUCCEEDED", attempts: 1 })
        .where(eq(outboundCommand.id, first.commandId));
      await resolveCommandExceptions(tx, { id: first.commandId, attempts: 1 }, "outbound");
    });
    await expect
      .poll(() => page.getByTestId("detail-status").textContent(), { timeout: 20_000 })
      .toBe("RESOLVED");
    expect(await page.getByTestId("resolution").textContent()).toContain("by outbound");
    expect(await page.locator('button[name="retry"]').count()).toBe(0);

    // Back on the queue (open or retrying): only the second one is left.
    await page.click('a[href="/ops"]');
    await page.locator(`tr[data-id="${second.exception.id}"]`).waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator(`tr[data-id="${first.exception.id}"]`).count()).toBe(0);
    expect(problems).toEqual([]);
  }, 120_000);

  it("resolve with a note and ignore with a reason; an analyst sees no buttons", async () => {
    const page = await browser.page();
    const { problems } = watch(page);
    const toResolve = await failedPosting(stack.db, tree.invoiceIds[0]!, "ERP_TAX_CODE_UNKNOWN");
    const toIgnore = await failedPosting(stack.db, tree.invoiceIds[1]!, "ERP_DUPLICATE_NUMBER");

    await page.goto(`${stack.origin}/ops/exceptions/${toResolve.exception.id}`);
    await signIn(page, tokenOf("analyst"));
    await page.getByTestId("detail-status").waitFor({ timeout: 30_000 });
    // An analyst sees the command, its last error and payload, and no buttons.
    await page.getByTestId("payload").waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("payload").textContent()).toContain('"reason": "console test"');
    expect(await page.locator("main").textContent()).toContain("customer has no tax id");
    expect(await page.locator('button[name="resolve"]').count()).toBe(0);
    expect(await page.locator('button[name="retry"]').count()).toBe(0);

    await signIn(page, tokenOf("finance"));
    await page.getByTestId("detail-status").waitFor({ timeout: 30_000 });
    await page.fill('input[name="note"]', "tax code mapped in the ERP");
    await page.click('button[name="resolve"]');
    await expect
      .poll(() => page.getByTestId("detail-status").textContent(), { timeout: 10_000 })
      .toBe("RESOLVED");
    expect(await page.getByTestId("resolution").textContent()).toContain(
      "tax code mapped in the ERP",
    );

    await page.goto(`${stack.origin}/ops/exceptions/${toIgnore.exception.id}`);
    await page.getByTestId("detail-status").waitFor({ timeout: 30_000 });
    await page.fill('input[name="reason"]', "duplicate of a manual posting");
    await page.click('button[name="ignore"]');
    await expect
      .poll(() => page.getByTestId("detail-status").textContent(), { timeout: 10_000 })
      .toBe("IGNORED");

    // The KPI page counts what is open per owner: the first test left one FINANCE exception open.
    await page.click('a[href="/ops/kpis"]');
    const finance = page.locator('[data-testid="kpi-exceptions"] tr[data-owner="FINANCE"]');
    await finance.waitFor({ timeout: 30_000 });
    expect(await finance.textContent()).toBe("FINANCE10");
    expect(problems).toEqual([]);
  }, 120_000);
});
