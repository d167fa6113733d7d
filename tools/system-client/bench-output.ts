/**
 * The benchmark-script contract of tools/bench/run-all.ts: with `--json`, the last stdout line is
 * `{"name","rows":[{"metric","value","unit","baseline","ratio","note"}]}`; progress goes to stderr.
 */
export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  note?: string;
}

/** A row with its ratio (value ÷ baseline) filled in and figures rounded to 3 significant places. */
export function row(
  metric: string,
  value: number,
  unit: string,
  baseline: number | undefined,
  note: string,
): BenchRow {
  return {
    metric,
    value: round(value),
    unit,
    ...(baseline === undefined ? {} : { baseline: round(baseline), ratio: round(value / baseline) }),
    note,
  };
}

export function emitResult(name: string, rows: BenchRow[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ name, rows })}\n`);
    return;
  }
  process.stdout.write(`${name}\n`);
  for (const r of rows)
    process.stdout.write(
      `  ${r.metric}: ${r.value} ${r.unit}${r.ratio !== undefined ? ` (baseline ${r.baseline} ${r.unit}, ×${r.ratio})` : ''} — ${r.note ?? ''}\n`,
    );
}

/** The p-th percentile (nearest rank) of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The median of a list in any order (of an even count, the upper middle one: always a measured value). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

export function round(n: number): number {
  if (!Number.isFinite(n) || n === 0) return n;
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(n))));
  return Number(n.toFixed(Math.min(digits, 6)));
}

/** `--name value` from argv. */
export function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export function progress(tag: string): (line: string) => void {
  const t0 = Date.now();
  return (line) => process.stderr.write(`[${tag} +${((Date.now() - t0) / 1000).toFixed(0)}s] ${line}\n`);
}
