/**
 * Bad input is never a 500, through the gateway (issue 8, items 5–7):
 * - malformed Decimal / Date values are refused by the gateway itself with the scalar's own
 *   BAD_USER_INPUT, no subgraph called; a malformed id is BAD_USER_INPUT in queries and mutations;
 * - a fuzz test, generated from the composed schema: text Postgres cannot store (NUL, lone
 *   surrogates) in every string or id position of every mutation and every query argument
 *   (filters, cursors, ids), and `1e309` in every Decimal position, is BAD_USER_INPUT, never a
 *   5xx or INTERNAL_SERVER_ERROR, and every refused mutation leaves an audit row;
 * - errors speak the graph's names: GraphQL type names and enum values.
 */
import { randomUUID } from "node:crypto";
import { machines } from "@pshub/db";
import { buildCustomerTree, seedBasics, wonOpportunity } from "@pshub/db/testing";
import { createSubgraphFetcher, type PshubGateway, type SubgraphFetcher } from "@pshub/gateway";
import fc from "fast-check";
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./support/stack.ts";

let stack: Stack;
let gateway: PshubGateway;
let url: string;
let schema: GraphQLSchema;
let subgraphCalls = 0;
const inner = createSubgraphFetcher({ dedupe: false });
const counting: SubgraphFetcher = async (target, init) => {
  subgraphCalls++;
  return inner(target, init);
};

beforeAll(async () => {
  stack = await startStack({ gateway: { fetcher: counting } });
  gateway = stack.gateway;
  url = stack.url;
  schema = gateway.schema()!;
});
afterAll(async () => {
  await stack?.stop();
  inner.destroy();
});

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: assertions walk the response ad hoc
  json: any;
  /** Subgraph requests the gateway made for this one. */
  calls: number;
}

const GRAPHQL_RESPONSE = "application/graphql-response+json";

/** POSTs a raw JSON body text (so a test can send `1e309`, which JSON.stringify cannot). */
async function postText(body: string, accept = "application/json"): Promise<Answer> {
  const before = subgraphCalls;
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept, "x-pshub-principal": "fuzz@firm.test" },
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: response.status, json, calls: subgraphCalls - before };
}

const post = (query: string, variables: Record<string, unknown> = {}, accept?: string) =>
  postText(JSON.stringify({ query, variables }), accept);

function firstError(answer: Answer): { message: string; extensions: Record<string, unknown> } {
  expect(answer.json.errors, JSON.stringify(answer.json)).toBeDefined();
  return answer.json.errors[0];
}

/** Refused as a client's mistake: BAD_USER_INPUT, and nothing anywhere is a server error. */
function expectBadUserInput(answer: Answer, label: string): void {
  const detail = `${label}: ${answer.status} ${JSON.stringify(answer.json).slice(0, 400)}`;
  expect(answer.status, detail).toBeLessThan(500);
  expect(JSON.stringify(answer.json), detail).not.toMatch(/INTERNAL_SERVER_ERROR|\\u001b/);
  expect(firstError(answer).extensions.code, detail).toBe("BAD_USER_INPUT");
}

const auditedRefusals = async (): Promise<number> => {
  const [row] = await stack.database
    .sql`select count(*)::int as n from audit_log where outcome = 'BAD_USER_INPUT'`;
  return row!.n as number;
};

// ---------------------------------------------------------------------------------------------
// Operations generated from the schema
// ---------------------------------------------------------------------------------------------

/** Where a value goes: a root field, then argument and input-field names. */
interface Position {
  kind: "query" | "mutation";
  field: GraphQLField<unknown, unknown>;
  path: string[];
  /** The named type at the position (String, ID, Decimal, …). */
  type: string;
}

/** A well-formed value of an input type (required input fields only). */
function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [sample(type.ofType)];
  if (isInputObjectType(type)) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((f) => isNonNullType(f.type))
        .map((f) => [f.name, sample(f.type)]),
    );
  }
  if (isEnumType(type)) return type.getValues()[0]!.value;
  const samples: Record<string, unknown> = {
    ID: randomUUID(),
    String: "ok",
    Int: 1,
    Boolean: false,
    Decimal: "1.00",
    Date: "2026-01-31",
    DateTime: "2026-01-31T00:00:00Z",
  };
  if (!(type.name in samples)) throw new Error(`no sample for scalar ${type.name}`);
  return samples[type.name];
}

