/**
 * The IDE's browser entry, bundled by esbuild (see bundle.ts): GraphiQL with the docs explorer,
 * the headers editor, example tabs, and a fetcher that sends queries and mutations over HTTP
 * and subscriptions over graphql-ws on the same URL.
 */
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createClient } from "graphql-ws";
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

const fetcher = createGraphiQLFetcher({
  url: httpUrl.toString(),
  wsClient: createClient({ url: wsUrl.toString(), lazy: true, retryAttempts: 3 }),
});

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
