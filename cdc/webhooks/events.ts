/**
 * The webhook events pshub accepts from PSAs and ERPs that push, and their mappers (zod-validated,
 * one per object). Event bodies follow the Standard Webhooks payload convention
 * `{ "type": "<object>.<what>", "timestamp": ISO, "data": { "id": …, … } }`; `data.updated_at`
 * (else `timestamp`) orders changes of one record, so an out-of-order delivery is skipped as stale.
 *
 * | event                                                   | data (snake_case)                                                        | becomes |
 * | ------------------------------------------------------- | ------------------------------------------------------------------------ | ------- |
 * | project.updated / .activated / .completed               | id, code (the hub project code), name?, status?                          | project link (+ state) |
 * | resource.updated                                        | id, email, name, role, bill_rate, cost_rate, currency                    | resource (matched by email) |
 * | time_entry.submitted / .approved / .rejected / .updated | id, project_id, resource_id, work_date, hours, bill_rate, currency, billable?, description?, status? | time_entry + SUBMITTED/APPROVED/REJECTED |
 * | expense.submitted / .approved / .rejected / .updated    | id, project_id, resource_id, incurred_on, amount, currency, category, billable?, description? | expense + state |
 * | milestone.completed / .approved / .updated              | id, project_id, name, amount, currency, due_date, completed_on?          | milestone + COMPLETED/APPROVED |
 * | invoice.posted                                          | id, hub_invoice_id or number, document_number, subtotal?, tax?, total?   | invoice POSTED (ERP number, ERP figures) |
 * | invoice.paid                                            | id (ERP invoice id), payment_id, amount, currency?, paid_on, reference?  | payment (recordPayment) |
 * | payment.received                                        | id (payment id), invoice_id (ERP invoice id), amount, currency?, paid_on | payment (recordPayment) |
 *
 * `project_id`, `resource_id` and `invoice_id` are the pushing system's own ids, resolved through
 * source_link; a record whose parent has not been pushed yet waits for it.
 */
import { z } from "zod";
import type {
  CanonicalChange,
  EntityType,
  InboundRecord,
  Mapper,
  MapResult,
  SourceSystem,
} from "../engine/types.ts";

const PSA_OBJECTS = ["project", "resource", "time_entry", "expense", "milestone"];
const ERP_OBJECTS = ["invoice", "payment"];

/** The source system an event type belongs to, or undefined for an unknown event. */
export function systemOfEvent(type: string): SourceSystem | undefined {
  const [object] = type.split(".");
  if (PSA_OBJECTS.includes(object!)) return "PSA";
  if (ERP_OBJECTS.includes(object!)) return "ERP";
  return undefined;
}

const decimal = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const s = String(v).trim();
  if (!/^-?\d{1,16}(\.\d{1,4})?$/.test(s)) {
    ctx.addIssue({ code: "custom", message: "must be a decimal such as 1234.50" });
    return z.NEVER;
  }
  return s;
});
const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}/, "must be a date YYYY-MM-DD")
  .transform((v) => v.slice(0, 10));
const currency = z.string().regex(/^[A-Z]{3}$/, "must be an ISO-4217 code such as USD");
const id = z.union([z.string().min(1), z.number()]).transform(String);

function stateOf(event: string, status: unknown, allowed: string[]): string | undefined {
  const what = event.split(".")[1]?.toUpperCase();
  const byEvent: Record<string, string> = {
    SUBMITTED: "SUBMITTED",
    APPROVED: "APPROVED",
    REJECTED: "REJECTED",
    COMPLETED: "COMPLETED",
    ACTIVATED: "ACTIVE",
  };
  const s =
    (what && byEvent[what]) ?? (typeof status === "string" ? status.toUpperCase() : undefined);
  return s && allowed.includes(s) ? s : undefined;
}

