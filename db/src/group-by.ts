/** Items by key, in input order (a push per item, not a copy of the list so far). Node 20 has no
 *  `Map.groupBy`; the sync applier and the subgraphs' batch loaders share this one. */
export function groupBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = out.get(key);
    if (list) list.push(item);
    else out.set(key, [item]);
  }
  return out;
}
