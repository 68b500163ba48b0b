/**
 * "Where is it?" (/ops/where, /ops/where/<TYPE>/<id>): for delivery leads, finance and support
 * asking where a deal, project or invoice is stuck. Search a customer, contract, project or
 * invoice by name, number or any system's id (Query.entitySearch), then see its lineage as a
 * timeline from opportunity to payment (Query.lineage): each step's time, actor and the entity's
 * ids in Salesforce, the PSA and the ERP.
 */
import { useMemo, useState } from "react";
import { useQuery } from "urql";
import {
  EntityLineageDocument,
  type EntityLineageQuery,
  EntitySearchDocument,
  type ExternalIdsFragment,
  InvoiceBilledEventsDocument,
  type LineageEntityType,
} from "./__generated__/operations.ts";
import { mayResync } from "./credentials.ts";
import { ResyncButton } from "./sync.tsx";
import { ErrorText, Link, navigate } from "./ui.tsx";

const TYPES: LineageEntityType[] = ["CUSTOMER", "CONTRACT", "PROJECT", "INVOICE"];

export function WherePage(props: {
  q: string;
  entity: { type: string; id: string } | undefined;
  roles: string[] | undefined;
}) {
  const [draft, setDraft] = useState(props.q);
  return (
    <>
      <h1>Where is it?</h1>
      <form
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          const q = draft.trim();
          if (q) navigate(`/ops/where?q=${encodeURIComponent(q)}`);
        }}
      >
        <input
          name="q"
          className="search"
          placeholder="customer, contract, project or invoice: name, number, or a Salesforce / PSA / NetSuite id"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
        />
        <button type="submit" name="search">
          Search
        </button>
      </form>
      {props.entity && TYPES.includes(props.entity.type as LineageEntityType) ? (
        <Timeline
          entityType={props.entity.type as LineageEntityType}
          id={props.entity.id}
          q={props.q}
          mayResync={mayResync(props.roles)}
        />
      ) : props.q ? (
        <SearchResults q={props.q} />
      ) : (
        <p className="hint">
          Try an invoice number (INV-…), a customer's name, a project code, or an id from
          Salesforce, the PSA or NetSuite.
        </p>
      )}
    </>
  );
}

function ExternalIdList(props: { ids: readonly ExternalIdsFragment[] }) {
  if (props.ids.length === 0) return <span className="muted">—</span>;
  return (
    <span className="ext-ids">
      {props.ids.map((ref) => (
        <span
          key={`${ref.system}:${ref.object}:${ref.externalId}`}
          className={`ext ext-${ref.system}`}
          title={`${ref.system} ${ref.object}`}
        >
          {ref.system} {ref.object} <code>{ref.externalId}</code>
        </span>
      ))}
    </span>
  );
}

