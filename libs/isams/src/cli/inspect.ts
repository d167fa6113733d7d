import { createReadStream } from 'node:fs';
import { DATASET_IDS } from '../datasets';
import type { DatasetId } from '../datasets';
import { charsetOf, fetchBatch } from '../client/fetch-batch';
import { IsamsError } from '../errors/isams-error';
import { redactSecrets } from '../errors/redact';
import type { Finding } from '../parser/parse-events';
import { streamBatchDocument } from '../parser/stream-batch-document';
import { toTyped } from '../typed/to-typed';

/** What `inspect` reports per dataset (the `--json` shape). */
export interface InspectDataset {
  present: boolean;
  count: number;
  findings: Finding[];
}

/** The `--json` output of `inspect`. */
export interface InspectReport {
  datasets: Record<DatasetId, InspectDataset>;
  unknownContainers: string[];
  findings: Finding[];
  bytes: number;
  format: 'xml' | 'json';
}

/** Findings kept per dataset; the rest are counted in one ISAMS_FINDINGS_OMITTED finding. */
const MAX_FINDINGS = 500;

async function* prepend(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

/** Detects the format from the first non-blank character (after any BOM / UTF-16 zero bytes). */
function sniffFormat(head: Uint8Array): 'xml' | 'json' {
  for (const b of head) {
    if (b === 0x7b || b === 0x5b) return 'json';
    if (b === 0x3c) return 'xml';
  }
  return 'xml';
}

/**
 * Streams a document (never holding more than one record) and builds the inspection report:
 * presence, record count and findings (structural plus typed-view) per dataset.
 */
export async function inspectStream(
  input: AsyncIterable<Uint8Array>,
  format: 'xml' | 'json' | 'auto',
  maxBytes?: number,
  charset?: string,
): Promise<InspectReport> {
  let fmt: 'xml' | 'json' = format === 'auto' ? 'xml' : format;
  let source: AsyncIterable<Uint8Array> = input;
  if (format === 'auto') {
    const it = input[Symbol.asyncIterator]();
    const first = await it.next();
    if (!first.done) {
      fmt = sniffFormat(first.value.subarray(0, 64));
      source = prepend(first.value, it);
    } else source = (async function* () {})();
  }
  const datasets = Object.fromEntries(
    DATASET_IDS.map((id): [DatasetId, InspectDataset] => [id, { present: false, count: 0, findings: [] }]),
  ) as Record<DatasetId, InspectDataset>;
  const omitted = new Map<DatasetId, number>();
  const findings: Finding[] = [];
  const add = (f: Finding): void => {
    if (f.datasetId === undefined) {
      if (findings.length < MAX_FINDINGS) findings.push(f);
      return;
    }
    const list = datasets[f.datasetId].findings;
    if (list.length < MAX_FINDINGS) list.push(f);
    else omitted.set(f.datasetId, (omitted.get(f.datasetId) ?? 0) + 1);
  };
  for await (const event of streamBatchDocument(source, {
    format: fmt,
    ...(maxBytes === undefined ? {} : { maxBytes }),
    ...(charset === undefined ? {} : { charset }),
  })) {
    switch (event.type) {
      case 'dataset':
        datasets[event.datasetId].present = true;
        break;
      case 'record': {
        datasets[event.datasetId].count += 1;
        const typed = toTyped(event.datasetId, event.raw);
        if (typed.ok) typed.findings.forEach(add);
        else add(typed.finding);
        break;
      }
      case 'finding':
        add(event.finding);
        break;
      case 'end':
        for (const [datasetId, n] of omitted) {
          datasets[datasetId].findings.push({
            code: 'ISAMS_FINDINGS_OMITTED',
            datasetId,
            message: `${n} more findings omitted.`,
          });
        }
        return {
          datasets,
          unknownContainers: event.unknownContainers,
          findings,
          bytes: event.bytes,
          format: fmt,
        };
      default:
        break;
    }
  }
  throw new Error('inspect: document stream ended without an end event');
}

/** Human-readable table of an {@link InspectReport}. */
export function formatReport(report: InspectReport): string {
  const rows = DATASET_IDS.map((id) => {
    const d = report.datasets[id];
    const byCode = new Map<string, number>();
    for (const f of d.findings) byCode.set(f.code, (byCode.get(f.code) ?? 0) + 1);
    const summary = [...byCode].map(([code, n]) => `${code}×${n}`).join(', ');
    return [id, d.present ? 'yes' : 'ABSENT', String(d.count), summary || '-'];
  });
  const header = ['dataset', 'present', 'records', 'findings'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
  out.push('', `format: ${report.format}, ${report.bytes} bytes`);
  if (report.unknownContainers.length > 0)
    out.push(`other containers (not used): ${report.unknownContainers.join(', ')}`);
  for (const f of report.findings) out.push(`${f.code}: ${f.message}`);
  const details = DATASET_IDS.flatMap((id) =>
    report.datasets[id].findings
      .slice(0, 20)
      .map((f) => `  ${id}: ${f.code}${f.recordId ? ` [${f.recordId}]` : ''} ${f.message}`),
  );
  if (details.length > 0) out.push('', 'findings (first 20 per dataset; use --json for all):', ...details);
  return out.join('\n');
}

/** Where the CLI writes and what environment it reads. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

const USAGE = `usage: npm run isams -- inspect [--json] [--format xml|json] [--proxy URL] <file-or-url> [--key-env VAR]

  <file-or-url>  a saved Batch API document, or https://<school-host> (optionally with
                 /api/batch/1.0/xml.ashx or json.ashx); the key is read from the environment
                 variable named by --key-env (default ISAMS_API_KEY), never from the command line.
Exit code 0 when the document parsed; 1 with the error code on stderr otherwise; 2 on usage errors.`;

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'inspect') {
    io.stderr(USAGE);
    return command === '--help' || command === '-h' ? 0 : 2;
  }
  let json = false;
  let keyEnv = 'ISAMS_API_KEY';
  let format: 'xml' | 'json' | 'auto' = 'auto';
  let proxyUrl: string | undefined;
  let target: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--key-env') keyEnv = rest[++i] ?? '';
    else if (arg === '--format') format = rest[++i] === 'json' ? 'json' : 'xml';
    else if (arg === '--proxy') proxyUrl = rest[++i];
    else if (arg.startsWith('--')) {
      io.stderr(`unknown option ${arg}\n${USAGE}`);
      return 2;
    } else target = arg;
  }
  if (target === undefined) {
    io.stderr(USAGE);
    return 2;
  }
  try {
    let report: InspectReport;
    if (/^https?:\/\//i.test(target)) {
      const url = new URL(target);
      if ([...url.searchParams.keys()].some((k) => k.toLowerCase() === 'apikey')) {
        io.stderr(
          `Do not put the API key on the command line; set it in an environment variable and pass --key-env VAR.`,
        );
        return 2;
      }
      const apiKey = io.env[keyEnv];
      if (apiKey === undefined || apiKey.trim() === '') {
        io.stderr(`The environment variable ${keyEnv} (named by --key-env) is not set.`);
        return 2;
      }
      const fmt = format !== 'auto' ? format : /json\.ashx$/i.test(url.pathname) ? 'json' : 'xml';
      let nextReport = 5 * 1024 * 1024;
      const res = await fetchBatch({
        baseUrl: url.origin,
        apiKey,
        format: fmt,
        ...(proxyUrl === undefined ? {} : { proxyUrl }),
        connectTimeoutMs: 15_000,
        readTimeoutMs: 120_000,
        totalTimeoutMs: 600_000,
        maxBytes: 2 * 1024 ** 3,
        retry: { maxAttempts: 3, baseDelayMs: 2000, maxDelayMs: 15_000 },
        onProgress: (bytes, total) => {
          if (bytes >= nextReport) {
            nextReport += 5 * 1024 * 1024;
            const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
            io.stderr(`downloaded ${mb(bytes)} MB${total === undefined ? '' : ` of ${mb(total)} MB`}`);
          }
        },
      });
      // Read as the connector reads it: in the charset the response's Content-Type names.
      report = await inspectStream(res.body, fmt, undefined, charsetOf(res.contentType));
    } else {
      report = await inspectStream(createReadStream(target), format);
    }
    io.stdout(json ? JSON.stringify(report, null, 2) : formatReport(report));
    return 0;
  } catch (err) {
    if (err instanceof IsamsError) {
      io.stderr(`${err.code}: ${err.message}\nWhat to do: ${err.adminAction}`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    io.stderr(`ISAMS_INSPECT_FAILED: ${redactSecrets(String(e?.message ?? err), io.env[keyEnv])}`);
    return 1;
  }
}
