/**
 * The gateway's authenticator on its own: JWKS tokens (RS256, ES256) from a JWKS served on a
 * local port, with the issuer rotating its keys; algorithm and claim checks; development mode.
 * (HTTP and WebSocket refusals end to end: test/auth.test.ts.)
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthenticator } from "./auth.ts";

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;

let jwksServer: Server;
let jwksUrl: string;
let published: JWK[] = [];
let fetches = 0;

async function keyPair(alg: "RS256" | "ES256", kid: string) {
  const keys: Keys = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(keys.publicKey)), kid, alg, use: "sig" };
  return { alg, kid, keys, jwk };
}

function sign(
  key: Awaited<ReturnType<typeof keyPair>>,
  claims: Record<string, unknown> = { roles: ["analyst"] },
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setSubject("bi@firm.test")
    .setIssuer("https://idp.example")
    .setAudience("pshub")
    .setExpirationTime("5m")
    .sign(key.keys.privateKey);
}

beforeAll(async () => {
  jwksServer = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
});

describe("JWKS", () => {
  it("verifies RS256 and ES256 tokens and follows the issuer's key rotation", async () => {
    const first = await keyPair("RS256", "2026-11-a");
    const second = await keyPair("RS256", "2026-12-b");
    const ec = await keyPair("ES256", "ec-1");
    published = [first.jwk, ec.jwk];
    const authenticate = createAuthenticator({
      jwksUrl,
      issuer: "https://idp.example",
      audience: "pshub",
      jwksCooldownMs: 0,
      jwksCacheMaxAgeMs: 300,
    });
    expect(authenticate.mode).toBe("production");
    const bearer = async (token: Promise<string>) =>
      authenticate({ authorization: `Bearer ${await token}` });

    expect(await bearer(sign(first))).toEqual({
      ok: true,
      principal: { id: "bi@firm.test", roles: ["analyst"], method: "jwt" },
    });
    expect((await bearer(sign(ec, { roles: ["finance"], legalEntities: ["US"] }))).ok).toBe(true);
    // A key the JWKS does not (yet) hold.
    expect((await bearer(sign(second))).ok).toBe(false);

    // Rotation: the issuer publishes the new key and drops the old one.
    published = [second.jwk];
    const fetchesBefore = fetches;
    expect((await bearer(sign(second))).ok).toBe(true);
    expect(fetches).toBeGreaterThan(fetchesBefore);
    // Once the cached set is stale, the retired key is refused.
    await new Promise((resolve) => setTimeout(resolve, 400));
    const retired = await bearer(sign(first));
    expect(retired.ok).toBe(false);
    expect(retired.ok === false && retired.message).toMatch(/no applicable key|key/i);
  });

  it("refuses an HS256 token when only a JWKS is configured, and malformed claims", async () => {
    const key = await keyPair("RS256", "k");
    published = [key.jwk];
    const authenticate = createAuthenticator({ jwksUrl, issuer: "https://idp.example" });
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("x")
      .setIssuer("https://idp.example")
      .setAudience("pshub")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode("s".repeat(40)));
    expect((await authenticate({ authorization: `Bearer ${hs}` })).ok).toBe(false);
    const badRoles = await authenticate({
      authorization: `Bearer ${await sign(key, { roles: "admin" })}`,
    });
    expect(badRoles).toEqual({
      ok: false,
      message: "token claim `roles` must be an array of role names",
    });
    const badScope = await authenticate({
      authorization: `Bearer ${await sign(key, { roles: [], legalEntities: "US" })}`,
    });
    expect(badScope.ok).toBe(false);
  });
});

describe("modes", () => {
  it("development mode trusts the principal headers, and still refuses a bad token", async () => {
    const authenticate = createAuthenticator();
    expect(authenticate.mode).toBe("development");
    expect(
      await authenticate({
        "x-pshub-principal": "alice",
        "x-pshub-roles": "finance, sales",
        "x-pshub-legal-entities": "UK",
      }),
    ).toEqual({
      ok: true,
      principal: {
        id: "alice",
        roles: ["finance", "sales"],
        legalEntities: ["UK"],
        method: "development",
      },
    });
    // No header at all: anonymous, read-only (analyst), not admin.
    expect(await authenticate({})).toEqual({
      ok: true,
      principal: { id: "anonymous", roles: ["analyst"], method: "development" },
    });
    // Named roles are trusted as sent (development only); the default can be configured.
    expect(await createAuthenticator({ developmentRoles: ["admin"] })({})).toMatchObject({
      principal: { roles: ["admin"] },
    });
    expect((await authenticate({ authorization: "Bearer nonsense" })).ok).toBe(false);
  });

  it("production mode can be asked for without a JWT secret (API keys only)", async () => {
    const authenticate = createAuthenticator({ mode: "production" });
    expect(await authenticate({ "x-pshub-principal": "alice" })).toEqual({
      ok: false,
      message: "authentication required: send `Authorization: Bearer <token>` or `x-api-key`",
    });
    expect((await authenticate({ "x-api-key": "pshub_whatever" })).ok).toBe(false);
  });
});
