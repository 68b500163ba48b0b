/**
 * Composition: the committed supergraph and API schema are what the subgraphs' SDL composes to
 * (the drift gate; fix with `npm run compose`), and a broken subgraph is reported by name.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { API_SCHEMA_PATH, compose, readAllSubgraphSdl, SUPERGRAPH_PATH } from "./compose.ts";

describe("composition", () => {
  it("matches the committed gateway/supergraph.graphql and api-schema.graphql (run npm run compose)", () => {
    const result = compose(readAllSubgraphSdl());
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(
      result.supergraphSdl === readFileSync(SUPERGRAPH_PATH, "utf8"),
      "supergraph.graphql is stale",
    ).toBe(true);
    expect(
      result.apiSchemaSdl === readFileSync(API_SCHEMA_PATH, "utf8"),
      "api-schema.graphql is stale",
    ).toBe(true);
  });

  it("names the subgraph and the problem when composition fails", () => {
    const subgraphs = readAllSubgraphSdl();
    const broken = subgraphs.map((subgraph) =>
      subgraph.name === "invoice"
        ? {
            ...subgraph,
            sdl: `${subgraph.sdl}\ntype Customer @key(fields: "id") { id: ID! name: Int }`,
          }
        : subgraph,
    );
    const result = compose(broken);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join("\n")).toMatch(/Customer/);

    const empty = compose(
      subgraphs.map((subgraph) =>
        subgraph.name === "project" ? { ...subgraph, sdl: "" } : subgraph,
      ),
    );
    expect(empty.ok).toBe(false);
    if (!empty.ok) expect(empty.errors[0]).toContain("[project] no SDL");
  });
});