function mapper<S extends z.ZodType>(
  system: SourceSystem,
  object: string,
  entityType: EntityType,
  schema: S,
  build: (d: z.output<S>, r: InboundRecord) => CanonicalChange[],
): Mapper {
  return {
    system,
    object,
    entityType,
    requiredFields: Object.keys((schema as unknown as z.ZodObject).shape ?? {}),
    parse(r): MapResult {
      const parsed = schema.safeParse(r.fields);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.join(".") || "(data)";
        return {
          kind: "failure",
          failure: {
            field,
            code: "WEBHOOK_INVALID_FIELD",
            owner: system === "ERP" ? "FINANCE" : "PROJECT_OPS",
            message: `${r.fields.event ?? object} ${r.externalId}: data.${field} ${issue.message}`,
            remediation: `Correct data.${field} of ${object} ${r.externalId} in the sending ${system === "ERP" ? "ERP" : "PSA"} and send the event again (a new webhook-id), or replay inbox event after fixing the mapping.`,
          },
        };
      }
      return { kind: "changes", changes: build(parsed.data, r) };
    },
  };
}

const ref = (
  field: string,
  system: SourceSystem,
  object: string,
  externalId: string,
  entityType: EntityType,
) => ({
  field,
  system,
  object,
  externalId,
  entityType,
});

/** The project / resource a PSA event refers to: its own id (source_link), or the hub's project
 *  code / resource email (a PSA that names hub rows). */
const projectRef = (d: { project_id?: string; project_code?: string }) =>
  d.project_id
    ? ref("projectId", "PSA", "project", d.project_id, "project")
    : {
        ...ref("projectId", "PSA", "project", `code:${d.project_code}`, "project"),
        naturalKey: { field: "code", value: d.project_code! },
      };
const resourceRef = (d: { resource_id?: string; resource_email?: string }) =>
  d.resource_id
    ? ref("resourceId", "PSA", "resource", d.resource_id, "resource")
    : {
        ...ref("resourceId", "PSA", "resource", `email:${d.resource_email}`, "resource"),
        naturalKey: { field: "email", value: d.resource_email! },
      };
const parentIds = {
  project_id: id.optional(),
  project_code: z.string().min(1).optional(),
  resource_id: id.optional(),
  resource_email: z.email().optional(),
};
type ParentIds = {
  project_id?: string;
  project_code?: string;
  resource_id?: string;
  resource_email?: string;
};
const hasParents = (needResource: boolean) => (d: ParentIds) =>
  (!!d.project_id || !!d.project_code) && (!needResource || !!d.resource_id || !!d.resource_email);
const parentsMessage = {
  message: "needs project_id or project_code (and resource_id or resource_email)",
  path: ["project_id"],
};

/** Omits undefined values (an absent field is never written). */
function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

const work = ["SUBMITTED", "APPROVED", "REJECTED"];

export const webhookMappers: Mapper[] = [
  mapper(
    "PSA",
    "project",
    "project",
    z.object({
      event: z.string(),
      id,
      code: z.string().min(1),
      name: z.string().optional(),
      status: z.string().optional(),
    }),
    (d, r) => [
      {
        entityType: "project",
        system: "PSA",
        object: "project",
        externalId: r.externalId,
        fields: defined({ name: d.name }),
        matchOn: { field: "code", value: d.code },
        create: false,
        state: stateOf(d.event, d.status, ["PLANNED", "ACTIVE", "ON_HOLD", "COMPLETED", "CLOSED"]),
      },
    ],
  ),
  mapper(
    "PSA",
    "resource",
    "resource",
    z.object({
      id,
      email: z.email(),
      name: z.string().min(1),
      role: z.string().min(1),
      bill_rate: decimal,
      cost_rate: decimal,
      currency,
    }),
    (d, r) => [
      {
        entityType: "resource",
        system: "PSA",
        object: "resource",
        externalId: r.externalId,
        fields: {
          email: d.email,
          name: d.name,
          role: d.role,
          billRate: d.bill_rate,
          costRate: d.cost_rate,
          currency: d.currency,
        },
        matchOn: { field: "email", value: d.email },
      },
    ],
  ),
  mapper(
    "PSA",
    "time_entry",
    "time_entry",
    z
      .object({
        event: z.string(),
        id,
        ...parentIds,
        work_date: date,
        hours: decimal,
        bill_rate: decimal,
        currency,
        billable: z.boolean().optional(),
        description: z.string().optional(),
        status: z.string().optional(),
      })
      .refine(hasParents(true), parentsMessage),
    (d, r) => [
      {
        entityType: "time_entry",
        system: "PSA",
        object: "time_entry",
        externalId: r.externalId,
        fields: defined({
          workDate: d.work_date,
          hours: d.hours,
          billRate: d.bill_rate,
          currency: d.currency,
          billable: d.billable,
          description: d.description,
        }),
        parents: [projectRef(d), resourceRef(d)],
        state: stateOf(d.event, d.status, work),
      },
    ],
  ),
  mapper(
    "PSA",
    "expense",
    "expense",
    z
      .object({
        event: z.string(),
        id,
        ...parentIds,
        incurred_on: date,
        amount: decimal,
        currency,
        category: z.string().min(1),
        billable: z.boolean().optional(),
        description: z.string().optional(),
        status: z.string().optional(),
      })
      .refine(hasParents(true), parentsMessage),
    (d, r) => [
      {
        entityType: "expense",
        system: "PSA",
        object: "expense",
        externalId: r.externalId,
        fields: defined({
          incurredOn: d.incurred_on,
          amount: d.amount,
          currency: d.currency,
          category: d.category,
          billable: d.billable,
          description: d.description,
        }),
        parents: [projectRef(d), resourceRef(d)],
        state: stateOf(d.event, d.status, work),
      },
    ],
  ),
  mapper(
    "PSA",
    "milestone",
    "milestone",
    z
      .object({
        event: z.string(),
        id,
        ...parentIds,
        name: z.string().min(1),
        amount: decimal,
        currency,
        due_date: date,
        completed_on: date.optional(),
        status: z.string().optional(),
      })
      .refine(hasParents(false), parentsMessage),
    (d, r) => [
      {
        entityType: "milestone",
        system: "PSA",
        object: "milestone",
        externalId: r.externalId,
        fields: defined({
          name: d.name,
          amount: d.amount,
          currency: d.currency,
          dueDate: d.due_date,
          completedOn: d.completed_on,
        }),
        parents: [projectRef(d)],
        state: stateOf(d.event, d.status, ["OPEN", "COMPLETED", "APPROVED"]),
      },
    ],
  ),
];

