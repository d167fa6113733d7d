import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, '.cache/alert-rules');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{1,6} +(.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-'),
    ),
  );
}

/**
 * The chart's alert rules, rendered by `helm template` and unit-tested by `promtool test rules`
 * (tools/monitoring/test-alert-rules.sh; helm and promtool are built from the Go module proxy into
 * .cache/tools on first use, which takes minutes).
 */
describe('alert rules of the chart (promtool)', () => {
  let output = '';

  beforeAll(() => {
    output = execFileSync('bash', [join(ROOT, 'tools/monitoring/test-alert-rules.sh')], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
  }, 30 * 60_000);

  it('pass promtool check rules and every promtool unit test', () => {
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
    expect(output).toMatch(/alert-rules\.test\.yaml\s+SUCCESS/);
  });

  it('fail the unit tests when a rule changes (the tests are not vacuous)', () => {
    const rules = readFileSync(join(OUT, 'rules.yaml'), 'utf8');
    // The dependency alert waits 5 minutes; make it wait 10 and the test at 10m must fail.
    const mutated = rules.replace(
      /(alert: IsamsSyncDependencyUnreachable[\s\S]*?for: )5m/,
      (_, head: string) => `${head}10m`,
    );
    expect(mutated).not.toBe(rules);
    writeFileSync(join(OUT, 'rules.yaml'), mutated);
    try {
      const res = spawnSync(join(ROOT, '.cache/tools/promtool'), ['test', 'rules', 'alert-rules.test.yaml'], {
        cwd: OUT,
        encoding: 'utf8',
      });
      expect(res.status).toBe(1);
      expect(`${res.stdout}${res.stderr}`).toContain('IsamsSyncDependencyUnreachable');
    } finally {
      writeFileSync(join(OUT, 'rules.yaml'), rules);
    }
  });

  it('link every alert to a runbook section that exists in docs/deploy.md, with a severity', () => {
    const rules = readFileSync(join(OUT, 'rules.yaml'), 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)([\s\S]*?)(?=\n +- alert: |\n +- name: |$)/g)];
    expect(alerts.map((a) => a[1])).toEqual([
      'IsamsSyncRunFailed',
      'IsamsSyncRunsMostlyFailing',
      'IsamsSyncSchoolNotSynced',
      'IsamsSyncBatchHeld',
      'IsamsSyncHeldBatchOld',
      'IsamsSyncDeadLetters',
      'IsamsSyncConsumerLag',
      'IsamsSyncDependencyUnreachable',
    ]);
    const anchors = anchorsOf(readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8'));
    for (const [, name, body] of alerts) {
      const link = /runbook_url: https:\/\/docs\.example\.org\/isams-sync\/deploy\.html#([\w-]+)/.exec(body!);
      expect(link, `${name} has a runbook_url`).not.toBeNull();
      expect(anchors.has(link![1]!), `${name} links #${link![1]}, a heading of docs/deploy.md`).toBe(true);
      expect(body, `${name} has a severity`).toMatch(/severity: (info|warning|critical)/);
    }
  });
});
