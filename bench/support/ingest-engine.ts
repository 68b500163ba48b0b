/**
 * The engine side of `npm run bench -- ingest`, in a process of its own: the bench reads this
 * process's RSS and CPU from /proc, so they are the engine's alone (the sandbox org, the webhook
 * senders and the floor's rows live in the bench process). Forked once per run and kept for the
 * whole run (RSS over the run is the engine's across every round). Each IPC command runs one
 * phase and answers `{ id, ok, … }` when it is done:
 * - `poll`: a SyncEngine with the Salesforce + Certinia connectors (Bulk 2.0 full load), started,
 *   run until every object is incremental and nothing due is left in the inbox, stopped;
 * - `webhooks-start` / `webhooks-stop`: the WebhookReceiver on a free port and a SyncEngine that
 *   applies the webhook source (the cdc process's own wiring, cdc/main.ts);
 *   `webhooks-receiver-start` / `webhooks-engine-start`: only one of the two (`--receiver-process`
 *   runs the receiver in a second process of its own);
 * - `cdc-start` / `cdc-stop`: the connectors with Change Data Capture streaming, after a full load;
 * - `exit`.
 */
import { SyncEngine } from "@pshub/cdc";
import {
  closedWonHook,
  createSalesforceOrg,
  SALESFORCE_DEFAULTS,
  type SalesforceAuth,
} from "@pshub/cdc/salesforce";
import { WEBHOOK_SOURCE, WebhookReceiver } from "@pshub/cdc/webhooks";
import { webhookMappers } from "@pshub/cdc/webhooks/events";
import { createDbClient, createLogger } from "@pshub/db";

export interface EngineSetup {
  databaseUrl: string;
  auth: SalesforceAuth;
  batch: number;
  webhookSecret: string;
  /** The receiver's port (0: any free one). */
  webhookPort: number;
}

export type EngineCommand =
  | { id: number; cmd: "poll" }
  | { id: number; cmd: "webhooks-start" }
  | { id: number; cmd: "webhooks-receiver-start" }
  | { id: number; cmd: "webhooks-engine-start" }
  | { id: number; cmd: "webhooks-stop" }
  | { id: number; cmd: "cdc-start" }
  | { id: number; cmd: "cdc-stop" }
  | { id: number; cmd: "watch-start"; watch: "webhooks" | "cdc"; after: number }
  | { id: number; cmd: "watch-stop" }
  | { id: number; cmd: "exit" };

export interface EngineReply {
  id: number;
  ok: boolean;
  error?: string;
  port?: number;
  /** watch-stop: [key, wall-clock ms it was first seen] of every change the watcher saw. */
  seen?: [string, number][];
  /** watch-stop: the gaps (ms) between the watcher's looks. */
  gaps?: number[];
}

const setup = JSON.parse(process.env.INGEST_BENCH_SETUP ?? "null") as EngineSetup | null;
if (!setup || !process.send) throw new Error("run by bench/ingest.ts (forked, with its setup)");
const log = createLogger("bench-ingest-engine", "warn");
// A client per phase, closed with it: an engine's LISTEN connection is not reused by the next
// engine (postgres.js crashed once writing to a listen socket that the previous engine had ended).
const newClient = () => createDbClient(setup!.databaseUrl, { max: 8 });
type Client = ReturnType<typeof newClient>;

function salesforceOrg(client: Client, streaming: boolean) {
  return createSalesforceOrg(
    {
      ...SALESFORCE_DEFAULTS,
      auth: setup!.auth,
      streaming,
      certinia: true,
      pageSize: setup!.batch,
      bulkThreshold: 10_000,
      sweepEveryMs: 3_600_000,
      pollIntervalMs: 3_600_000,
    },
    client.db,
  );
}

function engineFor(client: Client, sf?: ReturnType<typeof salesforceOrg>) {
  return new SyncEngine({
    client,
    databaseUrl: setup!.databaseUrl,
    connectors: sf?.connectors ?? [],
    sourceMappers: sf ? undefined : { [WEBHOOK_SOURCE]: webhookMappers },
    hooks: [closedWonHook({ autoConvert: true })],
    logger: log,
    batchSize: setup!.batch,
    applyIntervalMs: 100,
  });
}

const countOf = async (client: Client, q: string) =>
  Number(((await client.sql.unsafe(q)) as unknown as [{ n: string }])[0].n);

