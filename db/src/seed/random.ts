/**
 * Deterministic randomness for the seed: one pure-rand xoroshiro128+ stream per seed value, so the
 * same seed always produces the same firm, byte for byte (ids and timestamps included).
 */
import { type RandomGenerator, xoroshiro128plus } from "pure-rand";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export class Random {
  private readonly rng: RandomGenerator;

  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed);
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    return this.rng.unsafeNext() >>> 0;
  }

  /** A uniform float in [0, 1) (for choices only, never for money). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }

  /** Picks by weight: `weighted([["A", 3], ["B", 1]])` returns "A" three times as often. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((sum, [, w]) => sum + w, 0);
    let roll = this.next() * total;
    for (const [value, weight] of choices) {
      roll -= weight;
      if (roll < 0) return value;
    }
    const last = choices[choices.length - 1];
    if (!last) throw new Error("weighted pick from an empty list");
    return last[0];
  }

  /** `count` distinct items, in a deterministic order. */
  sample<T>(items: readonly T[], count: number): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy.slice(0, Math.min(count, copy.length));
  }

  /** A version-4-shaped UUID drawn from this stream. */
  uuid(): string {
    const b: number[] = [];
    for (let i = 0; i < 4; i++) {
      const n = this.uint32();
      b.push(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
    }
    b[6] = ((b[6] as number) & 0x0f) | 0x40;
    b[8] = ((b[8] as number) & 0x3f) | 0x80;
    const h = b.map((x) => HEX[x]).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** `length` base-62 characters. */
  base62(length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) out += BASE62[this.uint32() % 62];
    return out;
  }
}

/**
 * The `n`-th Salesforce 18-character record id of an object: 3-character key prefix (e.g. "001"
 * Account), a 12-character body, and the 3-character case-safe checksum Salesforce appends to the 15-character id.
 */
export function salesforceId(keyPrefix: string, n: number): string {
  // n -> a scrambled but unique 6-character body (the prime 2^31 − 1 is coprime with 62^6).
  const offset = [...keyPrefix].reduce((h, c) => h * 131 + c.charCodeAt(0), 7) % 62 ** 6;
  let body = (n * 2_147_483_647 + offset) % 62 ** 6;
  let tail = "";
  for (let i = 0; i < 6; i++) {
    tail = BASE62[body % 62] + tail;
    body = Math.floor(body / 62);
  }
  const id15 = `${keyPrefix}5g0000${tail}`;
  return id15 + salesforceChecksum(id15);
}

export function salesforceChecksum(id15: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  let suffix = "";
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    suffix += alphabet[bits];
  }
  return suffix;
}
