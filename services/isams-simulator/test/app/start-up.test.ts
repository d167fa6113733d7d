import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInitialSchools } from '../../src/app';
import { loadSimulatorConfig } from '../../src/config';
import { DATASET_IDS } from '../../src/domain/isams-lib';
import { toDatasetRows } from '../../src/domain/dataset-rows';
import { layoutDocument } from '../../src/domain/document-layout';
import { generateSchool } from '../../src/domain/generate-school';
import { SchoolRegistry } from '../../src/domain/school-registry';
import { liveRows } from '../../src/domain/simulated-school';
import { renderXml } from '../../src/domain/xml-serializer';

const base = { SIM_TRUST_PROXY: false, SIM_INTERNAL_TIMEOUT_MS: 35_000, SIM_SLOW_MS: 5_000 };

describe('start-up schools and config', () => {
  it('parses the environment with defaults and lists bad variables', () => {
    const c = loadSimulatorConfig({
      SIM_SEED_SCHOOLS: 'a:1:small, b:2:medium',
      SIM_INTERNAL_TIMEOUT_MS: '300ms',
    });
    expect(c).toMatchObject({
      SIM_PORT: 8480,
      SIM_HOST: '127.0.0.1',
      SIM_TRUST_PROXY: false,
      SIM_INTERNAL_TIMEOUT_MS: 300,
      SIM_SEED_SCHOOLS: ['a:1:small', 'b:2:medium'],
    });
    expect(() => loadSimulatorConfig({ SIM_PORT: 'x', SIM_TRUST_PROXY: 'maybe' })).toThrow(
      /SIM_PORT[\s\S]*SIM_TRUST_PROXY|SIM_TRUST_PROXY[\s\S]*SIM_PORT/,
    );
  });

  it('creates seeded schools and schools from a JSON manifest with an XML file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-'));
    const rows = toDatasetRows(generateSchool(5, 'small'));
    writeFileSync(
      join(dir, 'school.xml'),
      [...renderXml(layoutDocument(rows, new Set(['currentPupils', 'teachingSets']), DATASET_IDS))].join(''),
    );
    writeFileSync(
      join(dir, 'schools.json'),
      JSON.stringify({
        schools: [
          { schoolId: 'gen', seed: 3, size: 'small', cacheMode: 'bypass' },
          { schoolId: 'file', xmlFile: 'school.xml', apiKey: '{ABCDEF00-0000-4000-8000-00000000000A}' },
        ],
      }),
    );
    const registry = new SchoolRegistry();
    loadInitialSchools(
      {
        ...base,
        SIM_SEED_SCHOOLS: ['seeded:9:small:0A1C996B-8E74-4388-A3C4-8DA1E40ADA57'],
        SIM_SCHOOLS_FILE: join(dir, 'schools.json'),
      },
      registry,
    );
    expect(registry.list().map((s) => s.schoolId)).toEqual(['seeded', 'gen', 'file']);
    expect(registry.byKey('{0a1c996b-8e74-4388-a3c4-8da1e40ada57}')?.schoolId).toBe('seeded');
    const file = registry.get('file');
    expect(file.key.datasets).toEqual(['currentPupils', 'teachingSets']);
    expect(liveRows(file).currentPupils).toEqual(rows.currentPupils);
    expect(registry.get('gen').key.cacheMode).toBe('bypass');
  });

  it('takes per-school server behaviour from seed options and the JSON manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-'));
    writeFileSync(
      join(dir, 'schools.json'),
      JSON.stringify({
        schools: [
          {
            schoolId: 'manifest',
            seed: 3,
            size: 'small',
            connection: 'close',
            generation: { limitMs: 1_000, msPer1000Rows: 250 },
          },
        ],
      }),
    );
    const registry = new SchoolRegistry();
    loadInitialSchools(
      {
        ...base,
        SIM_SEED_SCHOOLS: [
          'plain:1:small',
          'big:2:large:0A1C996B-8E74-4388-A3C4-8DA1E40ADA57:connection=close:limitMs=35000:msPerMethod=500:msPer1000Rows=800:deadlockPer1000Rows=0.01',
          'closed:3:small:connection=close',
        ],
        SIM_SCHOOLS_FILE: join(dir, 'schools.json'),
      },
      registry,
    );
    expect(registry.get('plain').server).toEqual({
      connection: 'keep-alive',
      generation: { limitMs: 35_000, msPerMethod: 0, msPer1000Rows: 0, deadlockPer1000Rows: 0 },
    });
    expect(registry.get('big').key.apiKey).toBe('0A1C996B-8E74-4388-A3C4-8DA1E40ADA57');
    expect(registry.get('big').server).toEqual({
      connection: 'close',
      generation: { limitMs: 35_000, msPerMethod: 500, msPer1000Rows: 800, deadlockPer1000Rows: 0.01 },
    });
    expect(registry.get('closed').server.connection).toBe('close');
    expect(registry.get('manifest').server).toEqual({
      connection: 'close',
      generation: { limitMs: 1_000, msPerMethod: 0, msPer1000Rows: 250, deadlockPer1000Rows: 0 },
    });
    for (const bad of ['x:1:small:connection=sometimes', 'x:1:small:limitMs=soon', 'x:1:small:colour=red']) {
      expect(() => loadInitialSchools({ ...base, SIM_SEED_SCHOOLS: [bad] }, new SchoolRegistry())).toThrow(
        /SIM_SEED_SCHOOLS/,
      );
    }
  });

  it('serves a single XML file as one school', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-'));
    writeFileSync(
      join(dir, 'one.xml'),
      '\uFEFF<?xml version="1.0"?>\n<iSAMS>\n  <SchoolManager>\n    <Years>\n      <Year Id="-2"><Name>Nursery</Name><Email/></Year>\n    </Years>\n  </SchoolManager>\n</iSAMS>\n',
    );
    const registry = new SchoolRegistry();
    loadInitialSchools(
      {
        ...base,
        SIM_SCHOOLS_FILE: join(dir, 'one.xml'),
        SIM_SCHOOL_ID: 'one',
        SIM_API_KEY: 'ABCDEF00-0000-4000-8000-00000000000B',
      },
      registry,
    );
    expect(liveRows(registry.get('one')).yearGroups).toEqual([
      {
        name: 'Year',
        attributes: { Id: '-2' },
        children: [
          { name: 'Name', attributes: {}, text: 'Nursery', children: [] },
          { name: 'Email', attributes: {}, children: [] },
        ],
      },
    ]);
    expect(() => loadInitialSchools({ ...base, SIM_SEED_SCHOOLS: ['bad'] }, registry)).toThrow(
      /id:seed:size/,
    );
  });
});
