/**
 * Live activity in the sandbox org, so a hub fed by it moves: deals advance and close (some
 * Closed Won with full terms, which the hub converts), consultants log timecards in the PSA and
 * managers approve them, expenses are submitted and approved. Every change goes through the org
 * (SystemModstamp, change events), exactly as users' changes would.
 *
 * `projects` / `resources`: the hub's own project codes and resource emails (the launcher reads
 * them from the hub), so PSA records link to the hub's rows the way a real PSA's would.
 */
import type { SandboxOrg } from "./org.ts";

export interface ActivityOptions {
  intervalMs?: number;
  projects?: { code: string; name: string }[];
  resources?: { email: string; name: string }[];
  /** Deterministic choices (tests); default Math.random. */
  random?: () => number;
}

const STAGES = ["Prospecting", "Qualification", "Proposal/Price Quote", "Negotiation/Review"];
const MODELS = ["Time and Materials", "Fixed Fee", "Milestone"];

/** A small firm's CRM and PSA data when the org is empty. */
export function seedSandboxOrg(org: SandboxOrg, options: ActivityOptions = {}): void {
  if (org.table("Account").size > 0) return;
  const names = ["Northwind Group", "Contoso", "Fabrikam", "Tailspin Toys", "Adventure Works"];
  const accounts = names.map((Name) =>
    org.create(
      "Account",
      {
        Name,
        CurrencyIsoCode: "USD",
        Legal_Entity__c: "US",
        Tax_Jurisdiction__c: "US-NY",
        Status__c: "Active",
      },
      { silent: true },
    ),
  );
  for (const a of accounts.slice(1, 3))
    org.update("Account", a.Id, { ParentId: accounts[0]!.Id }, { silent: true });
  for (const [i, a] of accounts.entries()) {
    org.create(
      "Contact",
      {
        AccountId: a.Id,
        FirstName: "Pat",
        LastName: `Buyer ${i}`,
        Email: `buyer${i}@${a.Name!.toString().toLowerCase().replace(/\W/g, "")}.example`,
        Billing_Contact__c: true,
      },
      { silent: true },
    );
  }
  const resources = options.resources ?? [
    { email: "ana.consultant@firm.example", name: "Ana Consultant" },
    { email: "ben.architect@firm.example", name: "Ben Architect" },
  ];
  for (const r of resources) {
    const [first, ...rest] = r.name.split(" ");
    org.create(
      "Contact",
      {
        FirstName: first,
        LastName: rest.join(" ") || first,
        Email: r.email,
        pse__Is_Resource__c: true,
        pse__Is_Resource_Active__c: true,
        pse__Resource_Role__c: "Consultant",
        Default_Bill_Rate__c: 150,
        pse__Default_Cost_Rate__c: 80,
        CurrencyIsoCode: "USD",
      },
      { silent: true },
    );
  }
  for (const p of options.projects ?? []) {
    org.create(
      "pse__Proj__c",
      {
        Name: p.name,
        pse__Project_ID__c: p.code,
        pse__Stage__c: "In Progress",
        pse__Is_Active__c: true,
        CurrencyIsoCode: "USD",
      },
      { silent: true },
    );
  }
}

/** Starts the activity loop; returns a function that stops it. */
export function startActivity(org: SandboxOrg, options: ActivityOptions = {}): () => void {
  const random = options.random ?? Math.random;
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(random() * xs.length)];
  const live = (object: string) => [...org.table(object).values()].filter((r) => !r.IsDeleted);
  let n = 0;
  const tick = () => {
    n += 1;
    try {
      const roll = random();
      const accounts = live("Account");
      const open = live("Opportunity").filter((o) => !String(o.StageName).startsWith("Closed"));
      if (roll < 0.2 && accounts.length > 0) {
        org.create("Opportunity", {
          AccountId: pick(accounts)!.Id,
          Name: `Engagement ${n}`,
          StageName: "Prospecting",
          Amount: 10_000 + Math.floor(random() * 90) * 1000,
          CurrencyIsoCode: "USD",
          CloseDate: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10),
        });
      } else if (roll < 0.4 && open.length > 0) {
        const o = pick(open)!;
        const i = STAGES.indexOf(String(o.StageName));
        if (i >= 0 && i < STAGES.length - 1)
          org.update("Opportunity", o.Id, { StageName: STAGES[i + 1] });
        else {
          const start = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
          const end = new Date(Date.now() + 180 * 86_400_000).toISOString().slice(0, 10);
          org.update("Opportunity", o.Id, {
            StageName: random() < 0.8 ? "Closed Won" : "Closed Lost",
            Billing_Model__c: pick(MODELS),
            Legal_Entity__c: "US",
            Contract_Type__c: "Services",
            Start_Date__c: start,
            End_Date__c: end,
            Payment_Terms__c: 30,
            Installments__c: 3,
          });
        }
      } else if (roll < 0.7) {
        const projects = live("pse__Proj__c");
        const resources = live("Contact").filter((c) => c.pse__Is_Resource__c);
        if (projects.length > 0 && resources.length > 0) {
          const monday = new Date();
          monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
          org.create("pse__Timecard_Header__c", {
            pse__Project__c: pick(projects)!.Id,
            pse__Resource__c: pick(resources)!.Id,
            pse__Start_Date__c: monday.toISOString().slice(0, 10),
            pse__Status__c: "Submitted",
            pse__Billable__c: true,
            pse__Monday_Hours__c: 8,
            pse__Tuesday_Hours__c: 4 + Math.floor(random() * 5),
            pse__Bill_Rate__c: 150,
            CurrencyIsoCode: "USD",
          });
        }
      } else if (roll < 0.9) {
        const submitted = live("pse__Timecard_Header__c").filter(
          (t) => t.pse__Status__c === "Submitted",
        );
        const t = pick(submitted);
        if (t)
          org.update("pse__Timecard_Header__c", t.Id, {
            pse__Status__c: "Approved",
            pse__Approved__c: true,
          });
      } else {
        const projects = live("pse__Proj__c");
        const resources = live("Contact").filter((c) => c.pse__Is_Resource__c);
        const pending = live("pse__Expense__c").filter((e) => e.pse__Status__c === "Submitted");
        const e = pick(pending);
        if (e && random() < 0.5)
          org.update("pse__Expense__c", e.Id, {
            pse__Status__c: "Approved",
            pse__Approved__c: true,
          });
        else if (projects.length > 0 && resources.length > 0) {
          org.create("pse__Expense__c", {
            pse__Project__c: pick(projects)!.Id,
            pse__Resource__c: pick(resources)!.Id,
            pse__Amount__c: 20 + Math.floor(random() * 400),
            pse__Expense_Date__c: new Date().toISOString().slice(0, 10),
            pse__Type__c: pick(["Travel", "Lodging", "Meals"]),
            pse__Billable__c: true,
            pse__Status__c: "Submitted",
            CurrencyIsoCode: "USD",
          });
        }
      }
    } catch {
      // A random change the org refuses (e.g. a record deleted meanwhile) is just skipped.
    }
  };
  const timer = setInterval(tick, options.intervalMs ?? 5000);
  timer.unref();
  return () => clearInterval(timer);
}