const invoicePosted = z.object({
  event: z.string(),
  id,
  hub_invoice_id: z.uuid().optional(),
  number: z.string().optional(),
  document_number: z.string().min(1),
  subtotal: decimal.optional(),
  tax: decimal.optional(),
  total: decimal.optional(),
});
const postedMapper = mapper("ERP", "invoice", "invoice", invoicePosted, (d, r) => [
  {
    entityType: "invoice",
    system: "ERP",
    object: "invoice",
    externalId: r.externalId,
    fields: defined({
      erpNumber: d.document_number,
      subtotal: d.subtotal,
      tax: d.tax,
      total: d.total,
    }),
    matchId: d.hub_invoice_id,
    matchOn: !d.hub_invoice_id && d.number ? { field: "number", value: d.number } : undefined,
    create: false,
    state: d.event === "invoice.posted" ? "POSTED" : undefined,
  },
]);

/** A payment of an ERP invoice; `invoiceId` is the ERP's invoice id (resolved by source_link). */
function paymentChange(
  paymentId: string,
  invoiceId: string,
  d: { amount: string; currency?: string; paid_on: string; reference?: string },
): CanonicalChange {
  return {
    entityType: "payment",
    system: "ERP",
    object: "payment",
    externalId: paymentId,
    fields: defined({
      amount: d.amount,
      currency: d.currency,
      receivedOn: d.paid_on,
      reference: d.reference,
      erpId: `payment:${paymentId}`,
    }),
    parents: [ref("invoiceId", "ERP", "invoice", invoiceId, "invoice")],
  };
}

const paid = {
  amount: decimal,
  currency: currency.optional(),
  paid_on: date,
  reference: z.string().optional(),
};
/** invoice.paid: data.id is the invoice, data.payment_id the payment. */
const paidMapper = mapper(
  "ERP",
  "invoice",
  "payment",
  z.object({ id, payment_id: id, ...paid }),
  (d) => [paymentChange(d.payment_id, d.id, d)],
);

webhookMappers.push(
  {
    ...postedMapper,
    parse: (r) => (r.fields.event === "invoice.paid" ? paidMapper.parse(r) : postedMapper.parse(r)),
  },
  /** payment.received: data.id is the payment, data.invoice_id the invoice. */
  mapper("ERP", "payment", "payment", z.object({ id, invoice_id: id, ...paid }), (d) => [
    paymentChange(d.id, d.invoice_id, d),
  ]),
);
