import { existsSync } from 'node:fs';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configFileOf, contractProblems, schemaOf } from './check-env-contract';

const schema = z.object({
  NEEDED: z.string(),
  WITH_DEFAULT: z.string().default('x'),
  MAYBE: z.string().optional(),
});

describe('check-env-contract', () => {
  it('accepts exactly the declared variables plus Node process variables', () => {
    expect(contractProblems('svc', schema, ['NEEDED', 'MAYBE', 'NODE_OPTIONS'])).toEqual({
      problems: [],
      warnings: [],
    });
  });

  it('flags undeclared (mistyped) variables and missing required ones', () => {
    expect(contractProblems('svc', schema, ['NEEDD', 'WITH_DEFAULT']).problems).toEqual([
      'svc: sets NEEDD, which its config schema does not declare',
      'svc: does not set required NEEDED',
    ]);
  });

  it('reports documented-but-unread Kafka security variables as warnings', () => {
    expect(contractProblems('svc', schema, ['NEEDED', 'KAFKA_SSL'])).toEqual({
      problems: [],
      warnings: ['svc: sets KAFKA_SSL (docs/configuration.md), which the service does not read yet'],
    });
  });

  it('finds the zod config schema of the topic Job and of every deployed service written so far', async () => {
    const written = ['connector', 'roster', 'bookings', 'gateway'].filter((s) => existsSync(configFileOf(s)));
    for (const workload of ['create-topics', ...written]) {
      const s = await schemaOf(workload);
      expect(Object.keys(s.shape), workload).toContain('LOG_LEVEL');
    }
  });
});
