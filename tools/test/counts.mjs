// The arithmetic behind the line CI reads (`N passed, N failed`), apart from the processes that
// produce its inputs so it can be unit-tested (tools/test/counts.test.ts).

/**
 * One vitest pass's counts from its JSON report (`undefined` when vitest wrote none) and its exit code.
 * A file that fails to load counts as a failure even when vitest reports no failed test, and a
 * non-zero exit with no failure counted (set-up, teardown, a crash, the coverage gate) counts as one.
 */
export function passCounts(report, exitCode) {
  const counts = { passed: 0, failed: 0, skipped: 0, exitCode };
  if (report !== undefined) {
    counts.passed = report.numPassedTests ?? 0;
    counts.failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrors ?? 0);
    counts.skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    counts.failed += (report.testResults ?? []).filter(
      (r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0,
    ).length;
  }
  if (exitCode !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

/** The passes added up: the closing line and the process's exit code. No test at all is a failure. */
export function summarise(passes) {
  const passed = passes.reduce((n, p) => n + p.passed, 0);
  let failed = passes.reduce((n, p) => n + p.failed, 0);
  const skipped = passes.reduce((n, p) => n + p.skipped, 0);
  const failedExit = passes.find((p) => p.exitCode !== 0)?.exitCode;
  const lines = [];
  if (passed + failed === 0) {
    lines.push('no tests ran');
    failed = 1;
  }
  lines.push(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return { lines, exitCode: failedExit ?? (failed > 0 ? 1 : 0) };
}
