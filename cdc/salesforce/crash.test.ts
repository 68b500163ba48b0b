/**
 * kill -9 of the CDC process at random points during a 50,000-record sync (full load by Bulk
 * API 2.0, then changes and deletes), restart, and the hub equals the source exactly: counts
 * and a checksum over the mapped fields.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { schema } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SalesforceSandbox, startSalesforceSandbox } from "../sandbox/salesforce/index.ts";

const TOTAL = 50_000;
let t: TestDatabase;
let sandbox: SalesforceSandbox;
let child: ChildProcess | undefined;

beforeAll(async () => {
  t = await createTestDatabase();
  sandbox = await startSalesforceSandbox({ bulkPageSize: 2000 });
  await t.db.insert(schema.legalEntity).values({
    code: "US",
    name: "Firm US",
    country: "US",
    currency: "USD",
    taxJurisdiction: "US-NY",
    invoicePrefix: "US-",
  });
});
afterAll(async () => {
  child?.kill("SIGKILL");
  await sandbox?.stop();
  await t?.drop();
});

const worker = fileURLToPath(new URL("./testing/worker.ts", import.meta.url));

function start(): Promise<ChildProcess> {
  const args = JSON.stringify({
    databaseUrl: t.url,
    objects: ["Account"],
    auth: {
      kind: "password",
      loginUrl: sandbox.url,
      clientId: sandbox.options.clientId,
      clientSecret: sandbox.options.clientSecret,
      username: sandbox.options.username,
      password: sandbox.options.password,
    },
  });
  const p = spawn(process.execPath, ["--import", "tsx", worker, args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  child = p;
  return new Promise((resolve, reject) => {
    p.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes("started")) resolve(p);
    });
    p.once("exit", (code) => reject(new Error(`worker exited ${code} before starting`)));
  });
}

async function kill(p: ChildProcess) {
  const exited = new Promise((r) => p.once("exit", r));
  p.kill("SIGKILL");
  await exited;
}

function sourceChecksum(): { count: number; sum: string } {
  const rows = [...sandbox.org.table("Account").values()]
    .filter((r) => !r.IsDeleted)
    .map((r) =>
      [r.Id, r.Name, r.CurrencyIsoCode, r.Tax_Jurisdiction__c ?? "", r.ParentId ?? ""].join("|"),
    )
    .sort();
  return { count: rows.length, sum: createHash("md5").update(rows.join("\n")).digest("hex") };
}

async function hubChecksum(): Promise<{ count: number; sum: string }> {
  const rows = await t.sql<{ line: string }[]>`
    select l.external_id || '|' || c.name || '|' || c.currency || '|' || coalesce(c.tax_jurisdiction, '') || '|' || coalesce(pl.external_id, '') as line
    from source_link l
    join customer c on c.id = l.entity_id
    left join source_link pl on pl.entity_type = 'customer' and pl.entity_id = c.parent_id and pl.system = 'SALESFORCE'
    where l.system = 'SALESFORCE' and l.object = 'Account' and l.entity_type = 'customer' and c.status <> 'INACTIVE'`;
  const lines = rows.map((r) => r.line).sort();
  return { count: lines.length, sum: createHash("md5").update(lines.join("\n")).digest("hex") };
}

describe("crash safety", () => {
  it(`kill -9 at random points of a ${TOTAL}-record sync; restart; the hub equals the source`, {
    timeout: 600_000,
  }, async () => {
    const org = sandbox.org;
    const groups: string[] = [];
    for (let i = 0; i < TOTAL; i++) {
      const parent =
        i % 10 === 0 || groups.length === 0
          ? undefined
          : groups[Math.floor(i / 10) % groups.length];
      const rec = org.create(
        "Account",
        {
          Name: `Account ${i}`,
          CurrencyIsoCode: i % 3 === 0 ? "EUR" : "USD",
          Tax_Jurisdiction__c: i % 2 ? "US-NY" : null,
          ParentId: parent ?? null,
        },
        { silent: true },
      );
      if (i % 10 === 0) groups.push(rec.Id);
    }
    let rand = 42;
    const random = () => {
      rand = (rand * 1103515245 + 12345) % 2 ** 31;
      return rand / 2 ** 31;
    };
    // Three crashes at random points, with changes made in the source between them.
    for (let crash = 0; crash < 3; crash++) {
      const p = await start();
      await new Promise((r) => setTimeout(r, 1500 + random() * 4000));
      await kill(p);
      org.advanceClock(1000);
      const ids = [...org.table("Account").keys()];
      for (let k = 0; k < 50; k++) {
        const id = ids[Math.floor(random() * ids.length)]!;
        if (org.table("Account").get(id)?.IsDeleted) continue;
        org.update("Account", id, { Name: `Changed ${crash}-${k}` });
      }
      const victim = ids[Math.floor(random() * ids.length)]!;
      const hasChildren = [...org.table("Account").values()].some((r) => r.ParentId === victim);
      if (!hasChildren && !org.table("Account").get(victim)?.IsDeleted)
        org.delete("Account", victim);
    }
    // A last run to completion.
    const p = await start();
    const source = sourceChecksum();
    const deadline = Date.now() + 540_000;
    let hub = await hubChecksum();
    const began = Date.now();
    while (Date.now() < deadline && (hub.count !== source.count || hub.sum !== source.sum)) {
      await new Promise((r) => setTimeout(r, 2000));
      hub = await hubChecksum();
    }
    await kill(p);
    const waits =
      await t.sql`select count(*)::int as n, max(attempts) as attempts from inbox_event where reason like '%waiting%' or attempts > 1`;
    console.log("converged after", Date.now() - began, "ms", JSON.stringify(waits));
    if (hub.count !== source.count) {
      const cursors = await t.sql`select connector, object, cursor, last_error from sync_cursor`;
      const inbox =
        await t.sql`select status, count(*)::int, min(reason), max(reason) from inbox_event group by status`;
      console.log("hub", hub, "source", source);
      console.log(JSON.stringify({ cursors, inbox }, null, 1).slice(0, 4000));
    }
    expect(hub.count).toBe(source.count);
    expect(hub.sum).toBe(source.sum);
    const [failed] = await t.sql<
      { n: number }[]
    >`select count(*)::int as n from inbox_event where status = 'FAILED'`;
    expect(failed!.n).toBe(0);
  });
});
