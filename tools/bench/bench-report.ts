/**
 * docs/benchmarks.md from one `npm run bench` run: a pure function of the run's record, so a saved
 * record (`.cache/bench/last-run.json`) can be rendered again (`npm run bench -- --render <file>`).
 */
import { median, type BenchRow } from '../system-client/bench-output';
import { goalsSection } from './bench-goals';

/** What a row ran on: a FerretDB backend, real MongoDB, or no database at all. */
export type BackendLabel = 'sqlite' | 'postgresql' | 'mongodb' | 'none';

export interface BenchResult {
  readonly name: string;
  readonly script: string;
  readonly backend: BackendLabel;
  readonly run: number;
  readonly rows: BenchRow[];
}

export interface RunRecord {
  readonly date: string;
  readonly machine: string;
  readonly versions: string;
  readonly mode: string;
  /** How the database was chosen, one sentence. */
  readonly database: string;
  /** The backends the database scripts ran on, in run order (two → a side-by-side table). */
  readonly backends: BackendLabel[];
  readonly repeat: number;
  readonly wallMinutes: number;
  readonly timings: Array<[string, number]>;
  /** 1-minute load average at each script's start. */
  readonly loads: number[];
  readonly results: BenchResult[];
  readonly failures: string[];
}

export const BACKEND_TITLE: Record<BackendLabel, string> = {
  sqlite: 'SQLite',
  postgresql: 'PostgreSQL',
  mongodb: 'MongoDB',
  none: '— (no database)',
};

const BACKEND_ORDER: BackendLabel[] = ['none', 'mongodb', 'sqlite', 'postgresql'];

/** A row whose phase was cut off by its time limit (its value is a lower bound). */
export const isCutOff = (row: BenchRow): boolean => (row.note ?? '').startsWith('CUT OFF');

export function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  if (Math.abs(n) >= 100) return n.toFixed(0);
  return Math.abs(n) >= 1 || n === 0 ? n.toFixed(2) : n.toPrecision(3);
}