/** Waits until every object finished its full load and nothing due is left in the inbox. */
async function untilSynced(client: Client, objects: number, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const done = await countOf(
      client,
      `select count(*) as n from sync_cursor where cursor->>'phase' = 'incremental'`,
    );
    const pending = await countOf(
      client,
      // Due rows: new ones, and waiting ones their parent has woken (next_attempt_at cleared).
      `select count(*) as n from inbox_event where status = 'RECEIVED'
         and (next_attempt_at is null or next_attempt_at <= now())`,
    );
    if (done >= objects && pending === 0) return;
    if (Date.now() > end) throw new Error(`not synced after ${timeoutMs} ms (${done} loaded)`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let webhooks: { receiver?: WebhookReceiver; engine?: SyncEngine; client: Client } | undefined;
let cdc: { engine: SyncEngine; client: Client } | undefined;
let watcher:
  | { stop: () => void; done: Promise<void>; seen: Map<string, number>; gaps: number[] }
  | undefined;

/**
 * The graph's reader, in a process of its own (`--watcher-process`): looks at the hub every
 * 20 ms and notes when each change is first visible (a webhook's time_entry.synced event; a CDC
 * update's customer name), so the bench's senders do not delay its looks.
 */
function startWatcher(kind: "webhooks" | "cdc", after: number) {
  const client = newClient();
  const seen = new Map<string, number>();
  const gaps: number[] = [];
  let stopped = false;
  let watermark = after;
  const done = (async () => {
    let last = 0;
    for (;;) {
      // Asked to stop after the bench saw everything applied: one more look, so changes that
      // committed since the last one are not missed.
      const lastLook = stopped;
      const rows =
        kind === "webhooks"
          ? await client.sql<{ id: string; key: string }[]>`
              select id::text, payload->>'externalId' as key from domain_event
              where id > ${watermark} and type = 'time_entry.synced' order by id`
          : await client.sql<{ id: string; key: string }[]>`
              select '0' as id, name as key from customer where name like 'Lag %'`;
      const now = Date.now();
      if (last) gaps.push(now - last);
      last = now;
      for (const r of rows) {
        watermark = Math.max(watermark, Number(r.id));
        if (!seen.has(r.key)) seen.set(r.key, now);
      }
      if (lastLook) break;
      await new Promise((r) => setTimeout(r, kind === "webhooks" ? 20 : 10));
    }
    await client.close();
  })();
  return { stop: () => (stopped = true), done, seen, gaps };
}

async function run(command: EngineCommand): Promise<Omit<EngineReply, "id" | "ok">> {
  switch (command.cmd) {
    case "poll": {
      const client = newClient();
      const sf = salesforceOrg(client, false);
      const engine = engineFor(client, sf);
      try {
        await engine.start();
        await untilSynced(
          client,
          sf.connectors.reduce((n, c) => n + c.objects.length, 0),
          1_800_000,
        );
      } finally {
        await engine.stop();
        await client.close();
      }
      return {};
    }
    case "webhooks-start":
    case "webhooks-receiver-start":
    case "webhooks-engine-start": {
      const client = newClient();
      const receiver =
        command.cmd === "webhooks-engine-start"
          ? undefined
          : new WebhookReceiver({ client, secrets: [setup!.webhookSecret], logger: log });
      const engine = command.cmd === "webhooks-receiver-start" ? undefined : engineFor(client);
      await engine?.start();
      webhooks = { receiver, engine, client };
      return receiver ? { port: await receiver.listen(setup!.webhookPort) } : {};
    }
    case "webhooks-stop":
      await webhooks?.receiver?.close();
      await webhooks?.engine?.stop();
      await webhooks?.client.close();
      webhooks = undefined;
      return {};
    case "cdc-start": {
      const client = newClient();
      const sf = salesforceOrg(client, true);
      cdc = { engine: engineFor(client, sf), client };
      await cdc.engine.start();
      await untilSynced(
        client,
        sf.connectors.reduce((n, c) => n + c.objects.length, 0),
        1_800_000,
      );
      return {};
    }
    case "cdc-stop":
      await cdc?.engine.stop();
      await cdc?.client.close();
      cdc = undefined;
      return {};
    case "watch-start":
      watcher = startWatcher(command.watch, command.after);
      return {};
    case "watch-stop": {
      const w = watcher;
      watcher = undefined;
      if (!w) return { seen: [], gaps: [] };
      w.stop();
      await w.done;
      return { seen: [...w.seen], gaps: w.gaps };
    }
    case "exit":
      setImmediate(() => process.exit(0));
      return {};
  }
}

process.on("message", (command: EngineCommand) => {
  run(command).then(
    (reply) => process.send!({ id: command.id, ok: true, ...reply } satisfies EngineReply),
    (error: unknown) =>
      process.send!({
        id: command.id,
        ok: false,
        error: (error as Error)?.stack ?? String(error),
      } satisfies EngineReply),
  );
});
process.send({ id: 0, ok: true } satisfies EngineReply);
