/**
 * The demo's lineage, built the way the lifecycle mutations build it (../domain-events.ts): one
 * correlation id per converted deal, stored on the contract and copied to its projects, billing
 * events, invoices and payments, and the chain's domain events — opportunity.converted,
 * contract.created, project.created, billing_event.created, invoice.created,
 * invoice.status_changed (DRAFT → ISSUED → POSTED → PARTIALLY_PAID → PAID, one per step, as the
 * invoice state machine moves it), payment.recorded, dispute.opened — in the order they happened. So
 * `lineage(INVOICE, id)` answers for every demo invoice, from the opportunity to the payments.
 *
 * Set-based (a few statements whatever the scale) and deterministic: the correlation id is a hash
 * of the contract id, events are inserted in (time, step, id) order so their ids are stable.
 */
import type { Executor } from "./writer.ts";

/** Sets the correlation ids and writes the chains' domain events of everything seeded so far. */
export async function buildLineage(tx: Executor): Promise<void> {
  await tx`update contract set correlation_id = md5('pshub-demo-lineage:' || id::text)::uuid
    where correlation_id is null`;
  await tx`update project p set correlation_id = c.correlation_id
    from contract c where c.id = p.contract_id and p.correlation_id is null`;
  await tx`update billing_event b set correlation_id = c.correlation_id
    from contract c where c.id = b.contract_id and b.correlation_id is null`;
  await tx`update invoice i set correlation_id = c.correlation_id
    from contract c where c.id = i.contract_id and i.correlation_id is null`;
  await tx`update payment p set correlation_id = i.correlation_id
    from invoice i where i.id = p.invoice_id and p.correlation_id is null`;

  // Dates become instants at 09:00 UTC (the working day's start), as a person would act.
  await tx`
    insert into domain_event (type, entity_type, entity_id, payload, correlation_id, actor, occurred_at)
    select type, entity_type, entity_id, payload, correlation_id, 'seed', occurred_at
    from (
      select 'opportunity.converted' as type, 'opportunity' as entity_type, o.id as entity_id,
             jsonb_build_object('customerId', c.customer_id, 'contractId', c.id,
               'projectId', (select p.id from project p where p.contract_id = c.id order by p.created_at, p.id limit 1),
               'billingModel', c.billing_model, 'from', o.stage, 'to', 'CONVERTED') as payload,
             -- Conversion is what creates the contract: the event has the contract's instant.
             c.correlation_id, c.created_at as occurred_at, 1 as step
        from contract c join opportunity o on o.id = c.opportunity_id
      union all
      select 'contract.created', 'contract', c.id,
             jsonb_build_object('opportunityId', c.opportunity_id, 'billingModel', c.billing_model,
               'totalValue', c.total_value, 'currency', c.currency),
             c.correlation_id, c.created_at, 2
        from contract c
      union all
      select 'project.created', 'project', p.id,
             jsonb_build_object('contractId', p.contract_id, 'customerId', p.customer_id),
             p.correlation_id, p.created_at, 3
        from project p
      union all
      select 'billing_event.created', 'billing_event', b.id,
             jsonb_build_object('contractId', b.contract_id, 'projectId', b.project_id,
               'sourceType', b.source_type, 'sourceId', b.source_id, 'period', b.period,
               'amount', b.amount, 'currency', b.currency),
             b.correlation_id, b.created_at, 4
        from billing_event b
      union all
      select 'invoice.created', 'invoice', i.id,
             jsonb_build_object('number', null, 'contractId', i.contract_id, 'customerId', i.customer_id,
               'lineCount', (select count(*) from invoice_line l where l.invoice_id = i.id),
               'subtotal', i.subtotal, 'tax', i.tax, 'total', i.total, 'currency', i.currency,
               'status', 'DRAFT'),
             i.correlation_id, i.created_at, 5
        from invoice i
      union all
      select 'invoice.status_changed', 'invoice', i.id,
             jsonb_build_object('from', 'DRAFT', 'to', 'ISSUED', 'number', i.number, 'total', i.total,
               'amountPaid', '0.00', 'currency', i.currency),
             i.correlation_id, i.issued_on + time '09:00' at time zone 'UTC', 6
        from invoice i where i.issued_on is not null
      union all
      -- The ERP posted it (ISSUED → POSTED, as the outbound worker's posting moves it).
      select 'invoice.status_changed', 'invoice', i.id,
             jsonb_build_object('from', 'ISSUED', 'to', 'POSTED', 'number', i.number, 'total', i.total,
               'amountPaid', '0.00', 'currency', i.currency),
             i.correlation_id, i.posted_at, 7
        from invoice i where i.issued_on is not null and i.posted_at is not null
      union all
      -- Neither posted nor paid: ISSUED (or POSTED) → DISPUTED / VOID.
      select 'invoice.status_changed', 'invoice', i.id,
             jsonb_build_object('from', case when i.posted_at is null then 'ISSUED' else 'POSTED' end,
               'to', i.status, 'number', i.number, 'total', i.total,
               'amountPaid', i.amount_paid, 'currency', i.currency),
             i.correlation_id,
             -- A dispute moves it when it is opened; a void when the invoice last changed.
             greatest(coalesce((select min(d.created_at) from dispute d
                                 where d.invoice_id = i.id and i.status = 'DISPUTED'), i.updated_at),
                      coalesce(i.posted_at, i.issued_on + time '09:00' at time zone 'UTC')), 8
        from invoice i
       where i.issued_on is not null and i.status not in ('DRAFT', 'ISSUED', 'POSTED', 'PARTIALLY_PAID', 'PAID')
      union all
      select 'payment.recorded', 'payment', p.id,
             jsonb_build_object('invoiceId', p.invoice_id, 'amount', p.amount, 'currency', p.currency),
             p.correlation_id, p.received_on + time '09:00' at time zone 'UTC', 9
        from payment p
      union all
      -- Each payment moves its invoice as recordPayment does: PARTIALLY_PAID until the total is
      -- reached, then PAID (from POSTED, or ISSUED when the ERP had not posted it yet).
      select 'invoice.status_changed', 'invoice', p.invoice_id,
             jsonb_build_object('from', case when p.k = 1 then
                 case when i.posted_at is null then 'ISSUED' else 'POSTED' end else 'PARTIALLY_PAID' end,
               'to', case when p.paid_after = i.total then 'PAID' else 'PARTIALLY_PAID' end,
               'number', i.number, 'total', i.total, 'amountPaid', p.paid_after, 'currency', i.currency),
             i.correlation_id,
             -- Two payments on one day: the k-th payment's move after the (k-1)-th.
             greatest(p.received_on + time '09:00' at time zone 'UTC', i.posted_at), 10 + p.k * 0.001
        from (select invoice_id, received_on,
                     sum(amount) over (partition by invoice_id order by received_on, id) as paid_after,
                     row_number() over (partition by invoice_id order by received_on, id) as k
                from payment) p
        join invoice i on i.id = p.invoice_id
       where i.issued_on is not null
      union all
      select 'dispute.opened', 'dispute', d.id,
             jsonb_build_object('invoiceId', d.invoice_id, 'reason', d.reason),
             i.correlation_id, d.created_at, 11
        from dispute d join invoice i on i.id = d.invoice_id
    ) chain
    where correlation_id is not null
    order by occurred_at, step, entity_id`;
}