function SearchResults(props: { q: string }) {
  const [result] = useQuery({ query: EntitySearchDocument, variables: { text: props.q } });
  const hits = result.data?.entitySearch;
  return (
    <>
      <ErrorText error={result.error} />
      {hits ? (
        <p data-testid="hit-count">
          {hits.length === 0 ? "Nothing found" : `${hits.length} found`} for “{props.q}”
        </p>
      ) : (
        <p>Searching…</p>
      )}
      {hits && hits.length > 0 ? (
        <table data-testid="hits">
          <thead>
            <tr>
              <th>Kind</th>
              <th>Record</th>
              <th>Customer</th>
              <th>Legal entity</th>
              <th>Status</th>
              <th>Matched</th>
              <th>In the source systems</th>
            </tr>
          </thead>
          <tbody>
            {hits.map((hit) => (
              <tr
                key={`${hit.entityType}:${hit.id}`}
                data-id={hit.id}
                data-legal-entity={hit.legalEntity ?? ""}
                onClick={() =>
                  navigate(
                    `/ops/where/${hit.entityType}/${hit.id}?q=${encodeURIComponent(props.q)}`,
                  )
                }
              >
                <td>{hit.entityType}</td>
                <td>
                  <strong>{hit.label}</strong>
                </td>
                <td>{hit.customerName ?? "—"}</td>
                <td>{hit.legalEntity ?? "—"}</td>
                <td>{hit.status ?? "—"}</td>
                <td>{hit.matchedOn}</td>
                <td>
                  <ExternalIdList ids={hit.externalIds} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

type LineageData = EntityLineageQuery["lineage"];
type LineageEventRow = LineageData["events"][number];

/** One row of the timeline: one event, or a run of billing events shown together. */
interface Step {
  events: LineageEventRow[];
  title: string;
}

function parsePayload(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const text = (value: unknown) => (value == null ? "" : String(value));

/** What an event means, in words (the amounts as the payload holds them: exact decimal text). */
function describe(event: LineageEventRow): string {
  const p = parsePayload(event.payload);
  switch (event.type) {
    case "opportunity.converted":
      return `Opportunity won and converted (${text(p.billingModel)})`;
    case "contract.created":
      return `Contract created, ${text(p.totalValue)} ${text(p.currency)}`.replace(/,\s+$/, "");
    case "project.created":
      return "Project created";
    case "invoice.created":
      return `Invoice generated: ${text(p.lineCount)} lines, total ${text(p.total)} ${text(p.currency)}`;
    case "invoice.status_changed":
      return `Invoice ${text(p.from)} → ${text(p.to)}${p.number ? ` (${text(p.number)})` : ""}`;
    case "payment.recorded":
      return `Payment recorded: ${text(p.amount)} ${text(p.currency)}`;
    case "dispute.opened":
      return `Dispute opened: ${text(p.reason)}`;
    default:
      return p.from && p.to ? `${event.type}: ${text(p.from)} → ${text(p.to)}` : event.type;
  }
}

/**
 * The steps of the searched record's way: for an invoice, the deal, contract and project, the
 * billing events on its lines (when the caller may read invoices), its own events and its
 * payments and disputes — not the chain's other invoices; for a project, not the other projects'
 * work; consecutive billing events become one step.
 */
function timelineSteps(
  lineage: LineageData,
  focus: { entityType: LineageEntityType; id: string; billed?: ReadonlySet<string> },
): Step[] {
  const id = focus.id.toLowerCase();
  const keep = (e: LineageEventRow): boolean => {
    const p = parsePayload(e.payload);
    if (focus.entityType === "INVOICE") {
      if (e.entityType === "invoice") return e.entityId === id;
      if (e.entityType === "payment" || e.entityType === "dispute") return p.invoiceId === id;
      if (e.entityType === "billing_event") return !focus.billed || focus.billed.has(e.entityId);
    }
    if (focus.entityType === "PROJECT") {
      if (e.entityType === "project") return e.entityId === id;
      if (e.entityType === "billing_event") return p.projectId === id;
    }
    return true;
  };
  const steps: Step[] = [];
  for (const event of lineage.events.filter(keep)) {
    const last = steps.at(-1);
    if (event.type === "billing_event.created" && last?.events[0]?.type === event.type) {
      last.events.push(event);
      last.title = `${last.events.length} billing events created`;
      continue;
    }
    steps.push({
      events: [event],
      title: event.type === "billing_event.created" ? "1 billing event created" : describe(event),
    });
  }
  return steps;
}

const time = (value: unknown) =>
  String(value)
    .replace("T", " ")
    .replace(/\.\d+Z$|Z$/, " UTC");

function Timeline(props: {
  entityType: LineageEntityType;
  id: string;
  q: string;
  mayResync: boolean;
}) {
  const [result] = useQuery({
    query: EntityLineageDocument,
    variables: { entityType: props.entityType, id: props.id },
  });
  const isInvoice = props.entityType === "INVOICE";
  const [billed] = useQuery({
    query: InvoiceBilledEventsDocument,
    variables: { id: props.id },
    pause: !isInvoice,
  });
  const lineage = result.data?.lineage;
  const billedIds = useMemo(() => {
    const lines = billed.data?.invoice?.lines.nodes;
    return lines ? new Set(lines.map((l) => l.billingEvent.id.toLowerCase())) : undefined;
  }, [billed.data]);
  const steps = useMemo(
    () =>
      lineage
        ? timelineSteps(lineage, { entityType: props.entityType, id: props.id, billed: billedIds })
        : [],
    [lineage, props.entityType, props.id, billedIds],
  );
  const ids = useMemo(
    () => new Map((lineage?.entities ?? []).map((e) => [e.entityId, e.externalIds])),
    [lineage],
  );
  const root = lineage?.entities.find((e) => e.entityId === props.id.toLowerCase());
  return (
    <>
      <p>
        <Link to={props.q ? `/ops/where?q=${encodeURIComponent(props.q)}` : "/ops/where"}>
          ← Search results
        </Link>
      </p>
      <h2 data-testid="timeline-title">
        {props.entityType} {billed.data?.invoice?.number ? `${billed.data.invoice.number} · ` : ""}
        <code>{props.id}</code>
      </h2>
      <ErrorText error={result.error} />
      {isInvoice && billed.error && !billed.data?.invoice ? (
        <p className="muted">
          Every billing event of the chain is shown: this role may not read the invoice's lines.
        </p>
      ) : null}
      {lineage ? (
        <>
          <div className="card">
            <dl>
              <dt>Lineage id</dt>
              <dd>{lineage.correlationId ?? "— (a customer's own events only)"}</dd>
              <dt>In the source systems</dt>
              <dd data-testid="root-ids">
                <ExternalIdList ids={root?.externalIds ?? []} />
              </dd>
            </dl>
            {props.mayResync ? (
              <ResyncButton entityType={props.entityType.toLowerCase()} id={props.id} />
            ) : null}
          </div>
          {lineage.hasMore ? (
            <p className="muted">
              The chain has more than 2,000 events: the first 2,000 are shown.
            </p>
          ) : null}
          <ol className="timeline" data-testid="timeline">
            {steps.map((step) => {
              const first = step.events[0]!;
              const last = step.events.at(-1)!;
              const refs = step.events.length === 1 ? (ids.get(first.entityId) ?? []) : [];
              return (
                <li
                  key={first.id}
                  data-event-ids={step.events.map((e) => e.id).join(",")}
                  data-type={first.type}
                >
                  <div className="when">
                    {time(first.occurredAt)}
                    {last !== first ? <> – {time(last.occurredAt)}</> : null}
                  </div>
                  <div className="what">
                    <strong>{step.title}</strong>
                    <div className="muted">
                      {first.entityType} {step.events.length === 1 ? first.entityId : ""} · by{" "}
                      <span data-testid="actor">{first.actor}</span>
                    </div>
                    {refs.length ? <ExternalIdList ids={refs} /> : null}
                  </div>
                </li>
              );
            })}
          </ol>
          {steps.length === 0 ? <p>No events yet.</p> : null}
        </>
      ) : result.fetching ? (
        <p>Loading…</p>
      ) : null}
    </>
  );
}