/** Every position of a named type `wanted` under a field's arguments (through input objects). */
function positionsOf(
  kind: Position["kind"],
  field: GraphQLField<unknown, unknown>,
  wanted: (name: string) => boolean,
): Position[] {
  const out: Position[] = [];
  const walk = (type: GraphQLInputType, path: string[], seen: Set<string>) => {
    const named = getNamedType(type);
    if (isInputObjectType(named)) {
      if (seen.has(named.name)) return;
      for (const f of Object.values(named.getFields())) {
        walk(f.type, [...path, f.name], new Set([...seen, named.name]));
      }
    } else if (isScalarType(named) && wanted(named.name)) {
      out.push({ kind, field, path, type: named.name });
    }
  };
  for (const arg of field.args) walk(arg.type, [arg.name], new Set());
  return out;
}

function setAt(
  args: Record<string, unknown>,
  arg: GraphQLArgument,
  path: string[],
  value: unknown,
) {
  // Fill in the well-formed required values along the path, then put `value` at its end.
  const build = (type: GraphQLInputType, rest: string[], current: unknown): unknown => {
    if (rest.length === 0) {
      return isListType(isNonNullType(type) ? type.ofType : type) ? [value] : value;
    }
    const named = getNamedType(type);
    if (!isInputObjectType(named)) throw new Error(`cannot descend into ${named.name}`);
    const [head, ...tail] = rest as [string, ...string[]];
    const base =
      current && typeof current === "object" && !Array.isArray(current)
        ? (current as Record<string, unknown>)
        : (sample(named) as Record<string, unknown>);
    const inner = { ...base, [head]: build(named.getFields()[head]!.type, tail, base[head]) };
    const unwrapped = isNonNullType(type) ? type.ofType : type;
    return isListType(unwrapped) ? [inner] : inner;
  };
  args[arg.name] = build(arg.type, path.slice(1), args[arg.name]);
}

/** `kind Op($a: T, …) { field(a: $a, …) { selection } }` with every argument as a variable. */
function documentFor(kind: Position["kind"], field: GraphQLField<unknown, unknown>): string {
  const definitions = field.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(", ");
  const passed = field.args.map((a) => `${a.name}: $${a.name}`).join(", ");
  const returned = getNamedType(field.type);
  const selection = isObjectType(returned)
    ? "totalCount" in returned.getFields()
      ? "{ totalCount }"
      : "{ __typename }"
    : "";
  return `${kind} Fuzz${definitions ? `(${definitions})` : ""} { ${field.name}${passed ? `(${passed})` : ""} ${selection} }`;
}

/** The variables for one position: required arguments well-formed, `value` at the position. */
function variablesFor(position: Position, value: unknown): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const arg of position.field.args) {
    if (isNonNullType(arg.type)) args[arg.name] = sample(arg.type);
  }
  const arg = position.field.args.find((a) => a.name === position.path[0])!;
  setAt(args, arg, position.path, value);
  return args;
}

const label = (p: Position) => `${p.kind} ${p.field.name}(${p.path.join(".")}: ${p.type})`;

function rootFields(kind: Position["kind"]): GraphQLField<unknown, unknown>[] {
  const root = kind === "mutation" ? schema.getMutationType() : schema.getQueryType();
  return Object.values(root!.getFields()).filter((f) => !f.name.startsWith("_"));
}

const textual = (name: string) => name === "String" || name === "ID";

/** Every string and id position of every mutation and of every query field's arguments. */
function textPositions(): Position[] {
  return [
    ...rootFields("mutation").flatMap((f) => positionsOf("mutation", f, textual)),
    ...rootFields("query").flatMap((f) => positionsOf("query", f, textual)),
  ];
}

const BAD_TEXT = {
  nul: "before\u0000after",
  "lone high surrogate": "before\ud800after",
  "lone low surrogate": "\udc00",
};

