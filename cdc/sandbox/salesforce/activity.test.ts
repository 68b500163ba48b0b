import { describe, expect, it, vi } from "vitest";
import { seedSandboxOrg, startActivity } from "./activity.ts";
import { SandboxOrg } from "./org.ts";

describe("sandbox live activity", () => {
  it("closes deals, logs and approves time, submits and approves expenses, each as a change event", async () => {
    const org = new SandboxOrg();
    seedSandboxOrg(org, { projects: [{ code: "PRJ-1", name: "Rollout" }] });
    expect(org.table("Account").size).toBe(5);
    const events: string[] = [];
    org.onChange((e) =>
      events.push(
        `${e.payload.ChangeEventHeader.entityName}:${e.payload.ChangeEventHeader.changeType}`,
      ),
    );
    let seed = 7;
    const stop = startActivity(org, {
      intervalMs: 2,
      random: () => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      },
    });
    // Ticks every 2 ms, with a seeded random: wait (bounded) until each kind of activity has
    // happened, rather than counting what a fixed 1.5 s holds (too few ticks on a loaded machine).
    try {
      await vi.waitFor(
        () => {
          const stages = [...org.table("Opportunity").values()].map((o) => o.StageName);
          expect(stages).toContain("Closed Won");
          const timecards = [...org.table("pse__Timecard_Header__c").values()].map(
            (t) => t.pse__Status__c,
          );
          expect(timecards).toContain("Approved");
          expect(events.some((e) => e.startsWith("pse__Expense__c"))).toBe(true);
          expect(events.length).toBeGreaterThan(20);
        },
        { timeout: 30_000, interval: 50 },
      );
    } finally {
      stop();
    }
  });
});
