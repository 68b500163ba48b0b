/**
 * Per-principal rate limits (rate-limiter-flexible, in memory: each gateway process counts its
 * own callers; a shared store — its Redis or Postgres limiter — would count across processes).
 * HTTP requests and WebSocket subscribes consume from the same budget: over it, HTTP answers 429
 * with Retry-After and a subscribe gets a `RATE_LIMITED` error with `retryAfterSeconds`.
 */
import type { Principal } from "@pshub/db";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

export interface RateLimitOptions {
  /** Operations a principal may run per window; 0 turns the limit off. */
  points: number;
  windowSeconds: number;
}

type RateLimitDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiter {
  consume(principal: Principal, remoteAddress?: string): Promise<RateLimitDecision>;
}

export const RATE_LIMITED = "RATE_LIMITED";

/**
 * Whose budget a request spends: a verified principal's own; anonymous development callers
 * share one per address.
 */
function rateLimitKey(principal: Principal, remoteAddress = "unknown"): string {
  return principal.method === "development" && principal.id === "anonymous"
    ? `anonymous@${remoteAddress}`
    : `${principal.method}:${principal.id}`;
}

export function createRateLimiter(options: RateLimitOptions | undefined): RateLimiter {
  if (!options || options.points <= 0) return { consume: async () => ({ ok: true }) };
  const limiter = new RateLimiterMemory({
    points: options.points,
    duration: options.windowSeconds,
  });
  return {
    async consume(principal, remoteAddress) {
      try {
        await limiter.consume(rateLimitKey(principal, remoteAddress));
        return { ok: true };
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
      }
    },
  };
}

export function rateLimitMessage(retryAfterSeconds: number): string {
  return `rate limit exceeded for this principal; retry after ${retryAfterSeconds} s`;
}
