/**
 * Demo tokens for development/sandbox mode: `npm start` signs one per role with the secret it
 * generated for the run, and prints them, so an analyst can try what each role sees (paste
 * `{ "Authorization": "Bearer <token>" }` into the IDE's headers editor).
 */
import { ROLES } from "@pshub/db";
import { SignJWT } from "jose";
import { DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER } from "./auth.ts";

export interface DemoToken {
  /** A role name, or `<role>-<legal entity>` for a scoped example. */
  label: string;
  subject: string;
  roles: string[];
  legalEntities?: string[];
  token: string;
}

export async function demoTokens(options: {
  secret: string;
  issuer?: string;
  audience?: string;
  /** Lifetime (jose time span), default 12 h. */
  expiresIn?: string;
}): Promise<DemoToken[]> {
  const key = new TextEncoder().encode(options.secret);
  const specs: Omit<DemoToken, "token">[] = [
    ...ROLES.map((role) => ({ label: role, subject: `${role}@demo.pshub`, roles: [role] })),
    // One scoped principal: finance for the demo firm's UK legal entity (code AR-UK) only.
    {
      label: "finance-uk",
      subject: "finance-uk@demo.pshub",
      roles: ["finance"],
      legalEntities: ["AR-UK"],
    },
  ];
  return Promise.all(
    specs.map(async (spec) => ({
      ...spec,
      token: await new SignJWT({
        roles: spec.roles,
        ...(spec.legalEntities ? { legalEntities: spec.legalEntities } : {}),
      })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(spec.subject)
        .setIssuer(options.issuer ?? DEFAULT_JWT_ISSUER)
        .setAudience(options.audience ?? DEFAULT_JWT_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? "12h")
        .sign(key),
    })),
  );
}

/** The block `npm start` prints. */
export function formatDemoTokens(tokens: DemoToken[]): string {
  const width = Math.max(...tokens.map((t) => t.label.length));
  return [
    "Demo tokens (development mode; this run only, valid 12 h). To act as a role, put this in the",
    'IDE\'s headers editor (or send it with curl -H): { "Authorization": "Bearer <token>" }',
    ...tokens.map((t) => `  ${t.label.padEnd(width)}  ${t.token}`),
    "",
  ].join("\n");
}
