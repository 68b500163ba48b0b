/**
 * The ops console's pages over the demo firm, in headless Chromium, with trusted documents
 * ENFORCED (GATEWAY_TRUSTED_DOCUMENTS=enforce: finance and integration are not ad-hoc roles, so
 * every document the console sends must be registered in gateway/trusted-documents.json, as
 * urql prints it):
 * - every page loads with no console error, no error on the page and no off-origin request;
 * - "Where is it?": a demo invoice found by its number shows its lineage from the opportunity to
 *   its payment — exactly the steps hand-written SQL says are its own — with actors and its ERP id;
 * - a user scoped to one legal entity sees none of another's rows on any page;
 * - the KPI dashboard's figures equal the graph's `kpis` for the same credential and day;
 * - an integration user resyncs a record from the page (finance gets no button);
 * - the sync page's lag history (line chart and figures) equals the graph's syncLagHistory;
 * - the queue opens on the caller's own team: sales on SALES_OPS, delivery on PROJECT_OPS.
 * Screenshots go to test-results/console-*.png (docs/ has copies the README shows).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { raiseSyncException, seed } from "@pshub/db";
import { DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER, readManifest } from "@pshub/gateway";
import { SignJWT } from "jose";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, launchBrowser } from "./support/ide.ts";
import { type Stack, startStack } from "./support/stack.ts";

let stack: Stack;
let browser: Browser;
let secret: Uint8Array;
const HOME = "AR-UK";
const AS_OF = "2026-11-20";

async function token(subject: string, roles: string[], legalEntities?: string[]) {
  return new SignJWT({ roles, ...(legalEntities ? { legalEntities } : {}) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(subject)
    .setIssuer(DEFAULT_JWT_ISSUER)
    .setAudience(DEFAULT_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(secret);
}

const tokens: Record<string, string> = {};
/** Ids of exceptions owned by the home entity and by another one, raised for this test. */
const raised: { home: string[]; other: string[] } = { home: [], other: [] };

type Sql = Stack["database"]["sql"];
const one = async <T>(sql: Sql, text: string, params: unknown[] = []): Promise<T> => {
  const rows = (await sql.unsafe(text, params as never[])) as unknown as T[];
  if (!rows[0]) throw new Error(`no row: ${text}`);
  return rows[0];
};

