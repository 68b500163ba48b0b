/**
 * The exception queue (/ops) and an exception's page (/ops/exceptions/<id>): for the teams that
 * own exceptions. The queue follows syncExceptionRaised live; the page shows what went wrong, what
 * to do, the command or inbound record, and the buttons the role may use.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { type CombinedError, useMutation, useQuery, useSubscription } from "urql";
import {
  ExceptionDetailDocument,
  type ExceptionDetailQuery,
  ExceptionEventsDocument,
  type ExceptionOwner,
  ExceptionQueueDocument,
  type ExceptionRowFragment,
  type ExceptionSeverity,
  type ExceptionStatus,
  IgnoreExceptionDocument,
  ResolveExceptionDocument,
  RetryExceptionDocument,
} from "./__generated__/operations.ts";
import { mayAct, ownerOfRoles } from "./credentials.ts";
import {
  ErrorText,
  formatSpan,
  idempotencyKey,
  Link,
  navigate,
  prettyJson,
  Select,
  useNow,
} from "./ui.tsx";

// ---- exception queue ----------------------------------------------------------------------------

const OWNERS: ExceptionOwner[] = ["FINANCE", "PROJECT_OPS", "SALES_OPS", "INTEGRATION"];
const STATUSES: ExceptionStatus[] = ["OPEN", "RETRYING", "RESOLVED", "IGNORED"];
const SEVERITIES: ExceptionSeverity[] = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];

/** The live feed: every exception event re-fetches what the page shows; returns the last one's id. */
function useExceptionFeed(onEvent: () => void): string | undefined {
  const [{ data, error }] = useSubscription({ query: ExceptionEventsDocument, variables: {} });
  const eventId = data?.syncExceptionRaised.eventId;
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-fetch once per event
  useEffect(() => {
    if (eventId) onEvent();
  }, [eventId]);
  return error ? `live feed: ${error.message}` : eventId;
}

/** The queue opens on the owner team of the caller's role (finance: FINANCE, sales: SALES_OPS, …). */
export function QueuePage(props: { roles: string[] | undefined }) {
  const [owner, setOwner] = useState<ExceptionOwner | "">(ownerOfRoles(props.roles) ?? "");
  const [status, setStatus] = useState<ExceptionStatus | "">("OPEN");
  const [severity, setSeverity] = useState<ExceptionSeverity | "">("");
  const [overdueOnly, setOverdueOnly] = useState(false);
  const filter = useMemo(
    () => ({
      ...(owner ? { owner: [owner] } : {}),
      ...(status ? { status: status === "OPEN" ? (["OPEN", "RETRYING"] as const) : [status] } : {}),
      ...(severity ? { severity: [severity] } : {}),
      ...(overdueOnly ? { overdue: true } : {}),
    }),
    [owner, status, severity, overdueOnly],
  );
  const [result, refetch] = useQuery({
    query: ExceptionQueueDocument,
    variables: { first: 100, filter: { ...filter, status: filter.status && [...filter.status] } },
  });
  const live = useExceptionFeed(() => refetch({ requestPolicy: "network-only" }));
  // Rows that arrived after the first page load are highlighted for a moment.
  const seen = useRef<Set<string> | undefined>(undefined);
  const nodes = result.data?.syncExceptions.nodes;
  const fresh = useMemo(() => {
    const ids = nodes?.map((n) => n.id) ?? [];
    const previous = seen.current;
    if (nodes) seen.current = new Set([...(previous ?? []), ...ids]);
    return new Set(previous ? ids.filter((id) => !previous.has(id)) : []);
  }, [nodes]);
  const now = useNow(1000);
  const rows = result.data?.syncExceptions.nodes ?? [];
  return (
    <>
      <h1>Exception queue</h1>
      <div className="filters">
        <Select label="Owner" value={owner} options={OWNERS} onChange={setOwner} />
        <Select label="Status" value={status} options={STATUSES} onChange={setStatus} />
        <Select label="Severity" value={severity} options={SEVERITIES} onChange={setSeverity} />
        <label>
          <input
            type="checkbox"
            name="overdue"
            checked={overdueOnly}
            onChange={(event) => setOverdueOnly(event.target.checked)}
          />{" "}
          overdue only
        </label>
        <span className="live" data-testid="live">
          {live?.startsWith("live feed:") ? live : live ? `live · event ${live}` : "live"}
        </span>
      </div>
      <ErrorText error={result.error} />
      <p data-testid="total">
        {result.data ? `${result.data.syncExceptions.totalCount} exceptions` : "Loading…"}
        {status === "OPEN" ? " open or retrying" : ""}
      </p>
      <table>
        <thead>
          <tr>
            <th>Severity</th>
            <th>Owner</th>
            <th>Status</th>
            <th>Problem</th>
            <th>Entity</th>
            <th>Age</th>
            <th>SLA</th>
            <th>Attempts</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <QueueRow key={row.id} row={row} now={now} fresh={fresh.has(row.id)} />
          ))}
        </tbody>
      </table>
    </>
  );
}

