/**
 * NetSuite write-back commands (REST record service), idempotent by external id = the hub id:
 *
 * - `customer.upsert` (entity customer): `PUT /record/v1/customer/eid:<hub customer id>` — an
 *   upsert, so a repeat (or a retry after a lost answer) updates the one customer. The internal
 *   id from the `Location` header is linked (source_link ERP/customer).
 * - `invoice.post` (entity invoice, queued by issueInvoice): the customer's linked ERP record is
 *   used, or the customer is upserted first (as above) and linked; then `GET /record/v1/invoice/eid:<hub invoice id>` — a posting whose answer was lost
 *   (timeout after commit) is found there and taken as done; only when it is absent is the
 *   invoice created with `PUT …/invoice/eid:<hub invoice id>` (lines as the item sublist, dates,
 *   currency, the hub number as otherRefNum). Even a create racing a lost answer cannot make a
 *   second record: PUT eid: upserts. The posted record (internal id, tranId, taxTotal, total) is
 *   read back and applied with the command's success: the ERP owns tax, so a different tax is
 *   taken onto the hub invoice (subtotal, tax, total) and raises a FINANCE exception showing
 *   both figures; then ISSUED → POSTED through markInvoicePosted with the ERP's document number.
 *
 * NetSuite's 4xx answers (o:errorDetails) are permanent: a FINANCE exception naming the error,
 * the record and what to correct. 429/5xx/timeouts are transient (NetSuiteError.transient).
 */
import type { Db, Tx } from "@pshub/db";
import { operations, schema, sync, toCents } from "@pshub/db";
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { type NetSuiteClient, NetSuiteError } from "../netsuite/client.ts";
import { type CommandHandler, type HandlerOutcome, PermanentCommandError } from "./worker.ts";

export interface NetSuiteOutboundOptions {
  /** The non-inventory/service item invoice lines are booked to (NETSUITE_SERVICE_ITEM_ID). */
  serviceItemId?: string;
}

function permanent(error: unknown, what: string, remediation: string): never {
  if (error instanceof NetSuiteError && !error.transient) {
    throw new PermanentCommandError(`NetSuite refused ${what}: ${error.message}`, {
      owner: "FINANCE",
      code: `NETSUITE_${error.code}`,
      severity: "HIGH",
      remediation,
    });
  }
  throw error;
}

async function linkErp(
  tx: Tx,
  entityType: string,
  entityId: string,
  object: string,
  externalId: string,
): Promise<void> {
  await tx
    .insert(schema.sourceLink)
    .values({ entityType, entityId, system: "ERP", object, externalId })
    .onConflictDoNothing();
}

async function loadCustomer(db: Db, customerId: string) {
  const [c] = await db.select().from(schema.customer).where(eq(schema.customer.id, customerId));
  if (!c)
    throw new PermanentCommandError(`customer ${customerId} does not exist`, {
      owner: "INTEGRATION",
      code: "OUTBOUND_ENTITY_MISSING",
      remediation: `Customer ${customerId} was deleted after the command was queued; cancel the command.`,
    });
  return c;
}

/** PUT customer/eid:<id>: the same customer however often it runs. Returns the internal id. */
async function upsertCustomer(client: NetSuiteClient, db: Db, customerId: string) {
  const c = await loadCustomer(db, customerId);
  const body: Record<string, unknown> = {
    externalId: c.id,
    companyName: c.name,
    currency: { refName: c.currency },
    ...(c.billingEmail ? { email: c.billingEmail } : {}),
  };
  let internalId: string | undefined;
  try {
    internalId = await client.upsertByExternalId("customer", c.id, body);
  } catch (error) {
    permanent(
      error,
      `customer ${c.name} (${c.id})`,
      `Correct customer "${c.name}" (${c.id}) in the hub as NetSuite's error names (name, billing email, currency), then retry this exception.`,
    );
  }
  if (!internalId) {
    const found = await client.getRecord("customer", `eid:${c.id}`);
    internalId = found?.id ? String(found.id) : undefined;
  }
  if (!internalId) throw new NetSuiteError(502, "NO_LOCATION", "NetSuite returned no customer id");
  return { customer: c, internalId };
}

function erpMoney(v: unknown): string {
  if (typeof v === "number") return v.toFixed(2);
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v)) return Number(v).toFixed(2);
  throw new NetSuiteError(502, "BAD_ANSWER", `NetSuite returned a non-numeric amount: ${v}`);
}