/** Strings with a NUL or a lone surrogate somewhere in ordinary text. */
const malformedText = fc
  .tuple(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("\u0000", "\ud800", "\udbff", "\udc00", "\udfff"),
    fc.string({ maxLength: 12 }),
  )
  .map(([before, bad, after]) => before + bad + after);

async function sendAt(position: Position, value: unknown): Promise<Answer> {
  return post(documentFor(position.kind, position.field), variablesFor(position, value));
}

// ---------------------------------------------------------------------------------------------

describe("malformed scalar values (item 5)", () => {
  const PAY = `mutation($input: RecordPaymentInput!) { recordPayment(input: $input) { payment { id } } }`;
  const invoiceId = randomUUID();
  const cases: [string, string, Record<string, unknown>, RegExp][] = [
    [
      "Decimal variable abc",
      PAY,
      { input: { invoiceId, amount: "abc" } },
      /^Variable "\$input" got invalid value "abc" at "input.amount"; Decimal must be a string with at most 2 decimal places/,
    ],
    [
      "Decimal variable 0.005",
      PAY,
      { input: { invoiceId, amount: "0.005" } },
      /Decimal must be a string with at most 2 decimal places, e.g. "1234.50"; got "0.005"/,
    ],
    [
      "Date variable 2026-13-45",
      PAY,
      { input: { invoiceId, amount: "1.00", receivedOn: "2026-13-45" } },
      /Date must be a calendar date YYYY-MM-DD; got "2026-13-45"/,
    ],
    [
      "Decimal literal abc",
      `mutation { recordPayment(input: { invoiceId: "${invoiceId}", amount: "abc" }) { payment { id } } }`,
      {},
      /^Decimal must be a string with at most 2 decimal places, e.g. "1234.50"; got "abc"$/,
    ],
    [
      "Decimal literal 0.005",
      `mutation { recordPayment(input: { invoiceId: "${invoiceId}", amount: "0.005" }) { payment { id } } }`,
      {},
      /got "0.005"$/,
    ],
    [
      "Date literal 2026-13-45",
      `mutation { runBilling(periodEnd: "2026-13-45") { eventsCreated } }`,
      {},
      /^Date must be a calendar date YYYY-MM-DD; got "2026-13-45"$/,
    ],
    [
      "Date in a query filter",
      `query($d: Date) { invoices(filter: { issuedFrom: $d }) { totalCount } }`,
      { d: "2026-02-30" },
      /Date must be a calendar date YYYY-MM-DD; got "2026-02-30"/,
    ],
  ];

  it.each(cases)(
    "%s: BAD_USER_INPUT with the scalar's message, no subgraph called",
    async (_, query, variables, message) => {
      const answer = await post(query, variables);
      expectBadUserInput(answer, query);
      expect(firstError(answer).message).toMatch(message);
      expect(answer.calls).toBe(0);
    },
  );

  it("the HTTP status is the one every other validation failure gets, by Accept header", async () => {
    const unknownField = `{ invoices { nope } }`;
    for (const accept of ["application/json", GRAPHQL_RESPONSE]) {
      const reference = await post(unknownField, {}, accept);
      expect(reference.json.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
      const literal = await post(
        `mutation { runBilling(periodEnd: "2026-13-45") { eventsCreated } }`,
        {},
        accept,
      );
      const variable = await post(PAY, { input: { invoiceId, amount: "abc" } }, accept);
      expect([literal.status, variable.status]).toEqual([reference.status, reference.status]);
    }
    // application/graphql-response+json: a request error is a 4xx (GraphQL over HTTP).
    const strict = await post(PAY, { input: { invoiceId, amount: "abc" } }, GRAPHQL_RESPONSE);
    expect(strict.status).toBe(400);
  });

  it('"-5.00" as a payment says it must be positive', async () => {
    const answer = await post(PAY, { input: { invoiceId, amount: "-5.00" } });
    expectBadUserInput(answer, "-5.00");
    expect(firstError(answer).message).toMatch(
      /amount: must be positive \(greater than zero\); got -5\.00/,
    );
    expect(firstError(answer).extensions.field).toBe("amount");
  });

  it("a malformed id is BAD_USER_INPUT in queries and in mutations alike", async () => {
    const query = await post(`{ invoice(id: "xyz") { id } }`);
    const mutation = await post(`mutation { issueInvoice(invoiceId: "xyz") { id } }`);
    const nested = await post(PAY, { input: { invoiceId: "xyz", amount: "1.00" } });
    for (const answer of [query, mutation, nested]) expectBadUserInput(answer, "malformed id");
  });
});

describe("fuzz: text Postgres cannot store, and 1e309, everywhere (item 6)", () => {
  it("the generated positions cover every mutation and the string filters", () => {
    const positions = textPositions();
    const mutations = new Set(
      positions.filter((p) => p.kind === "mutation").map((p) => p.field.name),
    );
    // Every mutation takes at least an idempotency key or an id: none is left out.
    expect([...mutations].sort()).toEqual(
      rootFields("mutation")
        .map((f) => f.name)
        .sort(),
    );
    const filters = positions.filter((p) => p.kind === "query" && p.path[0] === "filter");
    expect(filters.length).toBeGreaterThan(10);
    expect(filters.map(label)).toEqual(
      expect.arrayContaining([
        "query auditLog(filter.actor: String)",
        "query domainEvents(filter.type: String)",
      ]),
    );
  });

  it("NUL and lone surrogates in every string and id position: BAD_USER_INPUT, each refused mutation audited", async () => {
    for (const position of textPositions()) {
      const audited = position.kind === "mutation" ? await auditedRefusals() : 0;
      const values = Object.entries(BAD_TEXT);
      const answers = await Promise.all(values.map(([, value]) => sendAt(position, value)));
      answers.forEach((answer, i) => {
        expectBadUserInput(answer, `${label(position)} with ${values[i]![0]}`);
      });
      if (position.kind === "mutation") {
        // One audit row per refusal.
        expect(await auditedRefusals(), `${label(position)}: audit rows`).toBe(
          audited + values.length,
        );
      }
    }
  });

  it("random malformed text at random positions (fast-check)", async () => {
    const positions = textPositions();
    await fc.assert(
      // Positions by label, so a counterexample prints as "mutation voidInvoice(reason: String)".
      fc.asyncProperty(
        fc.constantFrom(...positions.map(label)),
        malformedText,
        async (at, value) => {
          const answer = await sendAt(positions.find((p) => label(p) === at)!, value);
          expectBadUserInput(answer, at);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("the audit row records the refused input in a storable spelling", async () => {
    const answer = await post(
      `mutation($r: String!) { voidInvoice(invoiceId: "${randomUUID()}", reason: $r) { id } }`,
      {
        r: "bad\u0000reason\ud800",
      },
    );
    expectBadUserInput(answer, "voidInvoice reason");
    const [row] = await stack.database.sql`
      select input from audit_log where operation = 'voidInvoice' and outcome = 'BAD_USER_INPUT'
      order by id desc limit 1`;
    expect(row!.input.input.reason).toBe("bad\\u0000reason\\ud800");
  });

  it("1e309 in every Decimal position, as a literal and as a JSON number: BAD_USER_INPUT, no subgraph called", async () => {
    const decimals = [
      ...rootFields("mutation").flatMap((f) => positionsOf("mutation", f, (n) => n === "Decimal")),
      ...rootFields("query").flatMap((f) => positionsOf("query", f, (n) => n === "Decimal")),
    ];
    expect(decimals.map(label)).toContain("mutation recordPayment(input.amount: Decimal)");
    for (const position of decimals) {
      const query = documentFor(position.kind, position.field);
      const variables = variablesFor(position, "__HUGE__");
      const asNumber = await postText(
        JSON.stringify({ query, variables }).replace('"__HUGE__"', "1e309"),
      );
      expectBadUserInput(asNumber, `${label(position)} = 1e309 (variable)`);
      expect(asNumber.calls).toBe(0);
    }
    // The literal from the issue, verbatim.
    const literal = await post(
      `mutation { recordPayment(input: { invoiceId: "${randomUUID()}", amount: 1e309 }) { payment { id } } }`,
    );
    expectBadUserInput(literal, "amount: 1e309");
    expect(firstError(literal).message).toBe(
      'Decimal must be a string literal, e.g. "1234.50"; got 1e309',
    );
    expect(literal.calls).toBe(0);
  });
});

describe("errors speak the graph's names (item 7)", () => {
  it("every state machine's states are its GraphQL type's status enum values", () => {
    for (const machine of Object.values(machines)) {
      if (machine === machines.opportunity) continue; // derived state, no status field: below
      const typeName = machine.entityType
        .split("_")
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join("");
      const type = schema.getType(typeName);
      expect(isObjectType(type), typeName).toBe(true);
      if (!isObjectType(type)) continue;
      const status = getNamedType(type.getFields().status!.type);
      expect(isEnumType(status), `${typeName}.status`).toBe(true);
      if (!isEnumType(status)) continue;
      expect([...machine.states].sort(), typeName).toEqual(
        status
          .getValues()
          .map((v) => v.name)
          .sort(),
      );
    }
  });

  it("converting a PROSPECTING opportunity names its stage, an OpportunityStage", async () => {
    const basics = await seedBasics(stack.db);
    const id = await wonOpportunity(stack.db, basics, { stage: "PROSPECTING", isWon: false });
    const answer = await post(
      `mutation($id: ID!) { convertOpportunity(opportunityId: $id) { contract { id } } }`,
      { id },
    );
    const error = firstError(answer);
    expect(error.message).toBe(
      `Opportunity ${id} is in stage PROSPECTING: only a CLOSED_WON opportunity can be converted`,
    );
    expect(error.extensions).toMatchObject({
      code: "INVALID_TRANSITION",
      entityType: "Opportunity",
      stage: "PROSPECTING",
      reason: "NOT_CLOSED_WON",
    });
    const stages = (schema.getType("OpportunityStage") as import("graphql").GraphQLEnumType)
      .getValues()
      .map((v) => v.name);
    expect(stages).toContain(error.extensions.stage);
    expect(error.message).not.toMatch(/\bOPEN\b|\bCONVERTED\b/);
  });

  it("entityType is the GraphQL type name on every path (query, mutation, bulk, lineage)", async () => {
    const tree = await buildCustomerTree(stack.db, { invoices: 1 });
    const missing = randomUUID();
    const answers = {
      "query invoice": [await post(`{ invoice(id: "${missing}") { id } }`), "Invoice"],
      "mutation issueInvoice": [
        await post(`mutation { issueInvoice(invoiceId: "${missing}") { id } }`),
        "Invoice",
      ],
      "mutation resolveException": [
        await post(`mutation { resolveException(exceptionId: "${missing}", note: "n") { id } }`),
        "SyncException",
      ],
      "bulk approveTimeEntries": [
        await post(`mutation { approveTimeEntries(ids: ["${missing}"]) { id } }`),
        "TimeEntry",
      ],
      "transition approveTimeEntry": [
        await post(`mutation { approveTimeEntry(id: "${tree.timeEntryIds[0]}") { id } }`),
        "TimeEntry",
      ],
      "lineage TIME_ENTRY": [
        await post(`{ lineage(entityType: TIME_ENTRY, id: "${missing}") { correlationId } }`),
        "TimeEntry",
      ],
    } as const;
    for (const [path, [answer, typeName]] of Object.entries(answers)) {
      const error = firstError(answer);
      expect(error.extensions.entityType, `${path}: ${JSON.stringify(error)}`).toBe(typeName);
      expect(schema.getType(error.extensions.entityType as string), path).toBeDefined();
      expect(error.message.startsWith(`${typeName} `), `${path}: ${error.message}`).toBe(true);
    }
    expect(firstError(answers["transition approveTimeEntry"][0]).extensions).toMatchObject({
      code: "INVALID_TRANSITION",
      from: "BILLED",
      to: "APPROVED",
    });
  });
});
