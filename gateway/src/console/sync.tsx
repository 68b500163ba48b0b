/**
 * Sync status (/ops/sync): for the integration team and analysts watching the connectors. Per
 * connector and object (Query.syncStatus): last success, lag (and a chart of it), cursor, records
 * in and out, errors, backlog, API budget, paused-until; the lag over the last 24 h of one object
 * (Query.syncLagHistory) as a line chart with its figures beside it; and "resync a record"
 * (resyncEntity, the integration role), followed until the CDC process has fetched it
 * (resyncRequest).
 */
import { useEffect, useState } from "react";
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from "recharts";
import { useMutation, useQuery } from "urql";
import {
  ResyncEntityDocument,
  type ResyncEntityMutation,
  ResyncRequestStateDocument,
  SyncLagHistoryDocument,
  SyncStatusPageDocument,
} from "./__generated__/operations.ts";
import { LinesChart } from "./charts.tsx";
import { mayResync } from "./credentials.ts";
import { ErrorText, formatSpan, prettyJson, useNow } from "./ui.tsx";

/** The entity types resyncEntity takes (Mutation.resyncEntity's description). */
const RESYNC_TYPES = [
  "customer",
  "contact",
  "opportunity",
  "contract",
  "project",
  "milestone",
  "resource",
  "assignment",
  "time_entry",
  "expense",
  "invoice",
  "payment",
];

const ago = (now: number, value: unknown) =>
  value == null ? "never" : `${formatSpan(now - Date.parse(String(value)))} ago`;

