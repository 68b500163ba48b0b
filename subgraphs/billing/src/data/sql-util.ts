/** Small SQL helpers shared by the billing data functions. */
import { BadUserInputError } from "@pshub/subgraph-kit";

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
