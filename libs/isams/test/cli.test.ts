import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/inspect';
import { ISAMS_MESSAGES, renderMessageDocument } from '../src/isams-messages';
import { DATASET_IDS } from '../src/datasets';
import { fixture } from './helpers';
import { startServer } from './local-servers';

const dir = mkdtempSync(join(tmpdir(), 'isams-cli-'));
const file = (name: string, content: string): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function cli(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('isams inspect CLI', () => {
  it('prints exactly the documented --json shape for a document with findings', async () => {
    const xml =
      '<iSAMS><TeachingManager><Sets><Set Id="1"><Teachers><Teacher Id="2" StaffId="3" PrimaryTeacher="Maybe"/></Teachers></Set></Sets><SetLists/></TeachingManager><X><Y/></X></iSAMS>';
    const r = await cli(['inspect', '--json', file('a.xml', xml)]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report.datasets)).toEqual([...DATASET_IDS]);
    expect(report.datasets.teachingSetLists).toEqual({ present: true, count: 0, findings: [] });
    expect(report.datasets.currentStaff).toEqual({ present: false, count: 0, findings: [] });
    expect(report.datasets.teachingSets.count).toBe(1);
    expect(report.datasets.teachingSets.findings).toEqual([
      expect.objectContaining({
        code: 'ISAMS_FIELD_UNREADABLE',
        recordId: '1',
        datasetId: 'teachingSets',
        field: 'Teachers/Teacher/@PrimaryTeacher',
      }),
    ]);
    expect(report.unknownContainers).toEqual(['X/Y']);
  });

  it('prints a table, and sniffs JSON files', async () => {
    const r = await cli(['inspect', file('b.json', fixture('reference-sketch.json'))]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/teachingSets\s+yes\s+1/);
    expect(r.stdout).toMatch(/currentStaff\s+ABSENT\s+0/);
  });

  it('exits non-zero with the error code for truncated, malformed and error documents', async () => {
    const cases: [string, string][] = [
      [fixture('reference-sample.xml').slice(0, 3000), 'ISAMS_TRUNCATED_DOCUMENT'],
      ['<iSAMS><a></b></iSAMS>', 'ISAMS_MALFORMED_DOCUMENT'],
      [renderMessageDocument(ISAMS_MESSAGES.invalidApiKey), 'ISAMS_INVALID_KEY'],
    ];
    for (const [content, code] of cases) {
      const r = await cli(['inspect', '--json', file('c.xml', content)]);
      expect(r.code).toBe(1);
      expect(r.stderr.startsWith(`${code}:`)).toBe(true);
      expect(r.stdout).toBe('');
    }
  });

  it('fetches a URL with the key from --key-env and never accepts it in argv', async () => {
    const key = '0A1C996B-8E74-4388-A3C4-8DA1E40ADA57';
    const s = await startServer([(_q, res) => res.end(fixture('reference-sample.xml'))]);
    cleanups.push(s.close);
    const r = await cli(['inspect', '--json', s.url, '--key-env', 'MY_KEY'], { MY_KEY: key });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).datasets.currentPupils.count).toBe(2);
    expect(new URL(s.requests[0]!.url, s.url).searchParams.get('apiKey')).toBe(key);
    expect((await cli(['inspect', `${s.url}/api/batch/1.0/xml.ashx?apiKey=${key}`])).code).toBe(2);
    expect((await cli(['inspect', s.url, '--key-env', 'UNSET'])).code).toBe(2);
  });

  it('reads a fetched document in the charset its Content-Type names, as the connector does', async () => {
    const doc =
      '<iSAMS><PupilManager><CurrentPupils><Pupil Id="710"><Forename>Zoë</Forename><Surname>Novak</Surname></Pupil></CurrentPupils></PupilManager></iSAMS>';
    const s = await startServer([
      (_q, res) => {
        res.writeHead(200, { 'content-type': 'text/xml; charset=windows-1252' });
        res.end(Buffer.from(doc, 'latin1'));
      },
    ]);
    cleanups.push(s.close);
    const r = await cli(['inspect', '--json', s.url, '--key-env', 'MY_KEY'], {
      MY_KEY: '0A1C996B-8E74-4388-A3C4-8DA1E40ADA57',
    });
    expect(r.code).toBe(0);
    const pupils = JSON.parse(r.stdout).datasets.currentPupils as {
      count: number;
      findings: { code: string }[];
    };
    expect(pupils.count).toBe(1);
    expect(pupils.findings.map((f) => f.code)).not.toContain('ISAMS_FIELD_UNREADABLE');
  });

  it('exits non-zero for a failed fetch, without the key in the output', async () => {
    const key = '{0A1C996B-8E74-4388-A3C4-8DA1E40ADA57}';
    const s = await startServer([
      (_q, res) => {
        res.writeHead(401);
        res.end(renderMessageDocument(ISAMS_MESSAGES.invalidApiKey));
      },
    ]);
    cleanups.push(s.close);
    const r = await cli(['inspect', s.url, '--key-env', 'K'], { K: key });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ISAMS_INVALID_KEY:/);
    expect(r.stderr).not.toContain('0A1C996B');
  });
});
