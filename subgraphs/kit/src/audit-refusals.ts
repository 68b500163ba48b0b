/**
 * Audit rows for the mutations a subgraph refuses before any operation runs (issue 9 item 6):
 * a role check (FORBIDDEN) or a missing principal (UNAUTHENTICATED) throws at the mutation's root
 * field, so the operation's own audit (db execute()) never happens. This plugin writes the row
 * instead — principal, roles, request correlation id, the field's arguments and their hash, the
 * code as outcome. Every other refusal (BAD_USER_INPUT, VALIDATION_FAILED, NOT_FOUND, …) is
 * already audited by the operation itself, so it is not written twice.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { type Db, writeAudit } from "@pshub/db";
import {
  type FieldNode,
  type GraphQLError,
  Kind,
  type OperationDefinitionNode,
  valueFromASTUntyped,
} from "graphql";
import type { SubgraphContext } from "./context.ts";

/** Codes thrown before an operation runs: audited here. */
export const REFUSAL_CODES: ReadonlySet<string> = new Set(["FORBIDDEN", "UNAUTHENTICATED"]);

/** The root field under a response key (an alias or the field's name). */
function rootField(operation: OperationDefinitionNode, key: string): FieldNode | undefined {
  for (const selection of operation.selectionSet.selections)
    if (selection.kind === Kind.FIELD && (selection.alias?.value ?? selection.name.value) === key)
      return selection;
  return undefined;
}

/**
 * One audit row for a refused root mutation field: its arguments (variables substituted) as the
 * input, hashed as execute() hashes an operation's input (without the idempotency key). Used here
 * and by the gateway for mutations it refuses before any subgraph is called.
 */
export async function auditRefusedField(
  db: Db,
  field: FieldNode,
  variables: Record<string, unknown>,
  who: { actor: string; roles: readonly string[]; requestId?: string | null },
  outcome: string,
): Promise<void> {
  const args = Object.fromEntries(
    (field.arguments ?? []).map((arg) => [
      arg.name.value,
      valueFromASTUntyped(arg.value, variables),
    ]),
  );
  await writeAudit(db, {
    actor: who.actor,
    roles: who.roles,
    operation: field.name.value,
    requestId: who.requestId,
    input: { input: args, requestId: who.requestId ?? null },
    hashed: Object.fromEntries(Object.entries(args).filter(([name]) => name !== "idempotencyKey")),
    outcome,
  });
}

export function refusalAuditPlugin(
  db: Db,
  onError?: (error: unknown) => void,
): ApolloServerPlugin<SubgraphContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, operation, contextValue, request }) {
          if (operation?.operation !== "mutation") return;
          const refused = (errors as readonly GraphQLError[]).filter(
            (error) =>
              error.path?.length === 1 && REFUSAL_CODES.has(String(error.extensions?.code ?? "")),
          );
          for (const error of refused) {
            const field = rootField(operation, String(error.path![0]));
            if (!field) continue;
            try {
              await auditRefusedField(
                db,
                field,
                request.variables ?? {},
                {
                  actor: contextValue.principal,
                  roles: contextValue.auth?.roles ?? [],
                  requestId: contextValue.correlationId,
                },
                String(error.extensions.code),
              );
            } catch (cause) {
              // The refusal stands either way; a lost audit row is logged, never the caller's error.
              onError?.(cause);
            }
          }
        },
      };
    },
  };
}
