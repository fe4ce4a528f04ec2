// Small statistics for benchmark rounds: the median is what we report (robust to one slow
// round), percentiles and min/max show the spread.

/** The p-th percentile (0..100) by linear interpolation between closest ranks. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p90: number;
}

export function summarize(values: readonly number[]): Summary {
  return { n: values.length, median: median(values), min: Math.min(...values), max: Math.max(...values), p90: percentile(values, 90) };
}

/** "1234 ms" below 10 s, "12.3 s" above. */
export function formatMs(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "median 123 ms (min 120 ms, max 130 ms, n=10)". */
export function formatSummary(s: Summary): string {
  return `median ${formatMs(s.median)} (min ${formatMs(s.min)}, max ${formatMs(s.max)}, n=${s.n})`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
