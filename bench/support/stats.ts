/** Small statistics for bench tables: medians and "median (min–max)" cells. */

export function median(values: number[]): number {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (!sorted.length) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** `median (min–max)`, each formatted by `format`; one value alone is printed without a spread. */
export function spread(values: number[], format: (value: number) => string): string {
  const finite = values.filter((value) => Number.isFinite(value));
  if (!finite.length) return "—";
  if (finite.length === 1) return format(finite[0] as number);
  return `${format(median(finite))} (${format(Math.min(...finite))}–${format(Math.max(...finite))})`;
}