function groupByMetric(results: BenchResult[]): Array<Array<{ r: BenchResult; row: BenchRow }>> {
  const groups = new Map<string, Array<{ r: BenchResult; row: BenchRow }>>();
  for (const r of results) {
    for (const row of r.rows) {
      const key = `${r.name}\u0000${row.metric}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push({ r, row });
    }
  }
  return [...groups.values()];
}

/** Every row, each naming its backend (and run), grouped so a metric's backends and runs sit together. */
function everyRow(record: RunRecord): string[] {
  const runs = record.repeat > 1;
  return [
    `| benchmark | backend${runs ? ' | run' : ''} | metric | value | baseline | ratio | note |`,
    `|---|---|${runs ? '---|' : ''}---|---|---|---|---|`,
    ...groupByMetric(record.results).flatMap((group) =>
      group
        .sort(
          (a, b) =>
            BACKEND_ORDER.indexOf(a.r.backend) - BACKEND_ORDER.indexOf(b.r.backend) || a.r.run - b.r.run,
        )
        .map(
          ({ r, row }) =>
            `| ${r.name} | ${BACKEND_TITLE[r.backend]}${runs ? ` | ${r.run}` : ''} | ${row.metric} | ${fmt(row.value)} ${row.unit} | ${row.baseline !== undefined ? `${fmt(row.baseline)} ${row.unit}` : ''} | ${row.ratio !== undefined ? `×${fmt(row.ratio)}` : ''} | ${row.note ?? ''} |`,
        ),
    ),
  ];
}

/**
 * Two backends side by side, per metric: each backend's ratio to its own same-run baseline, the
 * second's ratio ÷ the first's, and the second's value ÷ the first's (same run, back to back) — the
 * fairer figure where the baseline does not touch the database (a bare Kafka consumer) and so
 * swings with the machine's load rather than with the backend.
 */
function sideBySide(record: RunRecord): string[] {
  if (record.backends.length !== 2) return [];
  const [a, b] = record.backends as [BackendLabel, BackendLabel];
  const runs = Array.from({ length: record.repeat }, (_, i) => i + 1);
  const rows = groupByMetric(record.results.filter((r) => r.backend === a || r.backend === b)).filter(
    (g) => g.some(({ r }) => r.backend === a) && g.some(({ r }) => r.backend === b),
  );
  const pick = (group: Array<{ r: BenchResult; row: BenchRow }>, backend: BackendLabel, run: number) =>
    group.find(({ r }) => r.backend === backend && r.run === run)?.row;
  const perRun = (f: (run: number) => string) => runs.map(f).join(' / ');
  const quotient = (x: number | undefined, y: number | undefined) =>
    x === undefined || y === undefined || x === 0 ? '–' : fmt(y / x);
  const better = (note: string, unit: string) =>
    /higher is better|per second|per hour|throughput/i.test(note) || /\/(s|h)$/.test(unit)
      ? 'higher'
      : 'lower';
  const [ta, tb] = [BACKEND_TITLE[a], BACKEND_TITLE[b]];
  const loads = record.loads;
  return [
    `## ${ta} and ${tb} side by side`,
    '',
    `Ratios only (the machine is shared and noisy). Per metric: each backend's ratio to its own same-run baseline; ` +
      `${tb}'s ratio ÷ ${ta}'s; and ${tb}'s value ÷ ${ta}'s value, measured back to back in the same run` +
      `${record.repeat > 1 ? ` — ${record.repeat} runs (a / b), interleaved: every script ran on both backends before the next run` : ''}. ` +
      `Both quotients below 1 mean ${tb} did better where lower is better (times, memory), above 1 where higher is better (rates). ` +
      `Where the baseline does not touch the database (e.g. a bare Kafka consumer) it moves with the machine's load, not the backend: read the value quotient there. ` +
      `Load average (1 min) at each script's start: min ${fmt(Math.min(...loads))}, median ${fmt(median(loads))}, max ${fmt(Math.max(...loads))} on ${record.machine.split(',')[0]}.`,
    '',
    `| benchmark | metric | better | ${ta} ratio | ${tb} ratio | ${tb} ÷ ${ta} (ratios) | ${tb} ÷ ${ta} (values) |`,
    '|---|---|---|---|---|---|---|',
    ...rows.map((group) => {
      const { r, row } = group[0]!;
      const ratio = (backend: BackendLabel) =>
        perRun((run) => {
          const picked = pick(group, backend, run);
          if (picked !== undefined && isCutOff(picked))
            return `cut off at ${fmt(picked.value)} ${picked.unit}`;
          return picked?.ratio === undefined ? '–' : `×${fmt(picked.ratio)}`;
        });
      // A cut-off value is a lower bound, so a quotient with it is a bound too.
      const valueQuotient = (run: number) => {
        const [x, y] = [pick(group, a, run), pick(group, b, run)];
        const q = quotient(x?.value, y?.value);
        return q === '–' ? q : x && isCutOff(x) ? `< ${q}` : y && isCutOff(y) ? `> ${q}` : q;
      };
      return `| ${r.name} | ${row.metric} | ${better(row.note ?? '', row.unit)} | ${ratio(a)} | ${ratio(b)} | ${perRun((run) => quotient(pick(group, a, run)?.ratio, pick(group, b, run)?.ratio))} | ${perRun(valueQuotient)} |`;
    }),
    '',
  ];
}

export function renderReport(record: RunRecord): string {
  const lines = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench` — do not edit by hand. Every figure is compared with a baseline measured in',
    'the same run on the same machine (ratio = value ÷ baseline, so for times lower is better and for',
    'throughputs higher is better; each row says which). Every row names the database backend it ran on.',
    'Quick mode (the default) runs every benchmark on smaller inputs, in under 10 minutes on the shared 2-core',
    'machine with one database backend; `npm run bench -- --full` runs the full sizes, among them the',
    '200-school load and the large school end to end (see the Mode line for the sizes of this run).',
    '',
    `- Date: ${record.date}`,
    `- Machine: ${record.machine}`,
    `- Versions: ${record.versions}`,
    `- Mode: ${record.mode}`,
    `- Database: ${record.database}`,
    `- Wall time: ${record.wallMinutes.toFixed(1)} min (${record.timings.map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')})`,
    '',
    ...goalsSection(record, record.mode.startsWith('full')),
    ...sideBySide(record),
    ...(record.backends.length > 1 ? ['## Every row', ''] : []),
    ...everyRow(record),
    '',
  ];
  if (record.failures.length)
    lines.push('## Failed benchmark scripts', '', ...record.failures.map((f) => `- ${f}`), '');
  return lines.join('\n');
}
