/**
 * The IDE's browser entry, bundled by esbuild (see bundle.ts): GraphiQL with the docs explorer,
 * the headers editor, example tabs, and a fetcher that sends queries and mutations over HTTP
 * and subscriptions over graphql-ws on the same URL (headers as connection params).
 */
import { createGraphiQLFetcher, type Fetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { parse } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import "graphiql/graphiql.css";
import type { ExampleTab } from "./examples.ts";

interface IdeConfig {
  endpoint: string;
  tabs: ExampleTab[];
}

const config = JSON.parse(
  document.getElementById("pshub-ide-config")?.textContent ?? "{}",
) as IdeConfig;
const httpUrl = new URL(config.endpoint, window.location.href);
const wsUrl = new URL(httpUrl);
wsUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

const httpFetcher = createGraphiQLFetcher({ url: httpUrl.toString() });

/**
 * Subscriptions go over graphql-ws with the headers editor's values as connection params (the
 * gateway authenticates a socket once, in connection_init): one client per distinct headers.
 */
const wsClients = new Map<string, Client>();
function wsClientFor(headers: Record<string, unknown>): Client {
  const key = JSON.stringify(headers);
  let client = wsClients.get(key);
  if (!client) {
    client = createClient({
      url: wsUrl.toString(),
      lazy: true,
      retryAttempts: 3,
      connectionParams: headers,
    });
    wsClients.set(key, client);
  }
  return client;
}

/** Headers-editor keys starting with `#` are comments, not headers. */
function withoutComments(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(([name]) => !name.startsWith("#")),
  );
}

const fetcher: Fetcher = (params, rawOptions) => {
  const options = rawOptions && { ...rawOptions, headers: withoutComments(rawOptions.headers) };
  // Parsed here rather than taken from options.documentAST: after a tab switch GraphiQL can
  // hand over the previous tab's document and operation name with the new tab's text.
  let document: ReturnType<typeof parse>;
  try {
    document = parse(params.query);
  } catch {
    return httpFetcher(params, options);
  }
  const operations = document.definitions.filter(
    (definition) => definition.kind === "OperationDefinition",
  );
  // With one operation in the editor, that one is meant, whatever name GraphiQL sends.
  let operationName = params.operationName ?? undefined;
  if (operations.length === 1 && operationName && operations[0]?.name?.value !== operationName) {
    operationName = operations[0]?.name?.value;
  }
  const operation = operations.find(
    (definition) => !operationName || definition.name?.value === operationName,
  );
  if (operation?.operation !== "subscription") {
    return httpFetcher({ ...params, operationName: operationName ?? null }, options);
  }
  // GraphiQL renders each result of an async iterable as it arrives.
  return wsClientFor(withoutComments(options?.headers)).iterate({
    query: params.query,
    variables: params.variables ?? undefined,
    operationName,
  }) as ReturnType<Fetcher>;
};

const container = document.getElementById("graphiql");
if (container) {
  createRoot(container).render(
    createElement(GraphiQL, {
      fetcher,
      defaultTabs: config.tabs.map((tab) => ({
        query: tab.query,
        variables: tab.variables,
        headers: tab.headers,
      })),
      // Tab headers are dropped unless headers are persisted; defaultHeaders fills every tab.
      defaultHeaders: config.tabs[0]?.headers,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: "headers",
    }),
  );
}
