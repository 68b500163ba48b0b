/**
 * API keys for service clients. A key is `pshub_` + 32 random bytes (base64url); only its
 * SHA-256 is stored (a key has 256 bits of entropy, so a fast hash is enough — the same choice
 * GitHub makes for its tokens; a slow password hash would only cost the gateway time per request).
 *
 *   const { key } = await createApiKey(db, { name: "netsuite-sync", roles: ["integration"] });
 *   const found = await findApiKey(db, key);        // null when unknown or revoked
 *   await revokeApiKey(db, "netsuite-sync");
 */
import { createHash, randomBytes } from "node:crypto";
import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { apiKey } from "./schema.ts";

export const API_KEY_PREFIX = "pshub_";

export interface ApiKeyRecord {
  id: string;
  name: string;
  keyPrefix: string;
  roles: string[];
  /** null = every legal entity. */
  legalEntities: string[] | null;
  revoked: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX) && value.length > API_KEY_PREFIX.length + 20;
}

const columns = {
  id: apiKey.id,
  name: apiKey.name,
  keyPrefix: apiKey.keyPrefix,
  roles: apiKey.roles,
  legalEntities: apiKey.legalEntities,
  revoked: apiKey.revoked,
  createdAt: apiKey.createdAt,
  lastUsedAt: apiKey.lastUsedAt,
};

export class ApiKeyNameTakenError extends Error {
  override name = "ApiKeyNameTakenError";
}

/** Creates a key; the returned `key` is the only time it is ever visible. */
export async function createApiKey(
  db: Db,
  input: { name: string; roles: readonly string[]; legalEntities?: readonly string[] | null },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  try {
    const [record] = await db
      .insert(apiKey)
      .values({
        name: input.name,
        keyHash: hashApiKey(key),
        keyPrefix: key.slice(0, API_KEY_PREFIX.length + 6),
        roles: [...input.roles],
        legalEntities: input.legalEntities ? [...input.legalEntities] : null,
      })
      .returning(columns);
    return { key, record: record as ApiKeyRecord };
  } catch (error) {
    const code = (error as { code?: string; cause?: { code?: string } }).cause?.code;
    if (code === "23505" || (error as { code?: string }).code === "23505")
      throw new ApiKeyNameTakenError(`an API key named "${input.name}" already exists`, {
        cause: error,
      });
    throw error;
  }
}

/** The live (not revoked) key with this secret, or null. */
export async function findApiKey(db: Db, key: string): Promise<ApiKeyRecord | null> {
  if (!looksLikeApiKey(key)) return null;
  const [record] = await db
    .select(columns)
    .from(apiKey)
    .where(and(eq(apiKey.keyHash, hashApiKey(key)), eq(apiKey.revoked, false)));
  return (record as ApiKeyRecord | undefined) ?? null;
}

/** Records a use; writes at most once a minute per key (a busy client is not a write per call). */
export async function touchApiKey(db: Db, id: string): Promise<void> {
  await db
    .update(apiKey)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(apiKey.id, id),
        or(isNull(apiKey.lastUsedAt), lt(apiKey.lastUsedAt, sql`now() - interval '1 minute'`)),
      ),
    );
}

/** Revokes the named key; false when there is no live key of that name. */
export async function revokeApiKey(db: Db, name: string): Promise<boolean> {
  const rows = await db
    .update(apiKey)
    .set({
      revoked: true,
      revokedAt: sql`now()`,
      updatedAt: sql`now()`,
      version: sql`${apiKey.version} + 1`,
    })
    .where(and(eq(apiKey.name, name), eq(apiKey.revoked, false)))
    .returning({ id: apiKey.id });
  return rows.length > 0;
}

export async function listApiKeys(db: Db): Promise<ApiKeyRecord[]> {
  return (await db.select(columns).from(apiKey).orderBy(apiKey.name)) as ApiKeyRecord[];
}
