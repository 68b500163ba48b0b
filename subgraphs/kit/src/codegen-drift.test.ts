/**
 * The drift gate for generated resolver types: runs root codegen.ts in memory and compares every
 * output with the committed file (`npm run codegen` fixes a failure).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { generate } from "@graphql-codegen/cli";
import { expect, it } from "vitest";
import config from "../../../codegen.ts";

const root = path.resolve(import.meta.dirname, "../../..");

it("generated files match `npm run codegen`", async () => {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const outputs = await generate({ ...config, silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      const committed = readFileSync(path.resolve(root, output.filename), "utf8");
      expect(committed, `${output.filename} is stale: run npm run codegen`).toBe(output.content);
    }
  } finally {
    process.chdir(cwd);
  }
});
