/**
 * The breaking-change gate: a breaking change fails unless accepted with a reason; deprecations
 * and dangerous changes are reported. The CLI is run as CI runs it, against the real composed
 * API schema, with a base that has one field more than today's.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { API_SCHEMA_PATH, REPO_ROOT } from "./compose.ts";
import { acceptedChangesFileSchema, checkSchemaChanges } from "./schema-check.ts";

const base = /* GraphQL */ `
  type Query { invoice(id: ID!): Invoice, invoices(status: Status): [Invoice!]! }
  type Invoice { id: ID!, number: String!, total: String!, legacy: String }
  enum Status { DRAFT ISSUED }
`;

describe("checkSchemaChanges", () => {
  it("fails on a removed field and a field made nullable, naming both", async () => {
    const next = base.replace("number: String!", "number: String").replace(", legacy: String", "");
    const report = await checkSchemaChanges({ baseSdl: base, newSdl: next, accepted: [] });
    expect(report.ok).toBe(false);
    expect(report.unaccepted.map((c) => `${c.type} ${c.path}`).sort()).toEqual([
      "FIELD_REMOVED Invoice.legacy",
      "FIELD_TYPE_CHANGED Invoice.number",
    ]);
  });

  it("passes when every breaking change is accepted, and carries the reason", async () => {
    const next = base.replace(", legacy: String", "");
    const reason = "nobody reads it since 2026-11; announced to the BI team";
    const report = await checkSchemaChanges({
      baseSdl: base,
      newSdl: next,
      accepted: [
        { type: "FIELD_REMOVED", path: "Invoice.legacy", reason, acceptedOn: "2026-12-01" },
      ],
    });
    expect(report.ok).toBe(true);
    expect(report.accepted).toHaveLength(1);
    expect(report.accepted[0]?.reason).toBe(reason);
  });

  it("an acceptance of another path does not cover the change", async () => {
    const next = base.replace(", legacy: String", "");
    const report = await checkSchemaChanges({
      baseSdl: base,
      newSdl: next,
      accepted: [
        {
          type: "FIELD_REMOVED",
          path: "Invoice.total",
          reason: "a different field",
          acceptedOn: "2026-12-01",
        },
      ],
    });
    expect(report.ok).toBe(false);
    expect(report.unaccepted.map((c) => c.path)).toEqual(["Invoice.legacy"]);
  });

  it("reports deprecations (added, and all in the schema) and additions, without failing", async () => {
    const next = base
      .replace("legacy: String", 'legacy: String @deprecated(reason: "use total")')
      .replace("DRAFT ISSUED", "DRAFT ISSUED VOID");
    const report = await checkSchemaChanges({ baseSdl: base, newSdl: next, accepted: [] });
    expect(report.ok).toBe(true);
    expect(report.deprecationChanges.map((c) => `${c.type} ${c.path}`)).toEqual([
      "FIELD_DEPRECATION_ADDED Invoice.legacy.@deprecated",
    ]);
    expect(report.deprecated).toEqual([{ coordinate: "Invoice.legacy", reason: "use total" }]);
    expect(report.all.map((c) => c.type)).toContain("ENUM_VALUE_ADDED");
  });

  it("an accepted entry needs a reason and a date", () => {
    expect(
      acceptedChangesFileSchema.safeParse({
        accepted: [
          { type: "FIELD_REMOVED", path: "Invoice.legacy", reason: "", acceptedOn: "2026-12-01" },
        ],
      }).success,
    ).toBe(false);
    expect(
      acceptedChangesFileSchema.safeParse(
        JSON.parse(
          readFileSync(join(REPO_ROOT, "gateway", "schema-breaking-changes.json"), "utf8"),
        ),
      ).success,
    ).toBe(true);
  });
});

describe("npm run schema:check (the CLI CI runs)", () => {
  const dir = mkdtempSync(join(tmpdir(), "pshub-schema-check-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Today's composed API schema with one Query field more: to the check, the field was removed.
  const baseFile = join(dir, "base.graphql");
  writeFileSync(
    baseFile,
    `${readFileSync(API_SCHEMA_PATH, "utf8")}\nextend type Query {\n  removedForTest: String\n}\n`,
  );
  const run = (env: Record<string, string>) =>
    spawnSync(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "gateway/src/schema-check-cli.ts")],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, SCHEMA_BASE_FILE: baseFile, ...env },
        encoding: "utf8",
        timeout: 60_000,
      },
    );

  it("fails on the unaccepted removal, naming it", () => {
    const result = run({});
    expect(result.stdout).toContain("FIELD_REMOVED Query.removedForTest");
    expect(result.stdout).toContain("schema check FAILED");
    expect(result.status).toBe(1);
  }, 60_000);

  it("passes once the removal is listed with a reason", () => {
    const accepted = join(dir, "accepted.json");
    writeFileSync(
      accepted,
      JSON.stringify({
        accepted: [
          {
            type: "FIELD_REMOVED",
            path: "Query.removedForTest",
            reason: "a test field nobody ever used",
            acceptedOn: "2026-12-01",
          },
        ],
      }),
    );
    const result = run({ SCHEMA_ACCEPTED_FILE: accepted });
    expect(result.stdout).toContain("accepted: a test field nobody ever used");
    expect(result.stdout).toContain("Customer.unbilled");
    expect(result.stdout).toContain("schema check ok");
    expect(result.status).toBe(0);
  }, 60_000);

  it("refuses an accepted file whose entry has no reason", () => {
    const accepted = join(dir, "no-reason.json");
    writeFileSync(
      accepted,
      JSON.stringify({
        accepted: [
          {
            type: "FIELD_REMOVED",
            path: "Query.removedForTest",
            reason: "",
            acceptedOn: "2026-12-01",
          },
        ],
      }),
    );
    const result = run({ SCHEMA_ACCEPTED_FILE: accepted });
    expect(result.stderr).toContain("reason");
    expect(result.status).toBe(1);
  }, 60_000);
});
