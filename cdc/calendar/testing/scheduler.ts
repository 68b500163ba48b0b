/**
 * A billing-calendar process for the restart test: the real BillingScheduler on the real clock.
 * argv[2] = JSON { databaseUrl, pauseAt? }. With pauseAt it stops inside the run's transaction at
 * that step, prints "paused" and waits to be killed; otherwise it ticks once, prints
 * "done <summary>" and waits for SIGTERM.
 */
import { createDbClient } from "@pshub/db";
import { BillingScheduler } from "../scheduler.ts";

const args = JSON.parse(process.argv[2] ?? "{}") as { databaseUrl: string; pauseAt?: string };
const client = createDbClient(args.databaseUrl, { max: 2 });
const scheduler = new BillingScheduler({
  client,
  databaseUrl: args.databaseUrl,
  runner: `crash-${process.pid}`,
  onStep: async (step) => {
    if (step !== args.pauseAt) return;
    process.stdout.write("paused\n");
    await new Promise(() => {});
  },
});
const summary = await scheduler.tick();
const { errors, ...counts } = summary ?? { errors: [] };
process.stdout.write(
  `done ${JSON.stringify({ leader: !!summary, ...counts, errors: errors.length })}\n`,
);
process.on("SIGTERM", async () => {
  await scheduler.stop();
  await client.close();
  process.exit(0);
});
