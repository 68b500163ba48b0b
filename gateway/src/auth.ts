/**
 * Who is asking. With GATEWAY_JWT_SECRET set, the principal is the `sub` of an HS256 bearer
 * token (`Authorization: Bearer …`, checked for signature, expiry and, when configured, issuer
 * and audience); a client-sent `x-pshub-principal` is then ignored, so it cannot be spoofed. A
 * request without a token is "anonymous"; a bad token is refused (401 UNAUTHENTICATED).
 * Without a secret (development), the `x-pshub-principal` header is trusted as given.
 */
import type { IncomingHttpHeaders } from "node:http";
import { jwtVerify } from "jose";

export interface AuthOptions {
  jwtSecret?: string;
  issuer?: string;
  audience?: string;
}

export type AuthResult = { ok: true; principal: string } | { ok: false; message: string };

export type Authenticator = (headers: IncomingHttpHeaders) => Promise<AuthResult>;

export const PRINCIPAL_HEADER_NAME = "x-pshub-principal";

export function createAuthenticator(options: AuthOptions = {}): Authenticator {
  const key = options.jwtSecret ? new TextEncoder().encode(options.jwtSecret) : undefined;
  return async (headers) => {
    if (!key) {
      const claimed = headers[PRINCIPAL_HEADER_NAME];
      return {
        ok: true,
        principal: typeof claimed === "string" && claimed.trim() ? claimed.trim() : "anonymous",
      };
    }
    const authorization = headers.authorization;
    if (!authorization) return { ok: true, principal: "anonymous" };
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match?.[1]) return { ok: false, message: "Authorization must be `Bearer <token>`" };
    try {
      const { payload } = await jwtVerify(match[1], key, {
        algorithms: ["HS256"],
        issuer: options.issuer,
        audience: options.audience,
      });
      if (typeof payload.sub !== "string" || !payload.sub)
        return { ok: false, message: "token has no subject" };
      return { ok: true, principal: payload.sub };
    } catch (error) {
      return { ok: false, message: `invalid token: ${(error as Error).message}` };
    }
  };
}
