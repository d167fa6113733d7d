import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeVersionProblem } from './require-project-node.mjs';

const root = resolve(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};

describe('the project Node check', () => {
  it('accepts the Node that npm ci brings, and the one running these tests', () => {
    expect(nodeVersionProblem(manifest.devDependencies.node!, '/x/node')).toBeUndefined();
    expect(nodeVersionProblem()).toBeUndefined();
  });

  it('refuses an older Node with the range, the Node it found and the one-line fix', () => {
    const problem = nodeVersionProblem('20.20.2', '/usr/bin/node');
    expect(problem).toContain(`needs Node.js ${manifest.engines.node} but this is 20.20.2 (/usr/bin/node)`);
    expect(problem).toMatch(/Fix: run `npm ci`/);
    expect(problem).not.toContain('\n');
    expect(nodeVersionProblem('26.0.0', '/x/node')).toContain('but this is 26.0.0');
  });

  it('is loaded first by every npm script that runs project code', () => {
    for (const [name, command] of Object.entries(manifest.scripts)) {
      if (/^(node|tsx) /.test(command))
        expect(command, name).toMatch(/^(node|tsx) --import \.\/tools\/node\/require-project-node\.mjs /);
    }
  });

  it('exits 1 before the script runs when the Node is wrong', () => {
    // A child process whose reported version is replaced before the check module loads.
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'data:text/javascript,Object.defineProperty(process.versions, "node", { value: "20.20.2" })',
        '--import',
        resolve(import.meta.dirname, 'require-project-node.mjs'),
        '-e',
        'console.log("the script ran")',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain('the script ran');
    expect(r.stderr).toContain('but this is 20.20.2');
  });
});
