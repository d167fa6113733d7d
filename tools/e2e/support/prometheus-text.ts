/** One sample of a Prometheus text exposition: `name{labels} value`. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/;

const unescape = (v: string) => v.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));

/**
 * Parses the Prometheus text format (version 0.0.4, what prom-client writes): comments and blank
 * lines are skipped; label values are unescaped (`\"`, `\\`, `\n`); a line that does not parse throws
 * (a malformed exposition is a failure, not something to skip).
 */
export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = NAME.exec(line)?.[0];
    if (name === undefined) throw new Error(`exposition line ${i + 1}: no metric name: ${line}`);
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1);
      while (!rest.trimStart().startsWith('}')) {
        const m = LABEL.exec(rest);
        if (!m) throw new Error(`exposition line ${i + 1}: bad labels: ${line}`);
        labels[m[1]!] = unescape(m[2]!);
        rest = rest.slice(m[0].length);
      }
      rest = rest.trimStart().slice(1);
    }
    const [valueText] = rest.trim().split(/\s+/);
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (valueText === undefined || valueText === '' || (Number.isNaN(value) && valueText !== 'NaN'))
      throw new Error(`exposition line ${i + 1}: bad value: ${line}`);
    out.push({ name, labels, value });
  }
  return out;
}

/** The samples of `name` whose labels include every pair of `labels`. */
export function samplesOf(
  samples: readonly PromSample[],
  name: string,
  labels: Record<string, string> = {},
): PromSample[] {
  return samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** The value of the one sample of `name` with `labels`; undefined when there is none (throws on several). */
export function valueOf(
  samples: readonly PromSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samplesOf(samples, name, labels);
  if (found.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples, expected one`);
  return found[0]?.value;
}