export function SyncPage(props: { roles: string[] | undefined }) {
  const [result, refetch] = useQuery({ query: SyncStatusPageDocument, variables: {} });
  const now = useNow(1000);
  // The counters move while connectors poll: refresh every 10 s.
  useEffect(() => {
    const timer = setInterval(() => refetch({ requestPolicy: "network-only" }), 10_000);
    return () => clearInterval(timer);
  }, [refetch]);
  const rows = result.data?.syncStatus ?? [];
  const lags = rows
    .filter((r) => r.lagMs != null)
    .map((r) => ({ name: `${r.connector} ${r.object}`, lagSeconds: (r.lagMs ?? 0) / 1000 }));
  return (
    <>
      <h1>Sync status</h1>
      <ErrorText error={result.error} />
      {result.data ? (
        <p data-testid="sync-count">{rows.length} connector objects · refreshed every 10 s</p>
      ) : result.fetching ? (
        <p>Loading…</p>
      ) : null}
      {lags.length ? (
        <div className="card">
          <h2>Lag now (seconds behind the source)</h2>
          <BarChart
            width={Math.max(360, Math.min(1100, lags.length * 90))}
            height={220}
            data={lags}
            margin={{ top: 8, right: 16, bottom: 48, left: 8 }}
          >
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="name" angle={-20} textAnchor="end" interval={0} fontSize={11} />
            <YAxis fontSize={11} />
            <Tooltip />
            <Bar dataKey="lagSeconds" name="lag (s)" fill="#3b6fd8" isAnimationActive={false} />
          </BarChart>
        </div>
      ) : null}
      {result.data ? <LagHistory /> : null}
      {rows.length ? (
        <table data-testid="sync-status">
          <thead>
            <tr>
              <th>Connector</th>
              <th>Object</th>
              <th>Last success</th>
              <th>Lag</th>
              <th>In / applied</th>
              <th>Errors</th>
              <th>Pending / waiting</th>
              <th>API budget</th>
              <th>Paused until</th>
              <th>Cursor</th>
              <th>Last error</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const paused = r.pausedUntil != null && Date.parse(String(r.pausedUntil)) > now;
              return (
                <tr key={`${r.connector}:${r.object}`} data-key={`${r.connector}:${r.object}`}>
                  <td>{r.connector}</td>
                  <td>{r.object}</td>
                  <td title={r.lastSuccessAt == null ? "" : String(r.lastSuccessAt)}>
                    {ago(now, r.lastSuccessAt)}
                  </td>
                  <td data-testid="lag">{r.lagMs == null ? "—" : formatSpan(r.lagMs)}</td>
                  <td>
                    {r.recordsIn} / {r.recordsOut}
                  </td>
                  <td className={r.errors > 0 ? "overdue" : undefined}>{r.errors}</td>
                  <td>
                    {r.pending} / {r.waiting}
                  </td>
                  <td>
                    {r.apiBudgetUsed == null
                      ? "—"
                      : `${r.apiBudgetUsed}${r.apiBudgetLimit == null ? "" : ` of ${r.apiBudgetLimit}`}`}
                  </td>
                  <td className={paused ? "overdue" : undefined}>
                    {paused ? String(r.pausedUntil) : "—"}
                  </td>
                  <td>
                    <code className="cursor">{prettyJson(r.cursor)}</code>
                  </td>
                  <td>{r.lastError ? `${r.lastError} (${ago(now, r.lastErrorAt)})` : "—"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : result.data ? (
        <p>No connector has polled yet.</p>
      ) : null}
      {mayResync(props.roles) ? <ResyncForm /> : null}
    </>
  );
}

/** "2026-12-01T15:30:00.000Z" → "12-01 15:30" (UTC, as the buckets are). */
const bucketLabel = (at: unknown) => String(at).slice(5, 16).replace("T", " ");
const ms = (value: number) => value.toLocaleString("en-US");

/**
 * The lag of one connector object over the last 24 h, in 30-minute buckets (p50, p99 and max of
 * its samples): a line chart, and the buckets' figures in milliseconds beside it.
 */
function LagHistory() {
  const [choice, setChoice] = useState("");
  const [result, refetch] = useQuery({ query: SyncLagHistoryDocument, variables: {} });
  useEffect(() => {
    const timer = setInterval(() => refetch({ requestPolicy: "network-only" }), 10_000);
    return () => clearInterval(timer);
  }, [refetch]);
  const series = result.data?.syncLagHistory ?? [];
  const keyOf = (s: { connector: string; object: string }) => `${s.connector}:${s.object}`;
  const shown = series.find((s) => keyOf(s) === choice) ?? series[0];
  const chart = (shown?.points ?? []).map((p) => ({
    time: bucketLabel(p.at),
    p50: p.p50Ms / 1000,
    p99: p.p99Ms / 1000,
    max: p.maxMs / 1000,
  }));
  return (
    <div className="card kpi" data-testid="lag-history">
      <h2>Lag over the last 24 h (seconds behind the source, 30-minute buckets)</h2>
      <ErrorText error={result.error} />
      {series.length ? (
        <>
          <div className="filters">
            <label>
              Connector object{" "}
              <select
                name="lag-object"
                value={shown ? keyOf(shown) : ""}
                onChange={(event) => setChoice(event.target.value)}
              >
                {series.map((s) => (
                  <option key={keyOf(s)} value={keyOf(s)}>
                    {s.connector} {s.object}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div className="kpi-body">
            <div className="kpi-chart">
              <LinesChart
                data={chart}
                time="time"
                width={560}
                height={240}
                series={[
                  { key: "p50", name: "p50 (s)", color: "#2b8a3e" },
                  { key: "p99", name: "p99 (s)", color: "#f08c00" },
                  { key: "max", name: "max (s)", color: "#b3261e" },
                ]}
              />
            </div>
            <div className="kpi-figures">
              <table data-testid="lag-points" data-key={shown ? keyOf(shown) : ""}>
                <thead>
                  <tr>
                    <th>From (UTC)</th>
                    <th>Samples</th>
                    <th>p50 ms</th>
                    <th>p99 ms</th>
                    <th>max ms</th>
                  </tr>
                </thead>
                <tbody>
                  {(shown?.points ?? []).map((p) => (
                    <tr key={String(p.at)} data-at={String(p.at)}>
                      <td>{bucketLabel(p.at)}</td>
                      <td data-field="samples">{p.samples}</td>
                      <td data-field="p50Ms">{ms(p.p50Ms)}</td>
                      <td data-field="p99Ms">{ms(p.p99Ms)}</td>
                      <td data-field="maxMs">{ms(p.maxMs)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </>
      ) : result.data ? (
        <p className="muted">No lag samples in the last 24 h.</p>
      ) : null}
    </div>
  );
}

function ResyncForm() {
  const [entityType, setEntityType] = useState("invoice");
  const [id, setId] = useState("");
  const [submitted, setSubmitted] = useState<{ entityType: string; id: string } | undefined>();
  return (
    <div className="card">
      <h2>Resync a record</h2>
      <p className="muted">
        Fetch one record again from its source now (every system it is linked to), and apply it.
      </p>
      <form
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          if (id.trim()) setSubmitted({ entityType, id: id.trim() });
        }}
      >
        <select
          name="resync-type"
          value={entityType}
          onChange={(event) => setEntityType(event.target.value)}
        >
          {RESYNC_TYPES.map((type) => (
            <option key={type} value={type}>
              {type}
            </option>
          ))}
        </select>
        <input
          name="resync-id"
          placeholder="canonical id (uuid)"
          value={id}
          onChange={(event) => setId(event.target.value)}
        />
        <button type="submit" name="resync-open">
          Choose
        </button>
      </form>
      {submitted ? (
        <ResyncButton
          key={`${submitted.entityType}:${submitted.id}`}
          entityType={submitted.entityType}
          id={submitted.id}
        />
      ) : null}
    </div>
  );
}

type ResyncRequestRow = ResyncEntityMutation["resyncEntity"][number];

/** The resync button of one entity, and the requests it made, followed until done. */
export function ResyncButton(props: { entityType: string; id: string }) {
  const [state, run] = useMutation(ResyncEntityDocument);
  const requests = state.data?.resyncEntity;
  return (
    <div className="resync" data-testid="resync">
      <button
        type="button"
        name="resync"
        disabled={state.fetching}
        onClick={() => run({ entityType: props.entityType, id: props.id })}
      >
        Resync {props.entityType} from its source
      </button>
      <ErrorText error={state.error} />
      {requests ? (
        requests.length ? (
          <ul>
            {requests.map((r) => (
              <ResyncRequestLine key={r.id} request={r} />
            ))}
          </ul>
        ) : (
          <span className="muted"> it is linked to no source record</span>
        )
      ) : null}
    </div>
  );
}

function ResyncRequestLine(props: { request: ResyncRequestRow }) {
  const [result, refetch] = useQuery({
    query: ResyncRequestStateDocument,
    variables: { id: props.request.id },
    requestPolicy: "network-only",
  });
  const current = result.data?.resyncRequest ?? props.request;
  const pending = current.state === "PENDING";
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => refetch({ requestPolicy: "network-only" }), 1000);
    return () => clearInterval(timer);
  }, [pending, refetch]);
  return (
    <li data-request={props.request.id}>
      {props.request.system} {props.request.object} <code>{props.request.externalId}</code>:{" "}
      <strong data-testid="resync-state">{current.state}</strong>
      {current.result ? ` — ${current.result}` : ""}
    </li>
  );
}
