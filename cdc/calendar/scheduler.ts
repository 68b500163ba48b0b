/**
 * The billing calendar's process side: a long-lived loop (in the cdc process under `npm start`)
 * that runs db's runBillingCalendar every `intervalMs`. Only the holder of the leader lock
 * `billing-calendar` (a session advisory lock, like the pollers') runs it, so a second process
 * does no work twice — but the guarantee that a (contract, period) is billed once is the
 * billing_run key in the database, not this lock (see db/src/lifecycle/calendar.ts).
 */
import {
  type BillingRunOptions,
  type CalendarRunSummary,
  type DbClient,
  type Logger,
  runBillingCalendar,
  sync,
} from "@pshub/db";

const CALENDAR_LEADER_KEY = "billing-calendar";

export interface BillingSchedulerOptions {
  client: DbClient;
  /** For the leader session's own connection. */
  databaseUrl: string;
  /** How often it looks for due runs (default 60 s). */
  intervalMs?: number;
  /** MONTHLY schedules bill n-second periods (the demo); unset = calendar months. */
  periodSeconds?: number;
  /** A FAILED run is retried after this long (default 15 min). */
  retryAfterSeconds?: number;
  /** Recorded on billing_run rows (default billing-calendar-<pid>). */
  runner?: string;
  logger?: Logger;
  /** Test hook, passed to each run (see BillingRunOptions.onStep). */
  onStep?: BillingRunOptions["onStep"];
}

export class BillingScheduler {
  private readonly leader: sync.LeaderSession;
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopped = true;
  readonly runner: string;

  constructor(private readonly options: BillingSchedulerOptions) {
    this.runner = options.runner ?? `billing-calendar-${process.pid}`;
    this.leader = sync.createLeaderSession(options.databaseUrl, {
      applicationName: "pshub-billing-calendar",
    });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick().catch((error) =>
        this.options.logger?.warn({ err: error }, "billing calendar tick failed"),
      );
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, this.options.intervalMs ?? 60_000);
    };
    void loop();
  }

  /** Whether this scheduler holds the leader lock (after its last tick). */
  isLeader(): boolean {
    return this.leader.held().includes(CALENDAR_LEADER_KEY);
  }

  /**
   * One pass: take (or keep) the leader lock, then bill every due run. Returns undefined when
   * another scheduler is the leader.
   */
  async tick(): Promise<CalendarRunSummary | undefined> {
    await this.leader.heartbeat();
    if (!(await this.leader.tryAcquire(CALENDAR_LEADER_KEY))) return undefined;
    const summary = await runBillingCalendar(this.options.client.db, {
      runner: this.runner,
      periodSeconds: this.options.periodSeconds,
      retryAfterSeconds: this.options.retryAfterSeconds,
      onStep: this.options.onStep,
    });
    const log = this.options.logger;
    if (log && summary.due > 0) {
      const { errors, ...counts } = summary;
      log.info({ ...counts, transientErrors: errors.length }, "billing calendar ran");
      for (const error of errors) log.warn({ err: error }, "billing calendar run will be retried");
    }
    return summary;
  }

  /** Stops the loop, waits for a running tick, releases the lock. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.leader.close();
  }
}
