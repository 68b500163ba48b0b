/**
 * The shortest way through a state machine from one state to another: a source that reports a
 * state several steps ahead (a PSA milestone already APPROVED while the hub has it OPEN) moves
 * through each step's own transition, so every rule and event of the steps applies.
 */
import type { StateMachine } from "../lifecycle/machines.ts";

/** States to pass through after `from`, ending with `to`; [] when equal; null when unreachable. */
export function statePath<S extends string>(
  m: StateMachine<S>,
  from: S | string,
  to: S | string,
): S[] | null {
  if (from === to) return [];
  const previous = new Map<string, string>();
  const queue: string[] = [from];
  const seen = new Set<string>([from]);
  while (queue.length > 0) {
    const state = queue.shift()!;
    for (const next of m.transitions[state as S] ?? []) {
      if (seen.has(next)) continue;
      seen.add(next);
      previous.set(next, state);
      if (next === to) {
        const path: S[] = [];
        for (let s: string | undefined = to; s !== undefined && s !== from; s = previous.get(s))
          path.unshift(s as S);
        return path;
      }
      queue.push(next);
    }
  }
  return null;
}
