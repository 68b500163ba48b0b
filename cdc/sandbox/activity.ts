/**
 * Live activity for `npm start` in sandbox mode, so the hub visibly moves: the sandbox PSA pushes
 * signed webhooks (time logged on the hub's active projects, approved a tick later), and the
 * sandbox ERP posts the hub's issued invoices (standing in for the outbound write-back) and
 * receives payments for them once the hub shows them POSTED (as a customer pays a posted
 * invoice) — every other one in two instalments, so PARTIALLY_PAID happens live too — which the
 * NetSuite poller reads back through the invoice state machine. Each tick is small.
 */
import { type Db, fromCents, type Logger, pgArray, schema, toCents } from "@pshub/db";
import { and, eq, sql } from "drizzle-orm";
import type { NetSuiteSandbox } from "./netsuite/server.ts";
import type { WebhookSender } from "./webhooks/sender.ts";

export interface ActivityOptions {
  db: Db;
  intervalMs: number;
  sender?: WebhookSender;
  netsuite?: NetSuiteSandbox;
  logger: Logger;
}

export function startSandboxActivity(options: ActivityOptions): { stop(): void } {
  const { db, sender, netsuite, logger } = options;
  const pending: { id: string; data: Record<string, unknown> }[] = [];
  const posted = new Map<string, string>();
  /** Paid so far (cents) per ERP invoice id, and how many invoices have had a first payment. */
  const paidCents = new Map<string, bigint>();
  let payers = 0;
  const customers = new Map<string, string>();
  let seq = 0;
  let running = false;

  const psaTick = async () => {
    if (!sender) return;
    // Approve what was logged on the previous tick.
    for (const p of pending.splice(0))
      await sender.send("time_entry.approved", { ...p.data, updated_at: new Date().toISOString() });
    const [project] = await db
      .select({
        id: schema.project.id,
        code: schema.project.code,
        currency: schema.project.currency,
      })
      .from(schema.project)
      .where(eq(schema.project.status, "ACTIVE"))
      .orderBy(sql`random()`)
      .limit(1);
    const [resource] = await db
      .select()
      .from(schema.resource)
      .where(
        and(
          eq(schema.resource.active, true),
          eq(schema.resource.currency, project?.currency ?? "USD"),
        ),
      )
      .orderBy(sql`random()`)
      .limit(1);
    if (!project || !resource) return;
    const data = {
      id: `TE-${Date.now()}-${seq++}`,
      project_code: project.code,
      resource_email: resource.email,
      work_date: new Date().toISOString().slice(0, 10),
      hours: String(1 + (seq % 8)),
      bill_rate: resource.billRate,
      currency: resource.currency,
      billable: true,
      description: "logged in the sandbox PSA",
      updated_at: new Date().toISOString(),
    };
    await sender.send("time_entry.submitted", data);
    pending.push({ id: data.id, data });
  };

  const erpTick = async () => {
    if (!netsuite) return;
    // The hub's issued invoices the ERP has not seen yet (standing in for the outbound posting).
    const issued = await db.execute<{
      id: string;
      customer_id: string;
      number: string;
      total: string;
      tax: string;
      currency: string;
      customer_name: string;
      erp_customer: string | null;
    }>(sql`
      select i.id, i.customer_id, i.number, i.total::text, i.tax::text, i.currency, c.name as customer_name,
        (select l.external_id from source_link l where l.entity_type = 'customer' and l.entity_id = c.id
          and l.system = 'ERP' and l.object = 'customer') as erp_customer
      from invoice i join customer c on c.id = i.customer_id
      where i.status = 'ISSUED' and not exists (select 1 from source_link l where l.entity_type = 'invoice'
        and l.entity_id = i.id and l.system = 'ERP')
      order by i.issued_on limit 3`);
    for (const inv of issued) {
      if (posted.has(inv.id)) continue;
      let customer = customers.get(inv.customer_id);
      if (!customer) {
        customer = netsuite.addCustomer({
          id: inv.erp_customer ?? undefined,
          companyname: inv.customer_name,
          externalid: inv.customer_id,
          currency: inv.currency,
        });
        customers.set(inv.customer_id, customer);
      }
      posted.set(
        inv.id,
        netsuite.addInvoice({
          entity: customer,
          externalid: inv.id,
          tranid: `NS-${inv.number}`,
          total: inv.total,
          tax: inv.tax,
          currency: inv.currency,
        }),
      );
    }
    // Pay one open invoice the hub already shows POSTED (its posting was read back): every other
    // one half now and the rest on a later tick; exact cents, never a float.
    const open = [...posted.entries()].filter(([, erp]) => netsuite.invoice(erp)?.status === "A");
    if (open.length === 0) return;
    const payable = await db.execute<{ id: string }>(sql`
      select id::text as id from invoice
       where id = any(${pgArray(open.map(([hub]) => hub))}::uuid[])
         and status in ('POSTED', 'PARTIALLY_PAID')
       order by issued_on, id limit 1`);
    const erp = open.find(([hub]) => hub === payable[0]?.id)?.[1];
    if (!erp) return;
    const total = toCents(String(netsuite.invoice(erp)!.foreigntotal));
    const sofar = paidCents.get(erp) ?? 0n;
    const amount = sofar === 0n && payers++ % 2 === 0 && total > 1n ? total / 2n : total - sofar;
    netsuite.addPayment({ invoiceId: erp, amount: fromCents(amount) });
    paidCents.set(erp, sofar + amount);
  };

  const timer = setInterval(() => {
    if (running) return;
    running = true;
    Promise.all([psaTick(), erpTick()])
      .catch((error) =>
        logger.warn({ err: (error as Error).message }, "sandbox activity tick failed"),
      )
      .finally(() => {
        running = false;
      });
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
