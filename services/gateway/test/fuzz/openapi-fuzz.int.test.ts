import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRun } from '../support/fake-connector';
import { OPERATOR_TOKEN, startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const CONFIG = fileURLToPath(new URL('./schemathesis.toml', import.meta.url));
// Each run's full output is kept here (like the browser test's screenshots).
const RESULTS_DIR = join(ROOT, 'test-results/gateway');
// The checks that mean "no 5xx and no schema violation". Left out: positive_data_acceptance (a
// schema-valid id of a run that does not exist is rightly a 404) and the stateful/auth-probing
// checks (use_after_free, ensure_resource_availability, ignored_auth: the auth tests cover those).
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'response_headers_conformance',
  'negative_data_rejection',
  'missing_required_header',
  'unsupported_method',
].join(',');

interface FuzzResult {
  code: number;
  output: string;
}

/** Runs `st run` against a listening gateway; never rejects (the exit code and output are the result). */
function runSchemathesis(st: string, url: string, token: string, schoolId: string, reportDir: string) {
  return new Promise<FuzzResult>((done) => {
    execFile(
      st,
      [
        '--config-file',
        CONFIG,
        'run',
        `${url}/api/v1/openapi.json`,
        '--checks',
        CHECKS,
        '--phases',
        'examples,coverage,fuzzing',
        '--workers',
        '1',
        '--report',
        'junit',
        '--report-dir',
        reportDir,
        '--seed',
        process.env.FUZZ_SEED ?? '20261203',
        '--max-examples',
        process.env.FUZZ_MAX_EXAMPLES ?? '25',
      ],
      {
        env: {
          ...process.env,
          FUZZ_TOKEN: token,
          FUZZ_SCHOOL_ID: schoolId,
          SCHEMATHESIS_HOOKS: '',
        },
        // Its example cache (.schemathesis/) goes to the run's temporary directory, not the repo.
        cwd: reportDir,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 600_000,
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        done({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

describe('property-based fuzzing of the admin and operator APIs from their OpenAPI documents (schemathesis, real FerretDB)', () => {
  let st: string;
  let h: GatewayHarness;
  let token: string;
  let reportDir: string;

  beforeAll(async () => {
    // The project's own script installs the pinned schemathesis into .cache/ (once).
    st = execFileSync('bash', [join(ROOT, 'tools/fuzz/ensure-schemathesis.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    // A generous general limit: the fuzzer sends thousands of requests with one credential.
    h = await startGatewayHarness({
      GATEWAY_RATE_LIMIT_PER_MINUTE: '1000000',
      GATEWAY_RATE_LIMIT_EXPENSIVE_PER_MINUTE: '1000000',
      GATEWAY_SSE_MAX_LIFETIME_MS: '2s',
    });
    await h.app.start();
    token = (await h.issueToken('school-a', 'fuzz')).token;
    h.connector.runs.set('school-a', [sampleRun({ syncRunId: 'run-1' })]);
    reportDir = mkdtempSync(join(tmpdir(), 'gateway-fuzz-'));
  }, 600_000);
  afterAll(async () => {
    await h?.close();
    if (reportDir) rmSync(reportDir, { recursive: true, force: true });
  });

  const keep = (name: string, result: FuzzResult) => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(join(RESULTS_DIR, `schemathesis-${name}.txt`), result.output);
    return Number(/(\d+) generated/.exec(result.output)?.[1] ?? 0);
  };
  const failures = (result: FuzzResult) => {
    let junit = '';
    try {
      junit = readFileSync(join(reportDir, 'junit.xml'), 'utf8');
    } catch {
      // no report: the output says why
    }
    return `${result.output.slice(-20_000)}\n${junit.slice(0, 20_000)}`;
  };

  // [API, report name, port, credential, at least this many requests generated]
  it.each([
    ['public admin API', 'public', (): number => h.app.httpPort, (): string => token, 500],
    ['operator API', 'operator', (): number => h.app.operatorPort, (): string => OPERATOR_TOKEN, 50],
  ] as const)(
    'finds no 5xx and no response that violates the document on the %s',
    async (_api, name, port, credential, least) => {
      const result = await runSchemathesis(
        st,
        `http://127.0.0.1:${port()}`,
        credential(),
        'school-a',
        reportDir,
      );
      const generated = keep(name, result);
      expect(result.code, failures(result)).toBe(0);
      expect(generated).toBeGreaterThan(least);
    },
    900_000,
  );
});
