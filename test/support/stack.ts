/**
 * The whole graph in one test process: every subgraph on port 0 over one test database
 * (./subgraphs.ts), and the gateway on port 0 pointed at them. Every SQL statement of the
 * subgraphs goes through one counter (for N+1 guards).
 *
 *   const stack = await startStack();      // in beforeAll
 *   const { json } = await stack.query("{ invoices(first: 5) { totalCount } }");
 *   await stack.stop();                     // in afterAll
 */

import { randomBytes } from "node:crypto";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import type { Db } from "@pshub/db";
import { createTestDatabase, type TestDatabase } from "@pshub/db/testing";
import {
  type AttachedSubscriptions,
  attachSubscriptions,
  type CreateGatewayOptions,
  createGateway,
  type PshubGateway,
  type SubgraphName,
} from "@pshub/gateway";
import type { RunningSubgraph } from "@pshub/subgraph-kit";
import { type GraphQLFormattedError, print } from "graphql";
import { startSubgraphs } from "./subgraphs.ts";

interface GraphQLResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary response shapes
  json: any;
}

export interface Stack {
  database: TestDatabase;
  db: Db;
  gateway: PshubGateway;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  origin: string;
  subgraphs: Record<SubgraphName, RunningSubgraph>;
  /** The GATEWAY_SUBGRAPH_SECRET shared by this stack's gateway and subgraphs. */
  subgraphSecret: string;
  /** SQL statements run by the subgraphs since the last reset. */
  sqlCount(): number;
  resetSqlCount(): void;
  query(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse>;
  post(body: unknown, headers?: Record<string, string>): Promise<GraphQLResponse>;
  /** A typed operation generated from test/operations (test/__generated__/operations.ts). */
  run<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    variables: TVariables,
  ): Promise<{ status: number; data?: TData; errors?: GraphQLFormattedError[] }>;
  stop(): Promise<void>;
}

export async function startStack(
  options: {
    ide?: boolean;
    subscriptions?: boolean;
    /** More gateway options (auth, limits, …); `auth.apiKeys: true` uses the stack's database. */
    gateway?: Omit<Partial<CreateGatewayOptions>, "auth"> & {
      auth?: Omit<NonNullable<CreateGatewayOptions["auth"]>, "apiKeys"> & { apiKeys?: boolean };
    };
  } = {},
): Promise<Stack> {
  let statements = 0;
  const database = await createTestDatabase({ onQuery: () => void statements++ });
  const { db } = database;
  // The subgraphs trust only this stack's gateway, as under `npm start`.
  const subgraphSecret = randomBytes(32).toString("base64url");
  const subgraphs = await startSubgraphs(db, { gatewaySecret: subgraphSecret });
  const gateway = await createGateway({
    subgraphUrls: subgraphs.urls,
    ide: options.ide ?? false,
    // Mutations the gateway refuses are audited in the stack's database, as under `npm start`.
    auditDb: db,
    ...options.gateway,
    // A test that names no principal acts as admin (development mode's default is analyst).
    auth: {
      developmentRoles: ["admin"],
      ...options.gateway?.auth,
      apiKeys: options.gateway?.auth?.apiKeys ? db : undefined,
    },
    subgraphSecret,
  });
  const subscriptions: AttachedSubscriptions | undefined = options.subscriptions
    ? await attachSubscriptions(gateway, { sql: database.sql, url: database.url })
    : undefined;
  const { url } = await gateway.listen({ port: 0 });

  const post = async (
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<GraphQLResponse> => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = { raw: text };
    }
    return { status: response.status, headers: response.headers, json };
  };

  return {
    database,
    db,
    gateway,
    url,
    origin: new URL(url).origin,
    subgraphs: subgraphs.running,
    subgraphSecret,
    sqlCount: () => statements,
    resetSqlCount: () => {
      statements = 0;
    },
    post,
    query: (query, variables, headers) => post({ query, variables }, headers),
    async run(document, variables) {
      const { status, json } = await post({ query: print(document), variables });
      return { status, data: json.data ?? undefined, errors: json.errors };
    },
    async stop() {
      await subscriptions?.close();
      await gateway.close();
      await subgraphs.close();
      await database.drop();
    },
  };
}
