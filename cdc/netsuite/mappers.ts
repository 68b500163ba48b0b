/**
 * NetSuite rows (SuiteQL: strings, null fields absent) → canonical changes, zod-validated.
 *
 * | NetSuite                     | canonical | rule |
 * | ---------------------------- | --------- | ---- |
 * | customer (externalid = hub customer id) | customer link | the ERP owns no customer field (Salesforce does): differing names/currencies are ignored and counted; an unlinked customer is a FINANCE exception |
 * | invoice (transaction CustInvc; externalid = hub invoice id, tranid, foreigntotal, taxtotal, voided) | invoice | ERP owns the document number (erpNumber), tax and totals (its figures win; a difference is a FINANCE exception); → POSTED (markInvoicePosted), voided → VOID (voidInvoice) |
 * | customerpayment (CustPymt × nexttransactionlinelink 'Payment': one row per applied invoice) | payment | recordPayment on the linked invoice (PARTIALLY_PAID / PAID follow); erpId = `paymentId:invoiceId` |
 */
import { z } from "zod";
import type { InboundRecord, Mapper, MapResult } from "../engine/types.ts";

const decimal = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/, "must be a decimal number")
  .transform((v) => v);
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD");
const currency = z.string().regex(/^[A-Z]{3}$/, "must be an ISO-4217 code");

/** Decimal strings to cents (BigInt), and back: totals are never floats. */
function cents(v: string): bigint {
  const [i, f = ""] = v.replace(/^-/, "").split(".");
  const c = BigInt(i || "0") * 100n + BigInt(`${f}00`.slice(0, 2));
  return v.startsWith("-") ? -c : c;
}
function fromCents(c: bigint): string {
  const neg = c < 0n;
  const a = neg ? -c : c;
  return `${neg ? "-" : ""}${a / 100n}.${String(a % 100n).padStart(2, "0")}`;
}
const money = (v: string) => fromCents(cents(v));

function failure(r: InboundRecord, error: z.ZodError): MapResult {
  const issue = error.issues[0]!;
  const field = issue.path.join(".") || "(row)";
  return {
    kind: "failure",
    failure: {
      field,
      code: "NETSUITE_INVALID_FIELD",
      owner: "FINANCE",
      message: `NetSuite ${r.object} ${r.externalId}: ${field} ${issue.message}`,
      remediation: `Correct ${field} on NetSuite ${r.object} ${r.externalId} (or the SuiteQL mapping), then retry.`,
    },
  };
}

/**
 * A SuiteQL item as the mappers read it: NetSuite answers strings and omits null fields; a null
 * is taken as omitted, a JSON number as its decimal text and a boolean as "T"/"F", so an answer
 * typed differently reads the same. The item's own `links` are not data.
 */
function suiteqlRow(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === null || v === undefined || k === "links") continue;
    out[k] =
      typeof v === "number" && Number.isFinite(v)
        ? String(v).includes("e")
          ? v.toFixed(20).replace(/\.?0+$/, "")
          : String(v)
        : typeof v === "boolean"
          ? v
            ? "T"
            : "F"
          : v;
  }
  return out;
}

const customerRow = z.object({
  id: z.string(),
  companyname: z.string().optional(),
  externalid: z.string().optional(),
  currency: currency.optional(),
});

const invoiceRow = z.object({
  id: z.string(),
  tranid: z.string().min(1),
  externalid: z.string().optional(),
  foreigntotal: decimal,
  taxtotal: decimal.optional(),
  voided: z.enum(["T", "F"]).optional(),
  status: z.string().optional(),
});

const paymentRow = z.object({
  id: z.string(),
  tranid: z.string().optional(),
  invoice: z.string().min(1),
  amount: decimal,
  currency: currency.optional(),
  trandate: date,
});

export const netsuiteMappers: Mapper[] = [
  {
    system: "ERP",
    object: "customer",
    entityType: "customer",
    requiredFields: ["id", "companyname", "externalid", "currency"],
    parse(r) {
      const p = customerRow.safeParse(suiteqlRow(r.fields));
      if (!p.success) return failure(r, p.error);
      const d = p.data;
      return {
        kind: "changes",
        changes: [
          {
            entityType: "customer",
            system: "ERP",
            object: "customer",
            externalId: d.id,
            fields: Object.fromEntries(
              Object.entries({ name: d.companyname, currency: d.currency }).filter(
                ([, v]) => v !== undefined,
              ),
            ),
            matchId: d.externalid,
            create: false,
          },
        ],
      };
    },
  },
  {
    system: "ERP",
    object: "invoice",
    entityType: "invoice",
    requiredFields: ["id", "tranid", "externalid", "foreigntotal", "taxtotal", "voided"],
    parse(r) {
      const p = invoiceRow.safeParse(suiteqlRow(r.fields));
      if (!p.success) return failure(r, p.error);
      const d = p.data;
      const tax = money(d.taxtotal ?? "0");
      const total = money(d.foreigntotal);
      return {
        kind: "changes",
        changes: [
          {
            entityType: "invoice",
            system: "ERP",
            object: "invoice",
            externalId: d.id,
            fields: {
              erpNumber: d.tranid,
              tax,
              total,
              subtotal: fromCents(cents(total) - cents(tax)),
            },
            matchId: d.externalid,
            create: false,
            state: d.voided === "T" ? "VOID" : "POSTED",
          },
        ],
      };
    },
  },
  {
    system: "ERP",
    object: "customerpayment",
    entityType: "payment",
    requiredFields: ["id", "invoice", "amount", "trandate"],
    parse(r) {
      const p = paymentRow.safeParse(suiteqlRow(r.fields));
      if (!p.success) return failure(r, p.error);
      const d = p.data;
      const amount = cents(d.amount);
      const key = `${d.id}:${d.invoice}`;
      return {
        kind: "changes",
        changes: [
          {
            entityType: "payment",
            system: "ERP",
            object: "customerpayment",
            externalId: key,
            fields: Object.fromEntries(
              Object.entries({
                amount: fromCents(amount < 0n ? -amount : amount),
                currency: d.currency,
                receivedOn: d.trandate,
                reference: d.tranid,
                erpId: `netsuite:${key}`,
              }).filter(([, v]) => v !== undefined),
            ),
            parents: [
              {
                field: "invoiceId",
                system: "ERP",
                object: "invoice",
                externalId: d.invoice,
                entityType: "invoice",
              },
            ],
          },
        ],
      };
    },
  },
];