function QueueRow(props: { row: ExceptionRowFragment; now: number; fresh: boolean }) {
  const { row, now } = props;
  const due = Date.parse(String(row.dueAt)) - now;
  const closed = row.status === "RESOLVED" || row.status === "IGNORED";
  return (
    <tr
      data-id={row.id}
      className={props.fresh ? "fresh" : undefined}
      onClick={() => navigate(`/ops/exceptions/${row.id}`)}
    >
      <td>
        <span className={`sev sev-${row.severity}`}>{row.severity}</span>
      </td>
      <td data-field="owner">{row.owner}</td>
      <td data-testid="status">{row.status}</td>
      <td>
        <strong>{row.code}</strong>
        <br />
        {row.message}
      </td>
      <td>{row.entityType ? `${row.entityType} ${row.entityId ?? ""}` : "—"}</td>
      <td>{formatSpan(now - Date.parse(String(row.createdAt)))}</td>
      <td className={!closed && row.overdue ? "overdue" : undefined}>
        {closed ? "—" : due >= 0 ? `due in ${formatSpan(due)}` : `overdue ${formatSpan(due)}`}
      </td>
      <td>{row.attempts}</td>
    </tr>
  );
}

// ---- exception detail ---------------------------------------------------------------------------

export function ExceptionPage(props: { id: string; roles: string[] | undefined }) {
  const [result, refetch] = useQuery({
    query: ExceptionDetailDocument,
    variables: { id: props.id },
  });
  useExceptionFeed(() => refetch({ requestPolicy: "network-only" }));
  const now = useNow(1000);
  const exception = result.data?.syncException;
  return (
    <>
      <p>
        <Link to="/ops">← Exception queue</Link>
      </p>
      <ErrorText error={result.error} skip={isHiddenSource} />
      {exception ? (
        <ExceptionDetail exception={exception} now={now} mayAct={mayAct(props.roles)} />
      ) : result.fetching ? (
        <p>Loading…</p>
      ) : null}
    </>
  );
}

type Detail = NonNullable<ExceptionDetailQuery["syncException"]>;

/** The command / inbox record a role may not see (FORBIDDEN at that path): shown as a note instead. */
function isHiddenSource(error: CombinedError["graphQLErrors"][number]): boolean {
  const field = error.path?.[1];
  return error.extensions?.code === "FORBIDDEN" && (field === "command" || field === "inboxEvent");
}

