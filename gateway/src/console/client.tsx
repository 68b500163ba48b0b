/**
 * The ops console's browser entry, bundled by esbuild (../ide/bundle.ts) and served on /ops by
 * the gateway. React + urql with the typed operations of ./operations (codegen); queries and
 * mutations over HTTP, the live exception feed over graphql-ws on the same URL. The caller pastes
 * a token or API key, sent as the graph expects it (Authorization: Bearer, or x-api-key); the
 * graph decides what each role may see and do, the console only hides what a role cannot use.
 *
 * Pages: the exception queue and an exception (./exceptions.tsx), "Where is it?" search and
 * lineage timeline (./where.tsx), sync status (./sync.tsx), the KPI dashboard (./kpis.tsx).
 */
import { createClient as createWsClient } from "graphql-ws";
import { StrictMode, useEffect, useMemo, useState } from "react";
import { createRoot } from "react-dom/client";
import { Client, cacheExchange, fetchExchange, Provider, subscriptionExchange } from "urql";
import { authHeaders, mayOpen, type Page, rolesOf } from "./credentials.ts";
import { ExceptionPage, QueuePage } from "./exceptions.tsx";
import { KpiPage } from "./kpis.tsx";
import { SyncPage } from "./sync.tsx";
import { Link } from "./ui.tsx";
import { WherePage } from "./where.tsx";

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

/**
 * One urql client per credential: HTTP with its headers, graphql-ws with them as connection
 * params. The documents go as urql prints them (its cacheExchange adds `__typename` to queries
 * and mutations): gateway/trusted-documents.json registers exactly that text
 * (../trusted-documents.ts consoleDocuments), so the console works with trusted documents enforced.
 */
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

// ---- routing --------------------------------------------------------------------------------------

type Route =
  | { page: "queue" }
  | { page: "exception"; id: string }
  | { page: "where"; q: string; entity?: { type: string; id: string } }
  | { page: "sync" }
  | { page: "kpis" };

function routeOf(location: { pathname: string; search: string }): Route {
  const path = location.pathname;
  if (path === "/ops/kpis") return { page: "kpis" };
  if (path === "/ops/sync") return { page: "sync" };
  const q = new URLSearchParams(location.search).get("q") ?? "";
  if (path === "/ops/where") return { page: "where", q };
  const where = /^\/ops\/where\/([A-Z_]+)\/([^/]+)$/.exec(path);
  if (where?.[1] && where[2]) {
    return { page: "where", q, entity: { type: where[1], id: decodeURIComponent(where[2]) } };
  }
  const match = /^\/ops\/exceptions\/([^/]+)$/.exec(path);
  if (match?.[1]) return { page: "exception", id: decodeURIComponent(match[1]) };
  return { page: "queue" };
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(window.location));
  useEffect(() => {
    const onPop = () => setRoute(routeOf(window.location));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  return route;
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

const NAV: { page: Page; to: string; label: string; active: Route["page"][] }[] = [
  { page: "exceptions", to: "/ops", label: "Exceptions", active: ["queue", "exception"] },
  { page: "where", to: "/ops/where", label: "Where is it?", active: ["where"] },
  { page: "sync", to: "/ops/sync", label: "Sync status", active: ["sync"] },
  { page: "kpis", to: "/ops/kpis", label: "KPIs", active: ["kpis"] },
];

function App() {
  const [credential, setCredential] = useState(() => sessionStorage.getItem(CREDENTIAL_KEY) ?? "");
  const client = useMemo(() => graphClient(credential), [credential]);
  const roles = rolesOf(credential);
  const route = useRoute();
  return (
    <Provider value={client}>
      <header>
        <strong>pshub ops</strong>
        {NAV.filter((item) => mayOpen(item.page, roles)).map((item) => (
          <Link
            key={item.page}
            to={item.to}
            className={item.active.includes(route.page) ? "active" : undefined}
          >
            {item.label}
          </Link>
        ))}
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
        ) : route.page === "sync" ? (
          <SyncPage roles={roles} />
        ) : route.page === "where" ? (
          <WherePage q={route.q} entity={route.entity} roles={roles} />
        ) : route.page === "exception" ? (
          <ExceptionPage id={route.id} roles={roles} />
        ) : (
          <QueuePage roles={roles} />
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
