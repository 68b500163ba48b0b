/** Small SQL helpers shared by the billing data functions. */
import { BadUserInputError, isUuid } from "@pshub/subgraph-kit";
import { type SQL, sql } from "drizzle-orm";

/**
 * A uuid[] parameter as ONE bind value (a Postgres array literal), so a batch statement has the
 * same text whatever the batch size. Callers pass validated uuids only.
 */
export function uuidArray(ids: readonly string[]): SQL {
  return sql`${`{${ids.join(",")}}`}::uuid[]`;
}

/** Checks a uuid argument (a filter id) and says which one is wrong. */
export function uuidArg(name: string, value: string): string {
  if (!isUuid(value)) {
    throw new BadUserInputError(`\`${name}\` is not a valid id: ${JSON.stringify(value)}`, {
      argumentName: name,
    });
  }
  return value;
}

/** Checks an ISO-4217 currency argument. */
export function currencyArg(name: string, value: string): string {
  if (!/^[A-Z]{3}$/.test(value)) {
    throw new BadUserInputError(
      `\`${name}\` must be an ISO-4217 code such as EUR; got ${JSON.stringify(value)}`,
      { argumentName: name },
    );
  }
  return value;
}
