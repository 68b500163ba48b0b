/** The demo's customers (in a hierarchy), their contacts and the sales pipeline in every stage. */
import { addDays, addMonths } from "../values.ts";
import { COMPANY_STEMS, DIVISIONS, INDUSTRIES, OPPORTUNITY_KINDS, TITLES } from "../words.ts";
import { type CustomerInfo, DemoContext, type Entity } from "./context.ts";
import { seedContract } from "./contracts.ts";

export function seedCustomer(
  demo: DemoContext,
  entities: Entity[],
  isParent: boolean,
  parent?: CustomerInfo,
): CustomerInfo {
  const pickEntity = () =>
    demo.r.weighted([
      [entities[0] as Entity, 5],
      [entities[1] as Entity, 3],
      [entities[2] as Entity, 2],
    ]);
  const entity = parent && demo.r.chance(0.7) ? parent.entity : pickEntity();
  let short: string;
  let name: string;
  if (parent) {
    const used = demo.usedDivisions.get(parent.id) ?? new Set<string>();
    const division = demo.r.sample(
      DIVISIONS.filter((d) => !used.has(d)),
      1,
    )[0];
    used.add(division ?? "");
    demo.usedDivisions.set(parent.id, used);
    short = `${parent.short} ${division ?? "Holdings"}`;
    name = demo.uniqueName(`${short} ${entity.companySuffix}`);
  } else {
    short = `${demo.r.pick(COMPANY_STEMS)} ${demo.r.pick(INDUSTRIES)}`;
    name = demo.uniqueName(isParent ? `${short} Group` : `${short} ${entity.companySuffix}`);
  }
  const status = isParent
    ? "ACTIVE"
    : demo.r.weighted([
        ["ACTIVE", 88],
        ["ON_HOLD", 8],
        ["INACTIVE", 4],
      ] as const);
  const domain = `${name
    .toLowerCase()
    .replaceAll(/[^a-z0-9]+/g, "-")
    .replaceAll(/^-|-$/g, "")}.example`;
  const billingName = demo.personName();
  const billingEmail = `accounts.payable@${domain}`;
  const createdOn = addDays("2024-01-08", demo.r.int(0, 600));
  const row = demo.sink.push(
    "customer",
    demo.b.customer({
      name,
      currency: entity.currency,
      legalEntityId: entity.id,
      parentId: parent?.id ?? null,
      taxJurisdiction: entity.jurisdiction,
      billingContactName: billingName,
      billingEmail,
      status,
      createdOn,
    }),
  );
  const id = row.id as string;
  demo.link("customer", id, "SALESFORCE", "Account", demo.sfId("001"), createdOn);
  demo.link("customer", id, "ERP", "customer", String(demo.next("erp:customer", 2_100)));

  const contacts = [{ name: billingName, email: billingEmail, title: "Accounts Payable Lead" }];
  for (let k = demo.r.int(1, 3); k > 0; k--) {
    const contactName = demo.personName();
    contacts.push({
      name: contactName,
      email: demo.uniqueEmail(contactName, domain),
      title: demo.r.pick(TITLES),
    });
  }
  contacts.forEach((c, index) => {
    const contact = demo.sink.push(
      "contact",
      demo.b.contact({
        customerId: id,
        name: c.name,
        email: c.email,
        phone: `${entity.phonePrefix}${String(demo.r.int(0, 99)).padStart(2, "0")}`,
        title: c.title,
        isBillingContact: index === 0,
        createdOn,
      }),
    );
    demo.link("contact", contact.id as string, "SALESFORCE", "Contact", demo.sfId("003"));
  });
  const info: CustomerInfo = {
    id,
    name,
    short,
    entity,
    status,
    isParent,
    billingContactEmail: billingEmail,
  };
  if (demo.samples.customers.length < 50) demo.samples.customers.push(info);
  return info;
}

/** The open pipeline plus the won deals (contracts, projects, work, billing) of one customer. */
export function seedCustomerDeals(demo: DemoContext, customer: CustomerInfo, index: number): void {
  const pipelineStages = [
    "PROSPECTING",
    "QUALIFICATION",
    "PROPOSAL",
    "NEGOTIATION",
    "CLOSED_LOST",
    "CLOSED_WON",
  ] as const;
  seedPipelineOpportunity(
    demo,
    customer,
    pipelineStages[index % pipelineStages.length] ?? "PROPOSAL",
  );
  if (demo.r.chance(0.4)) seedPipelineOpportunity(demo, customer, demo.r.pick(pipelineStages));
  if (customer.isParent) return;
  const contracts = customer.status === "INACTIVE" ? 1 : demo.r.chance(0.3) ? 2 : 1;
  for (let k = 0; k < contracts; k++) seedContract(demo, customer);
}

function seedPipelineOpportunity(demo: DemoContext, customer: CustomerInfo, stage: string): void {
  const model = demo.r.pick(["TIME_AND_MATERIALS", "FIXED_FEE", "RETAINER", "MILESTONE"]);
  const open = stage !== "CLOSED_WON" && stage !== "CLOSED_LOST";
  const closeDate = open
    ? addDays(demo.today, demo.r.int(10, 150))
    : addDays(demo.today, -demo.r.int(5, 120));
  const amount = `${demo.r.int(20, 400) * 1_000}.00`;
  const won = stage === "CLOSED_WON";
  const startDate = addDays(closeDate, demo.r.int(14, 45));
  const retainerAmount = `${demo.r.int(8, 30) * 1_000}.00`;
  const row = demo.sink.push(
    "opportunity",
    demo.b.opportunity({
      customerId: customer.id,
      name: `${customer.short} – ${demo.r.pick(OPPORTUNITY_KINDS)}`,
      stage,
      amount,
      currency: customer.entity.currency,
      closeDate,
      // A won deal waiting for conversion carries the terms conversion needs.
      billingModel: open && demo.r.chance(0.4) ? null : model,
      isWon: won,
      legalEntityId: won ? customer.entity.id : null,
      startDate: won ? startDate : null,
      endDate: won ? addMonths(startDate, 12) : null,
      paymentTermsDays: won ? 30 : null,
      retainerAmount: won && model === "RETAINER" ? retainerAmount : null,
      retainerHours:
        won && model === "RETAINER" ? `${Number.parseInt(retainerAmount, 10) / 200}.00` : null,
      budgetHours: won ? `${demo.r.int(30, 150) * 10}.00` : null,
      installments: won && (model === "FIXED_FEE" || model === "MILESTONE") ? 4 : null,
      createdOn: addDays(closeDate, -demo.r.int(30, 120)),
    }),
  );
  demo.link("opportunity", row.id as string, "SALESFORCE", "Opportunity", demo.sfId("006"));
  if (won && demo.samples.opportunities.length < 50) {
    demo.samples.opportunities.push({ id: row.id as string, name: row.name as string });
  }
}