beforeAll(async () => {
  const jwtSecret = randomBytes(32).toString("base64url");
  secret = new TextEncoder().encode(jwtSecret);
  browser = await launchBrowser();
  stack = await startStack({
    ide: true,
    subscriptions: true,
    gateway: { auth: { jwtSecret }, trustedDocuments: { mode: "enforce" } },
  });
  const { sql } = stack.database;
  await seed.seedDemo(sql);
  tokens.finance = await token("finance@console-pages.test", ["finance"]);
  // admin may send ad-hoc documents (GATEWAY_ADHOC_ROLES): the test's own questions to the graph.
  tokens.admin = await token("admin@console-pages.test", ["admin"]);
  tokens.integration = await token("integration@console-pages.test", ["integration"]);
  tokens.financeUk = await token("finance-uk@console-pages.test", ["finance"], [HOME]);
  tokens.integrationUk = await token("integration-uk@console-pages.test", ["integration"], [HOME]);
  tokens.sales = await token("sales@console-pages.test", ["sales"]);
  tokens.delivery = await token("delivery@console-pages.test", ["delivery"]);
  // Two connectors' cursors and an inbound record of another entity still waiting to be applied.
  await sql`insert into sync_cursor (connector, object, cursor, last_success_at, lag_ms,
      records_in, records_out, error_count, api_budget_used, api_budget_limit, paused_until)
    values ('salesforce', 'Opportunity', '{"systemModstamp":"2026-11-30T10:00:00Z"}', now() - interval '2 minutes',
      4200, 120, 118, 2, 1400, 15000, null),
      ('netsuite', 'invoice', '{"lastModifiedDate":"2026-11-30T09:00:00Z"}', now() - interval '1 hour',
      93000, 40, 40, 0, 310, 1000, now() + interval '30 minutes')`;
  // Their lag over the last day: a sample every 10 minutes (as the engine's cursor saves record them).
  await sql`insert into sync_lag_sample (connector, object, lag_ms, sampled_at)
    select c.connector, c.object, (c.base + (n * 7919) % 9000)::int, now() - make_interval(mins => n * 10)
      from (values ('salesforce', 'Opportunity', 1000), ('netsuite', 'invoice', 60000))
        as c(connector, object, base), generate_series(0, 140) as n`;
  const other = await one<{ id: string }>(
    sql,
    `select i.id::text as id from invoice i join legal_entity l on l.id = i.legal_entity_id
     where l.code <> $1 order by i.id limit 1`,
    [HOME],
  );
  await sql`insert into inbox_event (source, dedupe_key, object, payload, entity_type, entity_id, status)
    values ('netsuite', 'console-pages-other', 'invoice', '{}', 'invoice', ${other.id}, 'RECEIVED')`;
  // One open exception in the home entity and one in another (the demo's own may be of either).
  for (const [side, op] of [
    ["home", "="],
    ["other", "<>"],
  ] as const) {
    const inv = await one<{ id: string }>(
      sql,
      `select i.id::text as id from invoice i join legal_entity l on l.id = i.legal_entity_id
       where l.code ${op} $1 order by i.id limit 1`,
      [HOME],
    );
    const row = await stack.db.transaction((tx) =>
      raiseSyncException(tx, {
        owner: "FINANCE",
        severity: "HIGH",
        code: `CONSOLE_PAGES_${side.toUpperCase()}`,
        entityType: "invoice",
        entityId: inv.id,
        sourceSystem: "ERP",
        message: `console pages: ${side}`,
        remediation: "none",
        actor: "console-pages-test",
      }),
    );
    raised[side].push(row.id);
  }
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

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

async function open(page: Page, path: string, credential: string): Promise<void> {
  await page.goto(`${stack.origin}${path}`);
  await page.fill('input[name="credential"]', credential);
  await page.click('form.auth button[type="submit"]');
}

/** The graph's answer for a credential, as the console's user would get it. */
async function graph(query: string, variables: Record<string, unknown>, credential: string) {
  const { json } = await stack.query(query, variables, { authorization: `Bearer ${credential}` });
  return json as { data?: Record<string, unknown>; errors?: { extensions?: { code?: string } }[] };
}

/** A demo invoice that went the whole way: paid, posted to the ERP, with an ERP source link. */
async function paidInvoice(legalEntity?: string) {
  return one<{ id: string; number: string; erp_id: string; code: string }>(
    stack.database.sql,
    `select i.id::text as id, i.number, s.external_id as erp_id, l.code
     from invoice i join legal_entity l on l.id = i.legal_entity_id
     join source_link s on s.entity_id = i.id and s.system = 'ERP'
     where i.status = 'PAID' and i.correlation_id is not null
       and exists (select 1 from payment p where p.invoice_id = i.id)
       and ($1::text is null or l.code = $1)
     order by i.number limit 1`,
    [legalEntity ?? null],
  );
}

const eventIdsOn = async (page: Page) =>
  (await page
    .locator("[data-testid=timeline] li")
    .evaluateAll((items) =>
      items.flatMap((li) => (li.getAttribute("data-event-ids") ?? "").split(",")),
    )) as string[];

describe("the ops console's pages (trusted documents enforced)", () => {
  it("every page loads with no console error, no error shown and no off-origin request", async () => {
    const invoice = await paidInvoice();
    const pages: { path: string; credential: string; ready: string; shot?: string }[] = [
      { path: "/ops", credential: tokens.finance!, ready: "tbody tr[data-id]" },
      {
        path: `/ops/where?q=${encodeURIComponent(invoice.number)}`,
        credential: tokens.finance!,
        ready: "[data-testid=hits] tr[data-id]",
        shot: "console-where",
      },
      {
        path: `/ops/where/INVOICE/${invoice.id}`,
        credential: tokens.finance!,
        ready: "[data-testid=timeline] li",
        shot: "console-lineage",
      },
      {
        path: `/ops/where/INVOICE/${invoice.id}`,
        credential: tokens.integration!,
        ready: "[data-testid=timeline] li",
      },
      {
        path: "/ops/sync",
        credential: tokens.integration!,
        ready: "[data-testid=sync-status] tbody tr",
        shot: "console-sync",
      },
      {
        path: "/ops/kpis",
        credential: tokens.finance!,
        ready: "[data-testid=kpi-receivables] tbody tr",
      },
    ];
    mkdirSync("test-results", { recursive: true });
    for (const p of pages) {
      const page = await browser.page();
      const { problems } = watch(page);
      await open(page, p.path, p.credential);
      await page.locator(p.ready).first().waitFor({ timeout: 30_000 });
      // No refusal of any kind on the page (a TRUSTED_DOCUMENT_REQUIRED would show here).
      expect(await page.locator("main .error").allTextContents(), p.path).toEqual([]);
      if (p.shot) await page.screenshot({ path: `test-results/${p.shot}.png`, fullPage: true });
      expect(problems, p.path).toEqual([]);
      await page.close();
    }
  }, 180_000);

  it("the lineage of a demo invoice found by its number shows every one of its steps", async () => {
    const invoice = await paidInvoice();
    const { sql } = stack.database;
    const expected = (await sql.unsafe(
      `select d.id::text as id, d.type, d.actor from domain_event d join invoice i on i.id = $1
       where d.correlation_id = i.correlation_id and (
         d.entity_type in ('opportunity', 'contract', 'project')
         or (d.entity_type = 'invoice' and d.entity_id = i.id)
         or (d.entity_type = 'payment' and d.entity_id in (select id from payment where invoice_id = i.id))
         or (d.entity_type = 'dispute' and d.entity_id in (select id from dispute where invoice_id = i.id))
         or (d.entity_type = 'billing_event' and d.entity_id in
               (select billing_event_id from invoice_line where invoice_id = i.id)))
       order by d.id`,
      [invoice.id],
    )) as unknown as { id: string; type: string; actor: string }[];
    const types = new Set(expected.map((e) => e.type));
    for (const type of [
      "opportunity.converted",
      "contract.created",
      "project.created",
      "billing_event.created",
      "invoice.created",
      "invoice.status_changed",
      "payment.recorded",
    ]) {
      expect(types, type).toContain(type);
    }

    const page = await browser.page();
    const { problems } = watch(page);
    await open(page, "/ops/where", tokens.finance!);
    await page.fill('input[name="q"]', invoice.number);
    await page.click('button[name="search"]');
    const hit = page.locator(`[data-testid=hits] tr[data-id="${invoice.id}"]`);
    await hit.waitFor({ timeout: 30_000 });
    expect(await hit.textContent()).toContain(invoice.erp_id);
    await hit.click();
    await page.locator("[data-testid=timeline] li").first().waitFor({ timeout: 30_000 });
    // The invoice's lines are read too: the billing events shown are exactly its own.
    await expect
      .poll(async () => (await eventIdsOn(page)).sort(), { timeout: 10_000 })
      .toEqual(expected.map((e) => e.id).sort());
    const shownTypes = await page
      .locator("[data-testid=timeline] li")
      .evaluateAll((items) => items.map((li) => li.getAttribute("data-type")));
    expect(shownTypes[0]).toBe("opportunity.converted");
    expect(shownTypes).toContain("payment.recorded");
    const actors = new Set(await page.getByTestId("actor").allTextContents());
    expect(actors).toEqual(new Set(expected.map((e) => e.actor)));
    expect(await page.getByTestId("root-ids").textContent()).toContain(invoice.erp_id);
    // Finance may not resync (integration only): no button.
    expect(await page.locator('button[name="resync"]').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it("a user scoped to one legal entity sees none of another's rows on any page", async () => {
    const { sql } = stack.database;
    const page = await browser.page();
    const { problems } = watch(page);

    // Exception queue: the home entity's exception, not the other's.
    await open(page, "/ops", tokens.financeUk!);
    await page.locator(`tr[data-id="${raised.home[0]}"]`).waitFor({ timeout: 30_000 });
    const otherExceptions = new Set(
      (
        (await sql.unsafe(
          `select x.id::text as id from sync_exception x
           join invoice i on x.entity_type = 'invoice' and i.id = x.entity_id
           join legal_entity l on l.id = i.legal_entity_id where l.code <> $1`,
          [HOME],
        )) as unknown as { id: string }[]
      ).map((r) => r.id),
    );
    expect(otherExceptions).toContain(raised.other[0]);
    const queueIds = await page
      .locator("tbody tr[data-id]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")));
    expect(queueIds.length).toBeGreaterThan(0);
    expect(queueIds.filter((id) => otherExceptions.has(id!))).toEqual([]);

    // Where is it?: another entity's invoice is not found, not by number nor by id; a search
    // that finds invoices of every entity for an unscoped user finds only the home entity's.
    const other = await paidInvoice("AR-US");
    await open(page, `/ops/where?q=${encodeURIComponent(other.number)}`, tokens.financeUk!);
    await page.getByTestId("hit-count").waitFor({ timeout: 30_000 });
    expect(await page.locator(`tr[data-id="${other.id}"]`).count()).toBe(0);
    const wide = "INV7";
    const all = await graph(
      "query($t: String!) { entitySearch(text: $t, first: 50) { id legalEntity } }",
      { t: wide },
      tokens.admin!,
    );
    const allEntities = new Set(
      (all.data!.entitySearch as { legalEntity: string }[]).map((h) => h.legalEntity),
    );
    expect(allEntities.size).toBeGreaterThan(1);
    await open(page, `/ops/where?q=${wide}`, tokens.financeUk!);
    await page.locator("[data-testid=hits] tr[data-id]").first().waitFor({ timeout: 30_000 });
    const hitEntities = await page
      .locator("[data-testid=hits] tr[data-id]")
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-legal-entity")));
    expect(new Set(hitEntities)).toEqual(new Set([HOME]));
    await open(page, `/ops/where/INVOICE/${other.id}`, tokens.financeUk!);
    await page.locator("main .error").waitFor({ timeout: 30_000 });
    expect(await page.locator("main .error").textContent()).toContain("NOT_FOUND");
    expect(await page.locator("[data-testid=timeline] li").count()).toBe(0);

    // KPIs: only the home entity in the filter and in every table.
    await open(page, "/ops/kpis", tokens.financeUk!);
    await page
      .locator("[data-testid=kpi-receivables] tbody tr")
      .first()
      .waitFor({ timeout: 30_000 });
    const options = await page.locator('select[name="legal-entity"] option').allTextContents();
    expect(options).toEqual(["all", HOME]);
    for (const section of [
      "kpi-unbilled",
      "kpi-receivables",
      "kpi-cycle-time",
      "kpi-utilisation",
    ]) {
      const keys = await page
        .locator(`[data-testid=${section}] tbody tr`)
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key") ?? ""));
      expect(
        keys.filter((k) => !k.includes(HOME)),
        section,
      ).toEqual([]);
    }

    // Sync status: the other entity's waiting inbound record is not counted for the home scope.
    const pendingOf = async (credential: string) => {
      await open(page, "/ops/sync", credential);
      const row = page.locator('[data-testid=sync-status] tr[data-key="netsuite:invoice"]');
      await row.waitFor({ timeout: 30_000 });
      return (await row.locator("td").nth(6).textContent())?.trim();
    };
    expect(await pendingOf(tokens.integration!)).toBe("1 / 0");
    expect(await pendingOf(tokens.integrationUk!)).toBe("0 / 0");
    expect(problems).toEqual([]);
    await page.close();
  }, 180_000);

  it("the KPI dashboard's figures equal the graph's kpis, per legal entity and day", async () => {
    // The very document the page sends (registered: finance may send no other), as finance.
    const document = readManifest().operations.find((op) => op.name === "ConsoleKpis");
    const answer = await graph(document!.body, { asOf: AS_OF }, tokens.finance!);
    expect(answer.errors).toBeUndefined();
    const kpis = answer.data!.kpis as {
      unbilled: { legalEntity: string; currency: string; ageBucket: string; amount: string }[];
      receivables: Record<string, string | number | null>[];
      invoiceCycleTime: Record<string, string | number>[];
      currencyTotals: {
        measure: string;
        currency: string;
        amount: string;
        converted: { amount: string; currency: string } | null;
      }[];
      utilisation: Record<string, string | null>[];
      openExceptions: { owner: string; open: number; slaBreached: number }[];
    };
    expect(kpis.receivables.length).toBeGreaterThan(0);
    expect(kpis.unbilled.length).toBeGreaterThan(0);

    const page = await browser.page();
    const { problems } = watch(page);
    await open(page, "/ops/kpis", tokens.finance!);
    await page
      .locator("[data-testid=kpi-receivables] tbody tr")
      .first()
      .waitFor({ timeout: 30_000 });
    await page.fill('input[name="as-of"]', AS_OF);
    await expect
      .poll(() => page.locator("h1").textContent(), { timeout: 20_000 })
      .toBe(`KPIs as of ${AS_OF}`);

    const cell = (section: string, key: string, attr: string, value: string) =>
      page
        .locator(`[data-testid=${section}] tr[data-key="${key}"] td[${attr}="${value}"]`)
        .textContent();
    // Receivables: every row and field as the graph has it.
    for (const row of kpis.receivables) {
      const key = `${row.legalEntity} ${row.currency}`;
      for (const field of [
        "openInvoices",
        "outstanding",
        "current",
        "overdue1To30",
        "overdue90Plus",
      ]) {
        expect(await cell("kpi-receivables", key, "data-field", field), `${key} ${field}`).toBe(
          String(row[field]),
        );
      }
      expect(await cell("kpi-receivables", key, "data-field", "dso")).toBe(
        row.dso == null ? "—" : String(row.dso),
      );
    }
    // Unbilled: the graph's rows added up per legal entity, currency and age bucket (in cents).
    const sums = new Map<string, bigint>();
    for (const row of kpis.unbilled) {
      const cents = BigInt(row.amount.replace(".", ""));
      for (const bucket of [row.ageBucket, "TOTAL"]) {
        const key = `${row.legalEntity} ${row.currency}|${bucket}`;
        sums.set(key, (sums.get(key) ?? 0n) + cents);
      }
    }
    const money = (cents: bigint) => {
      const s = (cents < 0n ? -cents : cents).toString().padStart(3, "0");
      return `${cents < 0n ? "-" : ""}${s.slice(0, -2)}.${s.slice(-2)}`;
    };
    for (const [key, cents] of sums) {
      const [group, bucket] = key.split("|") as [string, string];
      const shown = (await cell("kpi-unbilled", group, "data-bucket", bucket))?.trim();
      expect(shown, key).toBe(money(cents));
    }
    // Cycle time: the month the page shows, every row of it.
    const month = await page.locator('select[name="month"]').inputValue();
    const rows = kpis.invoiceCycleTime.filter((r) => r.month === month);
    expect(rows.length).toBeGreaterThan(0);
    expect(await page.locator("[data-testid=kpi-cycle-time] tbody tr").count()).toBe(rows.length);
    for (const row of rows) {
      const key = `${row.month} ${row.legalEntity} ${row.stage}`;
      expect(await cell("kpi-cycle-time", key, "data-field", "p50Days")).toBe(String(row.p50Days));
      expect(await cell("kpi-cycle-time", key, "data-field", "p90Days")).toBe(String(row.p90Days));
    }
    // Totals per currency and their conversion; utilisation per legal entity and month.
    for (const row of kpis.currencyTotals) {
      const key = `${row.measure} ${row.currency}`;
      expect(await cell("kpi-currency-totals", key, "data-field", "amount"), key).toBe(row.amount);
      expect(await cell("kpi-currency-totals", key, "data-field", "converted"), key).toBe(
        row.converted ? `${row.converted.amount} ${row.converted.currency}` : "no rate",
      );
    }
    for (const row of kpis.utilisation) {
      const key = `${row.legalEntity} ${row.month}`;
      for (const field of ["billableRatio", "billedRatio"]) {
        expect(await cell("kpi-utilisation", key, "data-field", field), `${key} ${field}`).toBe(
          row[field] ?? "—",
        );
      }
    }
    // Open exceptions per owner.
    for (const row of kpis.openExceptions) {
      expect(
        await page
          .locator(`[data-testid=kpi-exceptions] tr[data-owner="${row.owner}"]`)
          .textContent(),
      ).toBe(`${row.owner}${row.open}${row.slaBreached}`);
    }
    // Filtered to one legal entity, only its rows are left.
    await page.selectOption('select[name="legal-entity"]', HOME);
    const keys = await page
      .locator("[data-testid=kpi-receivables] tbody tr")
      .evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-key") ?? ""));
    expect(keys).toEqual(
      kpis.receivables.filter((r) => r.legalEntity === HOME).map((r) => `${HOME} ${r.currency}`),
    );
    await page.selectOption('select[name="legal-entity"]', "");
    await page.screenshot({ path: "test-results/console-kpis.png", fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it("the sync page's lag over 24 h equals the graph's syncLagHistory, per connector object", async () => {
    const document = readManifest().operations.find((op) => op.name === "SyncLagHistory");
    const answer = await graph(document!.body, {}, tokens.integration!);
    expect(answer.errors).toBeUndefined();
    const series = answer.data!.syncLagHistory as {
      connector: string;
      object: string;
      points: { at: string; samples: number; p50Ms: number; p99Ms: number; maxMs: number }[];
    }[];
    expect(series.map((s) => `${s.connector}:${s.object}`)).toEqual([
      "netsuite:invoice",
      "salesforce:Opportunity",
    ]);
    const page = await browser.page();
    const { problems } = watch(page);
    await open(page, "/ops/sync", tokens.integration!);
    const shownRows = async () =>
      page
        .locator("[data-testid=lag-points] tbody tr")
        .evaluateAll((trs) =>
          trs.map((tr) => [
            tr.getAttribute("data-at"),
            ...Array.from(tr.querySelectorAll("td[data-field]"), (td) => td.textContent),
          ]),
        );
    const expected = (s: (typeof series)[number]) =>
      s.points.map((p) => [
        p.at,
        String(p.samples),
        p.p50Ms.toLocaleString("en-US"),
        p.p99Ms.toLocaleString("en-US"),
        p.maxMs.toLocaleString("en-US"),
      ]);
    for (const [i, s] of series.entries()) {
      const key = `${s.connector}:${s.object}`;
      if (i > 0) await page.selectOption('select[name="lag-object"]', key);
      await page
        .locator(`[data-testid=lag-points][data-key="${key}"] tbody tr`)
        .first()
        .waitFor({ timeout: 30_000 });
      expect(s.points.length, key).toBeGreaterThanOrEqual(24);
      expect(await shownRows(), key).toEqual(expected(s));
      // The chart draws one line per measure (p50, p99, max) over the buckets.
      expect(await page.locator("[data-testid=lag-history] .recharts-line").count()).toBe(3);
      expect(
        (
          await page
            .locator("[data-testid=lag-history] .recharts-legend-item-text")
            .allTextContents()
        ).sort(),
      ).toEqual(["max (s)", "p50 (s)", "p99 (s)"]);
    }
    await page.screenshot({ path: "test-results/console-sync.png", fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);

  it("the queue opens on the caller's own team: sales on SALES_OPS, delivery on PROJECT_OPS", async () => {
    const { sql } = stack.database;
    for (const [role, owner] of [
      ["sales", "SALES_OPS"],
      ["delivery", "PROJECT_OPS"],
      ["finance", "FINANCE"],
    ] as const) {
      const expected = (
        (await sql.unsafe(
          `select id::text as id from sync_exception
           where owner = $1 and status in ('OPEN', 'RETRYING') order by id`,
          [owner],
        )) as unknown as { id: string }[]
      ).map((r) => r.id);
      expect(expected.length, owner).toBeGreaterThan(0);
      const page = await browser.page();
      const { problems } = watch(page);
      await open(page, "/ops", tokens[role]!);
      await page.locator("tbody tr[data-id]").first().waitFor({ timeout: 30_000 });
      expect(await page.locator('select[name="owner"]').inputValue(), role).toBe(owner);
      await expect
        .poll(() => page.getByTestId("total").textContent(), { timeout: 10_000 })
        .toBe(`${expected.length} exceptions open or retrying`);
      const ids = await page
        .locator("tbody tr[data-id]")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id") ?? ""));
      expect(ids.sort(), role).toEqual(expected);
      expect(new Set(await page.locator("tbody td[data-field=owner]").allTextContents())).toEqual(
        new Set([owner]),
      );
      // Widened to every owner, the other teams' exceptions are there too (the graph allows it).
      await page.selectOption('select[name="owner"]', "");
      await expect
        .poll(
          async () =>
            new Set(await page.locator("tbody td[data-field=owner]").allTextContents()).size,
          { timeout: 10_000 },
        )
        .toBeGreaterThan(1);
      if (role === "finance") {
        // The severity and overdue filters narrow it to exactly the matching rows.
        const matching = async (where: string) =>
          (
            (await sql.unsafe(
              `select id::text as id from sync_exception
               where status in ('OPEN', 'RETRYING') and ${where} order by id`,
            )) as unknown as { id: string }[]
          ).map((r) => r.id);
        const shown = async (count: number) => {
          await expect
            .poll(() => page.getByTestId("total").textContent(), { timeout: 10_000 })
            .toBe(`${count} exceptions open or retrying`);
          return (
            await page
              .locator("tbody tr[data-id]")
              .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id") ?? ""))
          ).sort();
        };
        const high = await matching("severity = 'HIGH'");
        expect(high.length).toBeGreaterThan(0);
        await page.selectOption('select[name="severity"]', "HIGH");
        expect(await shown(high.length)).toEqual(high);
        await page.selectOption('select[name="severity"]', "");
        const overdue = await matching("due_at < now()");
        await page.check('input[name="overdue"]');
        expect(await shown(overdue.length)).toEqual(overdue);
      }
      expect(problems, role).toEqual([]);
      await page.close();
    }
  }, 180_000);

  it("an integration user resyncs a record from its timeline", async () => {
    const invoice = await paidInvoice();
    const page = await browser.page();
    const { problems } = watch(page);
    await open(page, `/ops/where/INVOICE/${invoice.id}`, tokens.integration!);
    await page.locator('button[name="resync"]').waitFor({ timeout: 30_000 });
    await page.click('button[name="resync"]');
    // No CDC process runs in this stack: the request waits, PENDING, for one to fetch it.
    await page.getByTestId("resync-state").first().waitFor({ timeout: 20_000 });
    expect(await page.getByTestId("resync-state").first().textContent()).toBe("PENDING");
    const requests = (await stack.database.sql`
      select system::text as system, external_id, requested_by from resync_request
      where entity_id = ${invoice.id}`) as unknown as {
      system: string;
      external_id: string;
      requested_by: string;
    }[];
    expect(requests).toContainEqual({
      system: "ERP",
      external_id: invoice.erp_id,
      requested_by: "integration@console-pages.test",
    });
    expect(await page.locator("[data-testid=resync]").textContent()).toContain(invoice.erp_id);
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);
});
