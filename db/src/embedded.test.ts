import { mkdtempSync, rmSync, statSync } from "node:fs";
import { chmod } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { allowTraverse } from "./embedded.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pshub-traverse-"));
  dirs.push(dir);
  return dir;
}

describe("allowTraverse (the embedded cluster's parent folder)", () => {
  it("keeps a shared folder's sticky, world-writable mode (a data folder directly under /tmp)", async () => {
    const dir = tempDir();
    await chmod(dir, 0o1777);
    await allowTraverse(dir);
    expect(statSync(dir).mode & 0o7777).toBe(0o1777);
  });

  it("adds read and enter for others to a private folder, and nothing else", async () => {
    const dir = tempDir();
    await chmod(dir, 0o700);
    await allowTraverse(dir);
    expect(statSync(dir).mode & 0o7777).toBe(0o755);
  });
});
