/**
 * Seed builders: one function per canonical table that returns a complete, valid row (SQL column
 * names) from a few meaningful fields, with deterministic ids and timestamps. The demo seed and
 * the tests compose them; nothing here touches the database.
 */
import type { Random } from "./random.ts";
import { at } from "./values.ts";
import type { Row } from "./writer.ts";

type Fields = Record<string, unknown>;

export class Builders {
  constructor(
    readonly random: Random,
    /** Default creation date of reference rows. */
    readonly epoch = "2025-01-02",
  ) {}

  private base(createdOn: string | undefined, fields: Fields): Row {
    const created = at(createdOn ?? this.epoch, 9);
    return { id: this.random.uuid(), created_at: created, updated_at: created, ...fields };
  }

  legalEntity(f: {
    code: string;
    name: string;
    country: string;
    currency: string;
    taxJurisdiction: string;
    invoicePrefix: string;
  }): Row {
    return this.base(undefined, {
      code: f.code,
      name: f.name,
      country: f.country,
      currency: f.currency,
      tax_jurisdiction: f.taxJurisdiction,
      invoice_prefix: f.invoicePrefix,
    });
  }

  taxRate(f: { jurisdiction: string; rate: string; validFrom: string }): Row {
    return this.base(undefined, {
      jurisdiction: f.jurisdiction,
      rate: f.rate,
      valid_from: f.validFrom,
    });
  }

  customer(f: {
    name: string;
    currency: string;
    legalEntityId?: string | null;
    parentId?: string | null;
    taxJurisdiction?: string | null;
    billingContactName?: string | null;
    billingEmail?: string | null;
    status?: "ACTIVE" | "ON_HOLD" | "INACTIVE";
    createdOn?: string;
  }): Row {
    return this.base(f.createdOn, {
      name: f.name,
      parent_id: f.parentId ?? null,
      legal_entity_id: f.legalEntityId ?? null,
      tax_jurisdiction: f.taxJurisdiction ?? null,
      currency: f.currency,
      billing_contact_name: f.billingContactName ?? null,
      billing_email: f.billingEmail ?? null,
      status: f.status ?? "ACTIVE",
    });
  }

  contact(f: {
    customerId: string;
    name: string;
    email?: string;
    phone?: string;
    title?: string;
    isBillingContact?: boolean;
    createdOn?: string;
  }): Row {
    return this.base(f.createdOn, {
      customer_id: f.customerId,
      name: f.name,
      email: f.email ?? null,
      phone: f.phone ?? null,
      title: f.title ?? null,
      is_billing_contact: f.isBillingContact ?? false,
    });
  }

  opportunity(f: {
    customerId: string;
    name: string;
    stage: string;
    amount: string;
    currency: string;
    closeDate: string;
    billingModel?: string | null;
    isWon?: boolean;
    convertedAt?: string | null;
    legalEntityId?: string | null;
    startDate?: string | null;
    endDate?: string | null;
    paymentTermsDays?: number | null;
    retainerAmount?: string | null;
    retainerHours?: string | null;
    budgetHours?: string | null;
    installments?: number | null;
    createdOn?: string;
  }): Row {
    return this.base(f.createdOn, {
      customer_id: f.customerId,
      name: f.name,
      stage: f.stage,
      amount: f.amount,
      currency: f.currency,
      close_date: f.closeDate,
      billing_model: f.billingModel ?? null,
      is_won: f.isWon ?? f.stage === "CLOSED_WON",
      converted_at: f.convertedAt ?? null,
      legal_entity_id: f.legalEntityId ?? null,
      start_date: f.startDate ?? null,
      end_date: f.endDate ?? null,
      payment_terms_days: f.paymentTermsDays ?? null,
      retainer_amount: f.retainerAmount ?? null,
      retainer_hours: f.retainerHours ?? null,
      budget_hours: f.budgetHours ?? null,
      installments: f.installments ?? null,
    });
  }

  contract(f: {
    number: string;
    customerId: string;
    legalEntityId: string;
    billingModel: string;
    totalValue: string;
    currency: string;
    startDate: string;
    opportunityId?: string | null;
    retainerAmount?: string | null;
    retainerHours?: string | null;
    endDate?: string | null;
    paymentTermsDays?: number;
    status?: string;
    createdOn?: string;
  }): Row {
    return this.base(f.createdOn, {
      number: f.number,
      customer_id: f.customerId,
      opportunity_id: f.opportunityId ?? null,
      legal_entity_id: f.legalEntityId,
      billing_model: f.billingModel,
      total_value: f.totalValue,
      currency: f.currency,
      retainer_amount: f.retainerAmount ?? null,
      retainer_hours: f.retainerHours ?? null,
      start_date: f.startDate,
      end_date: f.endDate ?? null,
      payment_terms_days: f.paymentTermsDays ?? 30,
      status: f.status ?? "ACTIVE",
    });
  }