export function netsuiteHandlers(
  client: NetSuiteClient,
  options: NetSuiteOutboundOptions = {},
): Record<string, CommandHandler> {
  const item = options.serviceItemId ?? "1";

  const customerUpsert: CommandHandler = async (cmd, ctx): Promise<HandlerOutcome> => {
    const { internalId } = await upsertCustomer(client, ctx.db, cmd.entityId);
    return {
      result: { internalId },
      apply: (tx) => linkErp(tx, "customer", cmd.entityId, "customer", internalId),
    };
  };

  const invoicePost: CommandHandler = async (cmd, ctx): Promise<HandlerOutcome> => {
    // The invoice with its customer's ERP link, if any: one statement.
    const [row] = await ctx.db
      .select({ inv: schema.invoice, linked: schema.sourceLink.externalId })
      .from(schema.invoice)
      .leftJoin(
        schema.sourceLink,
        and(
          eq(schema.sourceLink.entityType, "customer"),
          eq(schema.sourceLink.entityId, schema.invoice.customerId),
          eq(schema.sourceLink.system, "ERP"),
        ),
      )
      .where(eq(schema.invoice.id, cmd.entityId))
      .limit(1);
    const inv = row?.inv;
    if (!inv)
      throw new PermanentCommandError(`invoice ${cmd.entityId} does not exist`, {
        owner: "INTEGRATION",
        code: "OUTBOUND_ENTITY_MISSING",
        remediation: `Invoice ${cmd.entityId} is gone; cancel command ${cmd.id}.`,
      });
    if (inv.status === "VOID" || inv.status === "DRAFT")
      return { result: { skipped: `invoice is ${inv.status}` } };
    // The customer's ERP record: linked by an earlier upsert, else upserted now (by eid).
    const customerInternalId =
      row?.linked ?? (await upsertCustomer(client, ctx.db, inv.customerId)).internalId;
    const linkCustomer = !row?.linked;

    // The lookup by external id and the lines (needed unless it is found) at once.
    const [found, lines] = await Promise.all([
      client.getRecord("invoice", `eid:${inv.id}`),
      ctx.db
        .select()
        .from(schema.invoiceLine)
        .where(and(eq(schema.invoiceLine.invoiceId, inv.id), isNull(schema.invoiceLine.voidedAt)))
        .orderBy(asc(schema.invoiceLine.lineNo)),
    ]);
    let posted = found;
    let created = false;
    if (!posted) {
      const body = {
        externalId: inv.id,
        entity: { id: customerInternalId },
        tranDate: inv.issuedOn,
        dueDate: inv.dueOn,
        currency: { refName: inv.currency },
        otherRefNum: inv.number,
        memo: `pshub invoice ${inv.number}`,
        item: {
          items: lines.map((l) => ({
            item: { id: item },
            description: l.description,
            quantity: l.quantity,
            rate: l.unitPrice,
            amount: l.amount,
          })),
        },
      };
      try {
        const id = await client.upsertByExternalId("invoice", inv.id, body);
        created = true;
        posted = id ? await client.getRecord("invoice", id) : undefined;
      } catch (error) {
        permanent(
          error,
          `invoice ${inv.number} (${inv.id})`,
          `Correct invoice ${inv.number} (${inv.id}) or its customer in the hub as NetSuite's error names (lines, customer, currency, period), then retry this exception.`,
        );
      }
      posted ??= await client.getRecord("invoice", `eid:${inv.id}`);
    }
    if (!posted?.id)
      throw new NetSuiteError(502, "NOT_FOUND_AFTER_CREATE", "NetSuite did not show the invoice");
    const internalId = String(posted.id);
    const tranId = String(posted.tranId ?? posted.tranid ?? "");
    const erpTax = erpMoney(posted.taxTotal ?? posted.taxtotal ?? 0);
    const erpTotal = erpMoney(posted.total ?? posted.foreigntotal);
    return {
      result: { internalId, tranId, tax: erpTax, total: erpTotal, created },
      apply: async (tx) => {
        const [current] = await tx
          .select()
          .from(schema.invoice)
          .where(eq(schema.invoice.id, inv.id))
          .for("update");
        await linkErp(tx, "invoice", inv.id, "invoice", internalId);
        if (linkCustomer)
          await linkErp(tx, "customer", inv.customerId, "customer", customerInternalId);
        if (!current) return;
        // Both sides are 2-decimal strings (numeric(18,2) and erpMoney): compared as cents.
        if (
          toCents(current.tax) !== toCents(erpTax) ||
          toCents(current.total) !== toCents(erpTotal)
        ) {
          await tx
            .update(schema.invoice)
            .set({
              tax: erpTax,
              total: erpTotal,
              subtotal: sql`${erpTotal}::numeric - ${erpTax}::numeric`,
              updatedAt: sql`now()`,
            })
            .where(eq(schema.invoice.id, inv.id));
          await sync.raiseSyncException(tx, {
            actor: ctx.actor,
            owner: "FINANCE",
            severity: "HIGH",
            code: "ERP_TAX_DIFFERS",
            entityType: "invoice",
            entityId: inv.id,
            sourceSystem: "ERP",
            sourceRef: `invoice:${internalId}`,
            commandId: cmd.id,
            message: `NetSuite posted invoice ${current.number} as ${tranId} with tax ${erpTax} and total ${erpTotal}; the hub's draft had tax ${current.tax} and total ${current.total}. The ERP's figures were taken.`,
            remediation: `Compare the tax setup for customer ${current.customerId} (jurisdiction, rate at ${current.periodEnd ?? current.issuedOn}) with NetSuite's tax on invoice ${tranId}; correct the hub's tax rate or the ERP's tax code, then resolve this exception.`,
            correlationId: current.correlationId,
          });
        }
        if (current.status === "ISSUED")
          await operations.markInvoicePosted.run(
            tx,
            { actor: ctx.actor, requestId: null },
            { invoiceId: inv.id, erpNumber: tranId },
          );
        else if (!current.erpNumber)
          await tx
            .update(schema.invoice)
            .set({ erpNumber: tranId, postedAt: sql`coalesce(posted_at, now())` })
            .where(eq(schema.invoice.id, inv.id));
      },
    };
  };

  return { "customer.upsert": customerUpsert, "invoice.post": invoicePost };
}
