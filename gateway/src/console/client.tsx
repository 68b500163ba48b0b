/**
 * The ops console's browser entry, bundled by esbuild (../ide/bundle.ts) and served on /ops by
 * the gateway. React + urql with the typed operations of ./operations (codegen); queries and
 * mutations over HTTP, the live exception feed over graphql-ws on the same URL. The caller pastes
 * a token or API key, sent as the graph expects it (Authorization: Bearer, or x-api-key); the
 * graph decides what each role may see and do, the console only hides buttons a role cannot use.
 */
import { createClient as createWsClient } from "graphql-ws";
import { type ReactNode, StrictMode, useEffect, useMemo, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import {
  Client,
  type CombinedError,
  cacheExchange,
  fetchExchange,
  Provider,
  subscriptionExchange,
  useMutation,
  useQuery,
  useSubscription,
} from "urql";
import {
  ConsoleKpisDocument,
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
import { authHeaders, mayAct, rolesOf } from "./credentials.ts";

interface ConsoleConfig {
  endpoint: string;
}

const config = JSON.parse(
  document.getElementById("pshub-console-config")?.textContent ?? "{}",
) as ConsoleConfig;
const httpUrl = new URL(config.endpoint, window.location.href);
const wsUrl = new URL(httpUrl);
wsUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

const CREDENTIAL_KEY = "pshub-console-credential";

/** One urql client per credential: HTTP with its headers, graphql-ws with them as connection params. */
function graphClient(credential: string): Client {
  const headers = authHeaders(credential);
  const ws = createWsClient({ url: wsUrl.toString(), connectionParams: headers, lazy: true });
  return new Client({
    url: httpUrl.toString(),
    fetchOptions: { headers },
    requestPolicy: "cache-and-network",
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}

// ---- routing: /ops, /ops/exceptions/<id> --------------------------------------------------------

type Route = { page: "queue" } | { page: "kpis" } | { page: "exception"; id: string };

function routeOf(pathname: string): Route {
  if (pathname === "/ops/kpis") return { page: "kpis" };
  const match = /^\/ops\/exceptions\/([^/]+)$/.exec(pathname);
  if (match?.[1]) return { page: "exception", id: decodeURIComponent(match[1]) };
  return { page: "queue" };
}

function navigate(path: string): void {
  window.history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(window.location.pathname));
  useEffect(() => {
    const onPop = () => setRoute(routeOf(window.location.pathname));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  return route;
}

function Link(props: { to: string; className?: string; children: ReactNode }) {
  return (
    <a
      href={props.to}
      className={props.className}
      onClick={(event) => {
        event.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}

/** Re-renders every `ms` (for SLA countdowns and ages). */
function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** "3d 4h", "2h 5m", "45s" (a signed span's magnitude). */
export function formatSpan(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

function ErrorText(props: {
  error: CombinedError | undefined;
  /** Leave out the errors this says are not worth showing. */
  skip?: (error: CombinedError["graphQLErrors"][number]) => boolean;
}) {
  if (!props.error) return null;
  const errors = props.error.graphQLErrors.filter((e) => !props.skip?.(e));
  if (props.error.graphQLErrors.length > 0 && errors.length === 0) return null;
  const messages = errors.length
    ? errors.map((e) => {
        const code = e.extensions?.code;
        return typeof code === "string" ? `${code}: ${e.message}` : e.message;
      })
    : [props.error.message];
  return <p className="error">{messages.join("; ")}</p>;
}

// ---- exception queue ----------------------------------------------------------------------------

const OWNERS: ExceptionOwner[] = ["FINANCE", "PROJECT_OPS", "SALES_OPS", "INTEGRATION"];
const STATUSES: ExceptionStatus[] = ["OPEN", "RETRYING", "RESOLVED", "IGNORED"];
const SEVERITIES: ExceptionSeverity[] = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];

function Select<T extends string>(props: {
  label: string;
  value: T | "";
  options: T[];
  onChange: (value: T | "") => void;
}) {
  return (
    <label>
      {props.label}{" "}
      <select
        name={props.label.toLowerCase()}
        value={props.value}
        onChange={(event) => props.onChange(event.target.value as T | "")}
      >
        <option value="">any</option>
        {props.options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </label>
  );
}

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

function QueuePage() {
  const [owner, setOwner] = useState<ExceptionOwner | "">("");
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
      <td>{row.owner}</td>
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

function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function idempotencyKey(): string {
  return crypto.randomUUID();
}

function ExceptionPage(props: { id: string; roles: string[] | undefined }) {
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

// ---- KPI dashboard ----------------------------------------------------------------------------

function KpiPage() {
  const [result] = useQuery({ query: ConsoleKpisDocument, variables: {} });
  const kpis = result.data?.kpis;
  return (
    <>
      <h1>KPIs{kpis ? ` as of ${kpis.asOf}` : ""}</h1>
      <ErrorText error={result.error} />
      {kpis ? (
        <>
          <div className="card">
            <h2>Open exceptions by owner</h2>
            <table data-testid="kpi-exceptions">
              <thead>
                <tr>
                  <th>Owner</th>
                  <th>Open</th>
                  <th>SLA breached</th>
                </tr>
              </thead>
              <tbody>
                {kpis.openExceptions.map((row) => (
                  <tr key={row.owner} data-owner={row.owner}>
                    <td>{row.owner}</td>
                    <td>{row.open}</td>
                    <td className={row.slaBreached > 0 ? "overdue" : undefined}>
                      {row.slaBreached}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="card">
            <h2>Receivables</h2>
            <table data-testid="kpi-receivables">
              <thead>
                <tr>
                  <th>Legal entity</th>
                  <th>Currency</th>
                  <th>Open invoices</th>
                  <th>Outstanding</th>
                  <th>Current</th>
                  <th>DSO</th>
                </tr>
              </thead>
              <tbody>
                {kpis.receivables.map((row) => (
                  <tr key={`${row.legalEntity}-${row.currency}`}>
                    <td>{row.legalEntity}</td>
                    <td>{row.currency}</td>
                    <td>{row.openInvoices}</td>
                    <td>{String(row.outstanding)}</td>
                    <td>{String(row.current)}</td>
                    <td>{row.dso == null ? "—" : String(row.dso)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </>
  );
}

// ---- shell --------------------------------------------------------------------------------------

function CredentialBar(props: { credential: string; onChange: (value: string) => void }) {
  const [draft, setDraft] = useState(props.credential);
  return (
    <form
      className="auth"
      onSubmit={(event) => {
        event.preventDefault();
        props.onChange(draft.trim());
      }}
    >
      <input
        name="credential"
        type="password"
        autoComplete="off"
        placeholder="token or API key"
        value={draft}
        onChange={(event) => setDraft(event.target.value)}
      />
      <button type="submit">Use</button>
    </form>
  );
}

function App() {
  const [credential, setCredential] = useState(() => sessionStorage.getItem(CREDENTIAL_KEY) ?? "");
  const client = useMemo(() => graphClient(credential), [credential]);
  const roles = rolesOf(credential);
  const route = useRoute();
  return (
    <Provider value={client}>
      <header>
        <strong>pshub ops</strong>
        <Link to="/ops" className={route.page === "queue" ? "active" : undefined}>
          Exceptions
        </Link>
        <Link to="/ops/kpis" className={route.page === "kpis" ? "active" : undefined}>
          KPIs
        </Link>
        <CredentialBar
          credential={credential}
          onChange={(value) => {
            sessionStorage.setItem(CREDENTIAL_KEY, value);
            setCredential(value);
          }}
        />
      </header>
      <main key={credential}>
        {!credential ? (
          <p data-testid="sign-in">
            Paste a token or API key above (the graph's own: <code>npm start</code> prints a demo
            token per role). What you see and may do is what the graph allows that credential.
          </p>
        ) : route.page === "kpis" ? (
          <KpiPage />
        ) : route.page === "exception" ? (
          <ExceptionPage id={route.id} roles={roles} />
        ) : (
          <QueuePage />
        )}
      </main>
    </Provider>
  );
}

const mount = document.getElementById("console");
if (mount) {
  createRoot(mount).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
