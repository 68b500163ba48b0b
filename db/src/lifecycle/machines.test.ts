import { describe, expect, it } from "vitest";
import { DomainError } from "../errors.ts";
import {
  assertTransition,
  canTransition,
  conversionState,
  machines,
  type StateMachine,
} from "./machines.ts";

// Every allowed and every refused transition of every machine, as a table: the expected allowed
// set is written out here independently of machines.ts, so a change to either is caught.
const expected: Record<keyof typeof machines, Record<string, string[]>> = {
  opportunity: { OPEN: [], CLOSED_WON: ["CONVERTED"], CLOSED_LOST: [], CONVERTED: [] },
  contract: {
    DRAFT: ["ACTIVE", "TERMINATED"],
    ACTIVE: ["COMPLETED", "TERMINATED"],
    COMPLETED: [],
    TERMINATED: [],
  },
  project: {
    PLANNED: ["ACTIVE", "CLOSED"],
    ACTIVE: ["ON_HOLD", "COMPLETED"],
    ON_HOLD: ["ACTIVE", "COMPLETED"],
    COMPLETED: ["CLOSED"],
    CLOSED: [],
  },
  milestone: {
    OPEN: ["COMPLETED"],
    COMPLETED: ["APPROVED", "OPEN"],
    APPROVED: ["BILLED"],
    BILLED: [],
  },
  time_entry: {
    SUBMITTED: ["APPROVED", "REJECTED"],
    APPROVED: ["BILLED"],
    REJECTED: ["SUBMITTED"],
    BILLED: [],
  },
  expense: {
    SUBMITTED: ["APPROVED", "REJECTED"],
    APPROVED: ["BILLED"],
    REJECTED: ["SUBMITTED"],
    BILLED: [],
  },
  billing_event: { READY: ["INVOICED", "VOID"], INVOICED: ["READY"], VOID: [] },
  invoice: {
    DRAFT: ["ISSUED", "VOID"],
    ISSUED: ["POSTED", "PARTIALLY_PAID", "PAID", "DISPUTED", "VOID"],
    POSTED: ["PARTIALLY_PAID", "PAID", "DISPUTED", "VOID"],
    PARTIALLY_PAID: ["PARTIALLY_PAID", "PAID", "DISPUTED"],
    PAID: [],
    DISPUTED: ["ISSUED", "POSTED", "PARTIALLY_PAID", "VOID"],
    VOID: [],
  },
  dispute: { OPEN: ["RESOLVED"], RESOLVED: [] },
  sync_exception: {
    OPEN: ["RETRYING", "RESOLVED", "IGNORED"],
    RETRYING: ["OPEN", "RESOLVED", "IGNORED"],
    RESOLVED: [],
    IGNORED: ["OPEN"],
  },
};

// The GraphQL type name each machine's errors carry as `entityType` (one casing everywhere).
const typeNames: Record<keyof typeof machines, string> = {
  opportunity: "Opportunity",
  contract: "Contract",
  project: "Project",
  milestone: "Milestone",
  time_entry: "TimeEntry",
  expense: "Expense",
  billing_event: "BillingEvent",
  invoice: "Invoice",
  dispute: "Dispute",
  sync_exception: "SyncException",
};

describe("state machines", () => {
  for (const [name, table] of Object.entries(expected)) {
    const m = machines[name as keyof typeof machines] as StateMachine<string>;
    it(`${name}: the states are the enum's states`, () => {
      expect([...m.states].sort()).toEqual(Object.keys(table).sort());
    });
    for (const from of Object.keys(table)) {
      for (const to of Object.keys(table)) {
        const allowed = table[from]!.includes(to);
        it(`${name}: ${from} → ${to} is ${allowed ? "allowed" : "refused"}`, () => {
          expect(canTransition(m, from, to)).toBe(allowed);
          if (allowed) {
            expect(() => assertTransition(m, "x", from, to)).not.toThrow();
          } else {
            let error: unknown;
            try {
              assertTransition(m, "x", from, to);
            } catch (e) {
              error = e;
            }
            expect(error).toBeInstanceOf(DomainError);
            expect((error as DomainError).code).toBe("INVALID_TRANSITION");
            expect((error as DomainError).details).toMatchObject({
              from,
              to,
              entityType: typeNames[name as keyof typeof machines],
            });
            expect((error as DomainError).message).toBe(
              `${typeNames[name as keyof typeof machines]} x cannot go from ${from} to ${to}`,
            );
          }
        });
      }
    }
  }

  it("derives the conversion state of an opportunity", () => {
    expect(conversionState({ stage: "PROPOSAL", isWon: false, convertedAt: null })).toBe("OPEN");
    expect(conversionState({ stage: "CLOSED_WON", isWon: true, convertedAt: null })).toBe(
      "CLOSED_WON",
    );
    expect(conversionState({ stage: "CLOSED_LOST", isWon: false, convertedAt: null })).toBe(
      "CLOSED_LOST",
    );
    expect(conversionState({ stage: "CLOSED_WON", isWon: true, convertedAt: new Date() })).toBe(
      "CONVERTED",
    );
  });
});
