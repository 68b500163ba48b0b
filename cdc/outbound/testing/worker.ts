/**
 * An outbound worker process for the kill -9 test: the real OutboundWorker with the NetSuite
 * handlers, pointed at a sandbox. argv[2] = JSON { databaseUrl, baseUrl, token, leaseMs }.
 * Runs until killed (the test kills it with SIGKILL mid-batch).
 */
import { createDbClient } from "@pshub/db";
import { NetSuiteClient } from "../../netsuite/client.ts";
import { netsuiteHandlers } from "../netsuite.ts";
import { OutboundWorker } from "../worker.ts";

const args = JSON.parse(process.argv[2] ?? "{}");
const client = createDbClient(args.databaseUrl, { max: 4 });
const ns = new NetSuiteClient({
  baseUrl: args.baseUrl,
  auth: { accessToken: args.token },
  timeoutMs: 2000,
});
const worker = new OutboundWorker({
  client,
  handlers: netsuiteHandlers(ns),
  workerId: `crash-${process.pid}`,
  leaseMs: args.leaseMs,
  pollMs: 20,
  backoffBaseMs: 20,
  backoffMaxMs: 200,
  targets: { ERP: { concurrency: 4 } },
});
worker.start();
process.stdout.write("started\n");
process.on("SIGTERM", async () => {
  await worker.stop();
  await client.close();
  process.exit(0);
});
