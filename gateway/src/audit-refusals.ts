/**
 * Audit rows for mutations the gateway refuses before any subgraph is called (issue 9 item 6):
 * a validation failure, a bad variable or scalar (BAD_USER_INPUT), a query limit. Without a
 * subgraph call no operation ran, so nothing else audits them; one row per root mutation field,
 * written through the kit's `auditRefusedField`. Refusals before Apollo (401, 429, trusted
 * documents, body size) are not written: the request never became an operation.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import type { Db } from "@pshub/db";
import { auditRefusedField } from "@pshub/subgraph-kit";
import { getOperationAST, Kind } from "graphql";
import type { GatewayContext } from "./gateway.ts";

export function gatewayRefusalAuditPlugin(
  db: Db,
  onError?: (error: unknown) => void,
): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, document, request, contextValue }) {
          if (!document || (contextValue.subgraphRequests ?? 0) > 0) return;
          const operation = getOperationAST(document, request.operationName);
          if (operation?.operation !== "mutation") return;
          const code = String(errors[0]?.extensions?.code ?? "GRAPHQL_VALIDATION_FAILED");
          for (const selection of operation.selectionSet.selections) {
            if (selection.kind !== Kind.FIELD || selection.name.value.startsWith("__")) continue;
            try {
              await auditRefusedField(
                db,
                selection,
                request.variables ?? {},
                {
                  actor: contextValue.principal.id,
                  roles: contextValue.principal.roles,
                  requestId: contextValue.correlationId,
                },
                code,
              );
            } catch (cause) {
              onError?.(cause);
            }
          }
        },
      };
    },
  };
}