function ExceptionDetail(props: { exception: Detail; now: number; mayAct: boolean }) {
  const { exception: e, now } = props;
  const due = Date.parse(String(e.dueAt)) - now;
  const active = e.status === "OPEN" || e.status === "RETRYING";
  return (
    <>
      <h1>
        <span className={`sev sev-${e.severity}`}>{e.severity}</span> {e.code}
      </h1>
      <div className="card">
        <dl>
          <dt>Status</dt>
          <dd data-testid="detail-status">{e.status}</dd>
          <dt>Owner</dt>
          <dd>{e.owner}</dd>
          <dt>What went wrong</dt>
          <dd>{e.message}</dd>
          <dt>What to do</dt>
          <dd data-testid="remediation">{e.remediation}</dd>
          <dt>Entity</dt>
          <dd>{e.entityType ? `${e.entityType} ${e.entityId ?? ""}` : "—"}</dd>
          <dt>Source</dt>
          <dd>{e.sourceSystem ? `${e.sourceSystem} ${e.sourceRef ?? ""}` : "—"}</dd>
          <dt>SLA</dt>
          <dd className={active && e.overdue ? "overdue" : undefined}>
            {String(e.dueAt)}
            {active ? ` (${due >= 0 ? "due in" : "overdue"} ${formatSpan(due)})` : ""}
          </dd>
          <dt>Attempts</dt>
          <dd>{e.attempts}</dd>
          <dt>Raised</dt>
          <dd>{String(e.createdAt)}</dd>
          <dt>Correlation id</dt>
          <dd>{e.correlationId ?? "—"}</dd>
          {e.resolvedAt ? (
            <>
              <dt>Closed</dt>
              <dd data-testid="resolution">
                {String(e.resolvedAt)} by {e.resolvedBy ?? "?"}: {e.resolutionNote ?? ""}
              </dd>
            </>
          ) : null}
        </dl>
      </div>
      {active && props.mayAct ? <Actions exception={e} /> : null}
      {(e.commandId && !e.command) || (e.inboxEventId && !e.inboxEvent) ? (
        <div className="card" data-testid="source-hidden">
          {e.commandId ? `Outbound command ${e.commandId}` : `Inbound record ${e.inboxEventId}`}:
          its payload and attempts are shown to the analyst and integration roles.
        </div>
      ) : null}
      {e.command ? (
        <div className="card">
          <h2>Outbound command</h2>
          <dl>
            <dt>Target / kind</dt>
            <dd>
              {e.command.target} {e.command.kind}
            </dd>
            <dt>State</dt>
            <dd>{e.command.state}</dd>
            <dt>Attempts</dt>
            <dd>
              {e.command.attempts} of {e.command.maxAttempts} (next{" "}
              {String(e.command.nextAttemptAt)})
            </dd>
            <dt>Last error</dt>
            <dd>{e.command.lastError ?? "—"}</dd>
          </dl>
          <pre data-testid="payload">{prettyJson(e.command.payload)}</pre>
        </div>
      ) : null}
      {e.inboxEvent ? (
        <div className="card">
          <h2>Inbound record</h2>
          <dl>
            <dt>Source / object</dt>
            <dd>
              {e.inboxEvent.source} {e.inboxEvent.object} {e.inboxEvent.externalId ?? ""}
            </dd>
            <dt>Status</dt>
            <dd>{e.inboxEvent.status}</dd>
            <dt>Attempts</dt>
            <dd>{e.inboxEvent.attempts}</dd>
            <dt>Error</dt>
            <dd>{e.inboxEvent.error ?? "—"}</dd>
          </dl>
          <pre data-testid="payload">{prettyJson(e.inboxEvent.payload)}</pre>
        </div>
      ) : null}
    </>
  );
}

function Actions(props: { exception: Detail }) {
  const { exception: e } = props;
  const [retry, runRetry] = useMutation(RetryExceptionDocument);
  const [resolve, runResolve] = useMutation(ResolveExceptionDocument);
  const [ignore, runIgnore] = useMutation(IgnoreExceptionDocument);
  const [note, setNote] = useState("");
  const [reason, setReason] = useState("");
  const busy = retry.fetching || resolve.fetching || ignore.fetching;
  return (
    <div className="card">
      <h2>Act</h2>
      <div className="actions">
        {e.status === "OPEN" && (e.commandId || e.inboxEventId) ? (
          <button
            type="button"
            name="retry"
            disabled={busy}
            onClick={() => runRetry({ id: e.id, key: idempotencyKey() })}
          >
            Retry
          </button>
        ) : null}
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (note.trim()) runResolve({ id: e.id, note: note.trim(), key: idempotencyKey() });
          }}
        >
          <input
            name="note"
            placeholder="what was fixed"
            value={note}
            onChange={(event) => setNote(event.target.value)}
          />
          <button type="submit" name="resolve" disabled={busy || !note.trim()}>
            Resolve
          </button>
        </form>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (reason.trim())
              runIgnore({ id: e.id, reason: reason.trim(), key: idempotencyKey() });
          }}
        >
          <input
            name="reason"
            placeholder="why it is left alone"
            value={reason}
            onChange={(event) => setReason(event.target.value)}
          />
          <button type="submit" name="ignore" disabled={busy || !reason.trim()}>
            Ignore
          </button>
        </form>
      </div>
      <ErrorText error={retry.error ?? resolve.error ?? ignore.error} />
    </div>
  );
}
