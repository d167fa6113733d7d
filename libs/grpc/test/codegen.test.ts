import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  GENERATED_DIR,
  PROTOS_DIR,
  assertUniqueBasenames,
  findProtoFiles,
  generateProtoTypes,
  namespaceFor,
} from '../../../tools/codegen/gen-protos';
import { loadProtoPackage, resolveProtosDir } from '../src';

async function snapshot(dir: string): Promise<Record<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return Object.fromEntries(
    await Promise.all(files.sort().map(async (f) => [relative(dir, f), await readFile(f, 'utf8')])),
  );
}

const temps: string[] = [];
afterAll(() => Promise.all(temps.map((t) => rm(t, { recursive: true, force: true }))));

describe('gen:protos', () => {
  it('has a generated file for every proto under protos/', async () => {
    const protos = await findProtoFiles(PROTOS_DIR);
    expect(protos).toContain('isams_sync/common/v1/common.proto');
    const generated = await snapshot(GENERATED_DIR);
    for (const proto of protos) {
      expect(Object.keys(generated)).toContain(basename(proto, '.proto') + '.ts');
    }
  });

  it('is deterministic and the installed output is up to date (else: npm run gen:protos)', async () => {
    const a = await mkdtemp(join(tmpdir(), 'gen-a-'));
    const b = await mkdtemp(join(tmpdir(), 'gen-b-'));
    temps.push(a, b);
    await generateProtoTypes({ outDir: a });
    await generateProtoTypes({ outDir: b });
    const first = await snapshot(a);
    expect(await snapshot(b)).toEqual(first);
    expect(await snapshot(GENERATED_DIR)).toEqual(first);
  });

  it('rejects protos that share a basename', () => {
    expect(() =>
      assertUniqueBasenames(['isams_sync/a/v1/service.proto', 'isams_sync/b/v1/service.proto']),
    ).toThrow(/unique/);
  });

  it('names package namespaces after domain and version', () => {
    expect(namespaceFor('isams_sync/common/v1')).toBe('commonV1');
    expect(namespaceFor('isams_sync/data_source/v2')).toBe('dataSourceV2');
  });
});

describe('loadProtoPackage', () => {
  it('finds the repo protos/ in dev and loads a package with the shared options', () => {
    expect(resolveProtosDir()).toBe(PROTOS_DIR);
    const pkg = loadProtoPackage<{ isams_sync: { common: { v1: { PageInfo: { format: string } } } } }>(
      'isams_sync/common/v1/common.proto',
    );
    expect(pkg.isams_sync.common.v1.PageInfo.format).toBe('Protocol Buffer 3 DescriptorProto');
  });

  it('uses an explicit protosDir and fails clearly when it does not exist', () => {
    expect(resolveProtosDir({ protosDir: PROTOS_DIR })).toBe(PROTOS_DIR);
    expect(() => resolveProtosDir({ protosDir: '/nonexistent/protos' })).toThrow(/does not exist/);
  });
});