  feeScheduleItem(f: {
    contractId: string;
    description: string;
    dueDate: string;
    amount: string;
    currency: string;
    status?: "SCHEDULED" | "BILLED";
    createdOn?: string;
  }): Row {
    return this.base(f.createdOn, {
      contract_id: f.contractId,
      description: f.description,
      due_date: f.dueDate,
      amount: f.amount,
      currency: f.currency,
      status: f.status ?? "SCHEDULED",
    });
  }

  project(f: {
    code: string;
    name: string;
    contractId: string;
    customerId: string;
    currency: string;
    startDate: string;
    endDate?: string | null;
    budgetHours?: string | null;
    budgetAmount?: string | null;
    status?: string;
    createdOn?: string;
  }): Row {
    return this.base(f.createdOn, {
      code: f.code,
      name: f.name,
      contract_id: f.contractId,
      customer_id: f.customerId,
      budget_hours: f.budgetHours ?? null,
      budget_amount: f.budgetAmount ?? null,
      currency: f.currency,
      start_date: f.startDate,
      end_date: f.endDate ?? null,
      status: f.status ?? "ACTIVE",
    });
  }

  milestone(f: {
    projectId: string;
    name: string;
    amount: string;
    currency: string;
    dueDate: string;
    status?: string;
    completedOn?: string | null;
    approvedAt?: string | null;
    approvedBy?: string | null;
    createdOn?: string;
  }): Row {
    return this.base(f.createdOn, {
      project_id: f.projectId,
      name: f.name,
      amount: f.amount,
      currency: f.currency,
      due_date: f.dueDate,
      completed_on: f.completedOn ?? null,
      approved_at: f.approvedAt ?? null,
      approved_by: f.approvedBy ?? null,
      status: f.status ?? "OPEN",
    });
  }

  resource(f: {
    name: string;
    email: string;
    role: string;
    billRate: string;
    costRate: string;
    currency: string;
    legalEntityId?: string | null;
    active?: boolean;
  }): Row {
    return this.base(undefined, {
      name: f.name,
      email: f.email,
      role: f.role,
      legal_entity_id: f.legalEntityId ?? null,
      bill_rate: f.billRate,
      cost_rate: f.costRate,
      currency: f.currency,
      active: f.active ?? true,
    });
  }

  assignment(f: {
    resourceId: string;
    projectId: string;
    role: string;
    billRateOverride?: string | null;
    startDate?: string | null;
    endDate?: string | null;
    createdOn?: string;
  }): Row {
    return this.base(f.createdOn, {
      resource_id: f.resourceId,
      project_id: f.projectId,
      role: f.role,
      bill_rate_override: f.billRateOverride ?? null,
      start_date: f.startDate ?? null,
      end_date: f.endDate ?? null,
    });
  }

  timeEntry(f: {
    projectId: string;
    resourceId: string;
    workDate: string;
    hours: string;
    billRate: string;
    currency: string;
    billable?: boolean;
    description?: string | null;
    status?: string;
    approvedAt?: string | null;
    approvedBy?: string | null;
  }): Row {
    const created = at(f.workDate, 18);
    return {
      id: this.random.uuid(),
      created_at: created,
      updated_at: f.approvedAt ?? created,
      project_id: f.projectId,
      resource_id: f.resourceId,
      work_date: f.workDate,
      hours: f.hours,
      billable: f.billable ?? true,
      bill_rate: f.billRate,
      currency: f.currency,
      description: f.description ?? null,
      status: f.status ?? "SUBMITTED",
      approved_at: f.approvedAt ?? null,
      approved_by: f.approvedBy ?? null,
    };
  }

  expense(f: {
    projectId: string;
    resourceId: string;
    incurredOn: string;
    amount: string;
    currency: string;
    category: string;
    billable?: boolean;
    description?: string | null;
    status?: string;
    approvedAt?: string | null;
    approvedBy?: string | null;
  }): Row {
    const created = at(f.incurredOn, 19);
    return {
      id: this.random.uuid(),
      created_at: created,
      updated_at: f.approvedAt ?? created,
      project_id: f.projectId,
      resource_id: f.resourceId,
      incurred_on: f.incurredOn,
      amount: f.amount,
      currency: f.currency,
      category: f.category,
      billable: f.billable ?? true,
      description: f.description ?? null,
      status: f.status ?? "SUBMITTED",
      approved_at: f.approvedAt ?? null,
      approved_by: f.approvedBy ?? null,
    };
  }

  billingEvent(f: {
    contractId: string;
    customerId: string;
    projectId?: string | null;
    sourceType: string;
    sourceId: string;
    period?: string;
    description: string;
    quantity: string;
    rate: string;
    amount: string;
    currency: string;
    status?: string;
    createdOn?: string;
  }): Row {
    return this.base(f.createdOn, {
      contract_id: f.contractId,
      project_id: f.projectId ?? null,
      customer_id: f.customerId,
      source_type: f.sourceType,
      source_id: f.sourceId,
      period: f.period ?? "",
      description: f.description,
      quantity: f.quantity,
      rate: f.rate,
      amount: f.amount,
      currency: f.currency,
      status: f.status ?? "READY",
    });
  }

