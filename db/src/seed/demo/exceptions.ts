/** The demo's exception queue: a few open and closed sync exceptions. */
import { salesforceId } from "../random.ts";
import { addDays } from "../values.ts";
import { DemoContext, FIRM_DOMAIN } from "./context.ts";

export function seedSyncExceptions(demo: DemoContext): void {
  const count = Math.max(6, Math.round(6 * demo.scale));
  const { customers, projects, opportunities, invoices } = demo.samples;
  for (let k = 0; k < count; k++) {
    const raisedOn = addDays(demo.today, -demo.r.int(0, 12));
    const customer = customers[k % customers.length];
    const project = projects.find((p) => p.status === "CLOSED") ?? projects[k % projects.length];
    const opportunity = opportunities[k % Math.max(1, opportunities.length)];
    const invoice = invoices.find((i) => i.status === "ISSUED") ?? invoices[0];
    switch (k % 6) {
      case 0:
        demo.sink.push(
          "sync_exception",
          demo.b.syncException({
            owner: "FINANCE",
            severity: "HIGH",
            code: "TAX_RATE_MISSING",
            entityType: "customer",
            entityId: customer?.id,
            sourceSystem: "ERP",
            message: `No tax rate for jurisdiction US-CA on ${raisedOn} (customer ${customer?.name}).`,
            remediation:
              "Add a tax_rate row for US-CA, or correct the customer's tax jurisdiction in the ERP; then retry.",
            raisedOn,
            dueOn: addDays(raisedOn, 2),
          }),
        );
        break;
      case 1:
        demo.sink.push(
          "sync_exception",
          demo.b.syncException({
            owner: "PROJECT_OPS",
            code: "TIME_ON_CLOSED_PROJECT",
            entityType: "project",
            entityId: project?.id,
            sourceSystem: "PSA",
            sourceRef: `pse__Timecard__c/${salesforceId("a2T", 900_000 + k)}`,
            message: `A timecard logs 6.00 h on project ${project?.code}, which is ${project?.status}.`,
            remediation:
              "Reopen the project in the PSA, or move the hours to the follow-on project; then retry.",
            raisedOn,
            dueOn: addDays(raisedOn, 5),
          }),
        );
        break;
      case 2:
        demo.sink.push(
          "sync_exception",
          demo.b.syncException({
            owner: "SALES_OPS",
            code: "OPPORTUNITY_MISSING_TERMS",
            entityType: "opportunity",
            entityId: opportunity?.id,
            sourceSystem: "SALESFORCE",
            sourceRef: `Opportunity/${salesforceId("006", 900_000 + k)}`,
            message: `Closed-won opportunity "${opportunity?.name}" has no payment terms; it cannot be converted.`,
            remediation:
              "Set Payment_Terms__c on the opportunity in Salesforce; the next sync converts it.",
            raisedOn,
            dueOn: addDays(raisedOn, 5),
          }),
        );
        break;
      case 3:
        demo.sink.push(
          "sync_exception",
          demo.b.syncException({
            owner: "INTEGRATION",
            severity: "HIGH",
            code: "ERP_POST_FAILED",
            entityType: "invoice",
            entityId: invoice?.id,
            sourceSystem: "ERP",
            message: "NetSuite rejected the invoice: INVALID_FLD_VALUE (subsidiary is inactive).",
            remediation:
              "Reactivate the subsidiary in NetSuite or correct the legal entity mapping; then retry.",
            raisedOn,
            dueOn: addDays(raisedOn, 2),
            status: "RETRYING",
            attempts: 3,
          }),
        );
        break;
      case 4:
        demo.sink.push(
          "sync_exception",
          demo.b.syncException({
            owner: "FINANCE",
            severity: "LOW",
            code: "PAYMENT_UNMATCHED",
            sourceSystem: "ERP",
            sourceRef: `customerpayment/${4_200_000 + k}`,
            message: "A payment of 1,250.00 USD arrived without an invoice reference.",
            remediation: "Apply the payment to its invoice in NetSuite; the next poll records it.",
            raisedOn,
            dueOn: addDays(raisedOn, 10),
            status: "RESOLVED",
            resolvedBy: `finance@${FIRM_DOMAIN}`,
            resolvedOn: raisedOn,
            resolutionNote: "Applied to the matching invoice in NetSuite.",
          }),
        );
        break;
      default:
        demo.sink.push(
          "sync_exception",
          demo.b.syncException({
            owner: "INTEGRATION",
            severity: "MEDIUM",
            code: "MAPPING_FAILED",
            sourceSystem: "SALESFORCE",
            sourceRef: `Account/${salesforceId("001", 900_000 + k)}`,
            message: "Account currency CHF is not invoiced by any legal entity.",
            remediation:
              "Set the account's currency to one a legal entity invoices in, or add a legal entity; then retry.",
            raisedOn,
            dueOn: addDays(raisedOn, 5),
            status: "IGNORED",
            resolvedBy: `integration@${FIRM_DOMAIN}`,
            resolvedOn: raisedOn,
            resolutionNote: "Test account in the Salesforce sandbox.",
          }),
        );
    }
  }
}
