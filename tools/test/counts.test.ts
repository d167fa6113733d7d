import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain ESM module of the test runner (no types): it runs before any TypeScript loader.
import { passCounts, summarise } from './counts.mjs';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  exitCode: number;
}
const pass = passCounts as (report: unknown, exitCode: number) => Counts;
const sum = summarise as (passes: Counts[]) => { lines: string[]; exitCode: number };

describe('the closing line of npm test', () => {
  it('adds the unit and integration passes up, skipped tests apart', () => {
    const unit = pass({ numPassedTests: 1753, numFailedTests: 0, numPendingTests: 0, testResults: [] }, 0);
    const integration = pass({ numPassedTests: 425, numFailedTests: 2, numTodoTests: 1, testResults: [] }, 1);
    expect(sum([unit, integration])).toEqual({ lines: ['2178 passed, 2 failed, 1 skipped'], exitCode: 1 });
  });

  it('counts a test file that failed to load, and runtime errors, as failures', () => {
    const counts = pass(
      {
        numPassedTests: 3,
        numFailedTests: 0,
        numRuntimeErrors: 1,
        testResults: [
          { status: 'failed', assertionResults: [] },
          { status: 'passed', assertionResults: [{}] },
        ],
      },
      1,
    );
    expect(counts).toMatchObject({ passed: 3, failed: 2 });
  });

  it('counts a failing exit with no failed test (the coverage gate, a crash, no report) as one failure', () => {
    expect(pass({ numPassedTests: 1753, testResults: [] }, 1)).toMatchObject({ passed: 1753, failed: 1 });
    expect(pass(undefined, 137)).toMatchObject({ passed: 0, failed: 1, exitCode: 137 });
    expect(sum([pass({ numPassedTests: 5, testResults: [] }, 1)])).toEqual({
      lines: ['5 passed, 1 failed'],
      exitCode: 1,
    });
  });

  it('fails a run in which no test ran', () => {
    expect(sum([pass({ numPassedTests: 0, testResults: [] }, 0)])).toEqual({
      lines: ['no tests ran', '0 passed, 1 failed'],
      exitCode: 1,
    });
  });

  it('passes with exit 0 when every pass passed', () => {
    expect(sum([pass({ numPassedTests: 7, testResults: [] }, 0)])).toEqual({
      lines: ['7 passed, 0 failed'],
      exitCode: 0,
    });
  });
});