  invoice(f: {
    /** Null while DRAFT (as issueInvoice numbers invoices). */
    number?: string | null;
    customerId: string;
    contractId: string;
    legalEntityId: string;
    currency: string;
    periodEnd?: string | null;
    subtotal?: string;
    taxRate?: string;
    tax?: string;
    total?: string;
    amountPaid?: string;
    issuedOn?: string | null;
    dueOn?: string | null;
    postedAt?: string | null;
    erpNumber?: string | null;
    status?: string;
    createdOn?: string;
  }): Row {
    return this.base(f.createdOn, {
      number: f.number ?? null,
      customer_id: f.customerId,
      contract_id: f.contractId,
      legal_entity_id: f.legalEntityId,
      currency: f.currency,
      period_end: f.periodEnd ?? null,
      subtotal: f.subtotal ?? "0.00",
      tax_rate: f.taxRate ?? "0",
      tax: f.tax ?? "0.00",
      total: f.total ?? "0.00",
      amount_paid: f.amountPaid ?? "0.00",
      issued_on: f.issuedOn ?? null,
      due_on: f.dueOn ?? null,
      posted_at: f.postedAt ?? null,
      erp_number: f.erpNumber ?? null,
      status: f.status ?? "DRAFT",
    });
  }

  invoiceLine(f: {
    invoiceId: string;
    billingEventId: string;
    lineNo: number;
    description: string;
    quantity: string;
    unitPrice: string;
    amount: string;
    currency: string;
    voidedAt?: string | null;
    createdOn?: string;
  }): Row {
    return this.base(f.createdOn, {
      invoice_id: f.invoiceId,
      billing_event_id: f.billingEventId,
      line_no: f.lineNo,
      description: f.description,
      quantity: f.quantity,
      unit_price: f.unitPrice,
      amount: f.amount,
      currency: f.currency,
      voided_at: f.voidedAt ?? null,
    });
  }

  payment(f: {
    invoiceId: string;
    amount: string;
    currency: string;
    receivedOn: string;
    reference?: string | null;
    erpId?: string | null;
  }): Row {
    return this.base(f.receivedOn, {
      invoice_id: f.invoiceId,
      amount: f.amount,
      currency: f.currency,
      received_on: f.receivedOn,
      reference: f.reference ?? null,
      erp_id: f.erpId ?? null,
    });
  }

  dispute(f: {
    invoiceId: string;
    reason: string;
    openedBy: string;
    openedOn: string;
    status?: "OPEN" | "RESOLVED";
    resolution?: string | null;
    resolvedAt?: string | null;
    resolvedBy?: string | null;
  }): Row {
    return this.base(f.openedOn, {
      invoice_id: f.invoiceId,
      reason: f.reason,
      opened_by: f.openedBy,
      resolution: f.resolution ?? null,
      resolved_at: f.resolvedAt ?? null,
      resolved_by: f.resolvedBy ?? null,
      status: f.status ?? "OPEN",
    });
  }

  sourceLink(f: {
    entityType: string;
    entityId: string;
    system: "SALESFORCE" | "PSA" | "ERP";
    object: string;
    externalId: string;
    seenOn?: string;
  }): Row {
    const seen = at(f.seenOn ?? this.epoch, 9);
    return {
      id: this.random.uuid(),
      entity_type: f.entityType,
      entity_id: f.entityId,
      system: f.system,
      object: f.object,
      external_id: f.externalId,
      created_at: seen,
      last_seen_at: seen,
    };
  }

  syncException(f: {
    owner: "FINANCE" | "PROJECT_OPS" | "SALES_OPS" | "INTEGRATION";
    severity?: "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
    code: string;
    message: string;
    remediation: string;
    raisedOn: string;
    dueOn: string;
    entityType?: string | null;
    entityId?: string | null;
    sourceSystem?: "SALESFORCE" | "PSA" | "ERP" | null;
    sourceRef?: string | null;
    status?: "OPEN" | "RETRYING" | "RESOLVED" | "IGNORED";
    attempts?: number;
    resolvedBy?: string | null;
    resolvedOn?: string | null;
    resolutionNote?: string | null;
  }): Row {
    const raised = at(f.raisedOn, 7, 30);
    return {
      id: this.random.uuid(),
      owner: f.owner,
      severity: f.severity ?? "MEDIUM",
      code: f.code,
      entity_type: f.entityType ?? null,
      entity_id: f.entityId ?? null,
      source_system: f.sourceSystem ?? null,
      source_ref: f.sourceRef ?? null,
      message: f.message,
      remediation: f.remediation,
      due_at: at(f.dueOn, 17),
      status: f.status ?? "OPEN",
      attempts: f.attempts ?? 0,
      resolved_by: f.resolvedBy ?? null,
      resolved_at: f.resolvedOn ? at(f.resolvedOn, 15) : null,
      resolution_note: f.resolutionNote ?? null,
      created_at: raised,
      updated_at: f.resolvedOn ? at(f.resolvedOn, 15) : raised,
    };
  }
}
