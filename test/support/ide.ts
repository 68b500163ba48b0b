/**
 * The IDE in a real browser, for tests: headless Debian Chromium driven by playwright-core, and
 * readers for GraphiQL's editors (CodeMirror 5).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface Browser {
  context: BrowserContext;
  /** The first tab (a fresh one if none is open). */
  page(): Promise<Page>;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile and no background traffic (the machine is offline). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  const profile = mkdtempSync(join(tmpdir(), "pshub-ide-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    page: async () => context.pages()[0] ?? (await context.newPage()),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

type CodeMirrorHost = Element & { CodeMirror: { getValue(): string } };

/** The text of the CodeMirror editor under `selector` ("" when it is not there). */
export function editorText(page: Page, selector: string): Promise<string> {
  return page.evaluate(
    (s) => (document.querySelector(s) as CodeMirrorHost | null)?.CodeMirror.getValue() ?? "",
    selector,
  );
}

export const QUERY_EDITOR = ".graphiql-query-editor .CodeMirror";
const RESPONSE_PANE = ".graphiql-response .CodeMirror";

/** Waits until the response pane contains `text`, and returns the whole pane. */
export async function waitForResponse(page: Page, text: string, timeout: number): Promise<string> {
  await page.waitForFunction(
    ([selector, wanted]) =>
      (
        (document.querySelector(selector) as CodeMirrorHost | null)?.CodeMirror.getValue() ?? ""
      ).includes(wanted),
    [RESPONSE_PANE, text] as const,
    { timeout },
  );
  return editorText(page, RESPONSE_PANE);
}
