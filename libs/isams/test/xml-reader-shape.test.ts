import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CHILD = join(import.meta.dirname, 'support/parser-shape-in-child.ts');

// saxes adds a property per handler when `on` is called; the nine the reader sets turned the parser
// into a V8 dictionary object, and the parse ran four to five times slower (libs/isams/README.md ›
// Streaming and memory). The reader's parser creates them up front: V8 itself says whether that holds.
describe('XmlReader: the saxes parser keeps a fast object shape', () => {
  it('has fast properties with every handler the reader sets', () => {
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', CHILD], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ fastProperties: true });
  });
});
