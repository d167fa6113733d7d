import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DOC_FILE,
  VALUES_FILE,
  parseValuesDoc,
  renderDoc,
  renderTable,
  renderTopicsTable,
} from './gen-values-doc';
import { TOPICS } from '@isams-sync/events';

describe('gen-values-doc', () => {
  it('documents keys preceded by `# --`, with nested paths and block defaults in flow style', () => {
    const yaml = [
      '# -- Top.',
      'a: 1',
      'b:',
      '  # -- Nested, with a',
      '  # continued line.',
      '  c: x # trailing comment',
      '  undocumented: 2',
      '  # -- A block.',
      '  d:',
      '    e: { f: 1 }',
      '    g: [h]',
      '  # -- A list of maps.',
      '  peers:',
      '    - ipBlock:',
      '        cidr: 10.0.0.0/8',
      '    - podSelector: {}',
      '# -- After a block.',
      'z: ""',
    ].join('\n');
    expect(parseValuesDoc(yaml)).toEqual([
      { key: 'a', defaultValue: '1', description: 'Top.' },
      { key: 'b.c', defaultValue: 'x', description: 'Nested, with a continued line.' },
      { key: 'b.d', defaultValue: '{ e: { f: 1 }, g: [h] }', description: 'A block.' },
      {
        key: 'b.peers',
        defaultValue: '[{ ipBlock: { cidr: 10.0.0.0/8 } }, { podSelector: {} }]',
        description: 'A list of maps.',
      },
      { key: 'z', defaultValue: '""', description: 'After a block.' },
    ]);
    expect(renderTable([{ key: 'k', defaultValue: 'a|b', description: 'd' }])).toContain(
      '| `k` | `a\\|b` | d |',
    );
  });

  it('covers every service and the values the chart maps onto service variables', () => {
    const keys = parseValuesDoc(readFileSync(VALUES_FILE, 'utf8')).map((d) => d.key);
    for (const svc of ['connector', 'roster', 'bookings', 'gateway']) {
      expect(keys).toContain(`services.${svc}.config`);
      expect(keys).toContain(`services.${svc}.autoscaling.maxReplicas`);
    }
    expect(keys).toEqual(
      expect.arrayContaining([
        'kafka.brokers',
        'mongo.existingSecret',
        'egress.mode',
        'egress.ips',
        'services.connector.kek.id',
      ]),
    );
  });

  it('renders one row per declared topic', () => {
    const table = renderTopicsTable(TOPICS);
    expect(table.split('\n')).toHaveLength(TOPICS.length + 2);
    expect(table).toContain('| `roster.state.v1` | 12 | cleanup.policy=compact');
    expect(table).toContain('retention.ms=604800000 (7 d)');
  });

  it('docs/deploy.md is up to date with values.yaml and TOPICS', () => {
    const doc = readFileSync(DOC_FILE, 'utf8');
    expect(renderDoc(doc, readFileSync(VALUES_FILE, 'utf8'))).toBe(doc);
  });
});
