/** The demo firm's reference data: its three legal entities (US, UK, DE) and their resources. */
import { ROLES } from "../words.ts";
import { DemoContext, type Entity, FIRM_DOMAIN } from "./context.ts";

export function seedLegalEntities(demo: DemoContext): Entity[] {
  const specs = [
    {
      code: "US" as const,
      name: "Ashford & Reyes Consulting LLC",
      country: "US",
      currency: "USD",
      jurisdiction: "US-NY",
      prefix: "US-INV-",
      rate: "0.0888",
      factor: 100,
      suffix: "Inc.",
      phone: "+1 212 555 01",
      reference: "ACH",
    },
    {
      code: "UK" as const,
      name: "Ashford & Reyes Consulting Ltd",
      country: "GB",
      currency: "GBP",
      jurisdiction: "GB",
      prefix: "UK-INV-",
      rate: "0.2000",
      factor: 80,
      suffix: "Ltd",
      phone: "+44 20 7946 0",
      reference: "BACS",
    },
    {
      code: "DE" as const,
      name: "Ashford & Reyes Beratung GmbH",
      country: "DE",
      currency: "EUR",
      jurisdiction: "DE",
      prefix: "DE-RE-",
      rate: "0.1900",
      factor: 92,
      suffix: "GmbH",
      phone: "+49 30 901820",
      reference: "SEPA",
    },
  ];
  const entities = specs.map((spec, index): Entity => {
    const row = demo.sink.push(
      "legal_entity",
      demo.b.legalEntity({
        code: `AR-${spec.code}`,
        name: spec.name,
        country: spec.country,
        currency: spec.currency,
        taxJurisdiction: spec.jurisdiction,
        invoicePrefix: spec.prefix,
      }),
    );
    demo.link("legal_entity", row.id as string, "ERP", "subsidiary", String(index + 1));
    return {
      id: row.id as string,
      code: spec.code,
      currency: spec.currency,
      jurisdiction: spec.jurisdiction,
      taxRate: spec.rate,
      rateFactor: spec.factor,
      companySuffix: spec.suffix,
      phonePrefix: spec.phone,
      paymentReference: spec.reference,
      resources: [],
    };
  });
  const rates: [string, string, string][] = [
    ["US-NY", "0.0888", "2020-01-01"],
    ["GB", "0.1750", "2008-12-01"],
    ["GB", "0.2000", "2011-01-04"],
    ["DE", "0.1900", "2007-01-01"],
    ["DE", "0.1600", "2020-07-01"],
    ["DE", "0.1900", "2021-01-01"],
  ];
  for (const [jurisdiction, rate, validFrom] of rates) {
    demo.sink.push("tax_rate", demo.b.taxRate({ jurisdiction, rate, validFrom }));
  }
  return entities;
}

export function seedResources(demo: DemoContext, entity: Entity): void {
  const perScale = { US: 8, UK: 6, DE: 5 }[entity.code];
  const count = Math.max(3, Math.round(perScale * demo.scale));
  for (let i = 0; i < count; i++) {
    const seniority = demo.r.weighted([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 3],
    ] as const);
    const role = ROLES[seniority] ?? ROLES[3];
    const name = demo.personName();
    const billRate = `${Math.round((role.bill * entity.rateFactor) / 500) * 5}.00`;
    const costRate = `${Math.round((role.cost * entity.rateFactor) / 500) * 5}.00`;
    const active = i !== count - 1;
    const row = demo.sink.push(
      "resource",
      demo.b.resource({
        name,
        email: demo.uniqueEmail(name, FIRM_DOMAIN),
        role: role.role,
        billRate,
        costRate,
        currency: entity.currency,
        legalEntityId: entity.id,
        active,
      }),
    );
    demo.link("resource", row.id as string, "PSA", "Contact", demo.sfId("003"));
    if (active) {
      entity.resources.push({
        id: row.id as string,
        name,
        email: row.email as string,
        role: role.role,
        billRate,
        seniority,
      });
    }
  }
}
