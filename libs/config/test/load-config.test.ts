import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { isAppError } from '@isams-sync/errors';
import { commonServiceConfig, ConfigError, env, loadConfig } from '../src/index';

const schema = z.object({
  ...commonServiceConfig,
  KAFKA_BROKERS: env.csv(),
  GRPC_PORT: env.port().default(50051),
  MONGO_URI: env.url({ protocols: ['mongodb'] }),
  ISAMS_KEY_ENCRYPTION_KEY: env.secret({ minLength: 32 }),
  ADMIN_TOKEN: z.string().min(40),
  POLL_INTERVAL_MS: env.durationMs().default(300_000),
  FEATURE_HOLD_REMOVALS: env.bool().default(true),
});

const valid = {
  KAFKA_BROKERS: 'localhost:9092',
  MONGO_URI: 'mongodb://localhost:27017/roster',
  ISAMS_KEY_ENCRYPTION_KEY: 'k'.repeat(32),
  ADMIN_TOKEN: 't'.repeat(40),
};

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(schema, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('returns typed config with defaults applied', () => {
    const config = loadConfig(schema, valid);
    expect(config).toMatchObject({
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      OPS_PORT: 9464,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      KAFKA_BROKERS: ['localhost:9092'],
      GRPC_PORT: 50051,
      POLL_INTERVAL_MS: 300_000,
      FEATURE_HOLD_REMOVALS: true,
    });
    expect(config.SERVICE_NAME).toBeUndefined();
    expectTypeOf(config.GRPC_PORT).toEqualTypeOf<number>();
    expectTypeOf(config.KAFKA_BROKERS).toEqualTypeOf<string[]>();
    expectTypeOf(config.LOG_LEVEL).toEqualTypeOf<
      'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    >();
    expectTypeOf(config.SERVICE_NAME).toEqualTypeOf<string | undefined>();
  });

  it('lists every bad or missing variable with its reason', () => {
    const err = configError({
      GRPC_PORT: 'abc',
      OPS_PORT: '70000',
      LOG_LEVEL: 'loud',
      SHUTDOWN_TIMEOUT_MS: 'soon',
    });
    expect(isAppError(err)).toBe(true);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.problems).toEqual([
      {
        variable: 'LOG_LEVEL',
        reason: 'expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      },
      { variable: 'OPS_PORT', reason: 'expected an integer 0–65535, got "70000"' },
      {
        variable: 'SHUTDOWN_TIMEOUT_MS',
        reason: 'expected a duration like 500ms, 30s, 5m, 1h or an integer of milliseconds, got "soon"',
      },
      { variable: 'KAFKA_BROKERS', reason: 'required' },
      { variable: 'GRPC_PORT', reason: 'expected an integer 1–65535, got "abc"' },
      { variable: 'MONGO_URI', reason: 'required' },
      { variable: 'ISAMS_KEY_ENCRYPTION_KEY', reason: 'required' },
      { variable: 'ADMIN_TOKEN', reason: 'required' },
    ]);
    expect(err.message).toContain('KAFKA_BROKERS: required');
    expect(err.message).toContain('GRPC_PORT: expected an integer 1–65535, got "abc"');
    expect(err.message.split('\n')).toHaveLength(9);
  });

  it('treats empty and blank strings as missing, so defaults apply and addresses are required', () => {
    const config = loadConfig(schema, { ...valid, GRPC_PORT: '', LOG_LEVEL: '  ' });
    expect(config.GRPC_PORT).toBe(50051);
    expect(config.LOG_LEVEL).toBe('info');
    expect(configError({ ...valid, KAFKA_BROKERS: '', MONGO_URI: ' ' }).problems).toEqual([
      { variable: 'KAFKA_BROKERS', reason: 'required' },
      { variable: 'MONGO_URI', reason: 'required' },
    ]);
  });

  it('never echoes secret values and strips credentials from URIs', () => {
    const err = configError({
      ...valid,
      ISAMS_KEY_ENCRYPTION_KEY: 'too-short-secret-value',
      ADMIN_TOKEN: 'short-token-value',
      MONGO_URI: 'http://admin:hunter2@db:27017',
    });
    expect(err.message).not.toContain('too-short-secret-value');
    expect(err.message).not.toContain('short-token-value');
    expect(err.message).not.toContain('hunter2');
    expect(JSON.stringify(err.toJSON())).not.toContain('hunter2');
    expect(err.problems).toEqual([
      { variable: 'MONGO_URI', reason: 'expected a URL with protocol mongodb, got "http://***@db:27017"' },
      { variable: 'ISAMS_KEY_ENCRYPTION_KEY', reason: 'expected a secret of at least 32 characters' },
      { variable: 'ADMIN_TOKEN', reason: expect.not.stringContaining('got') },
    ]);
  });

  it('does not echo env.secret() values even under an innocent name', () => {
    const s = z.object({ ISAMS_CREDS: env.secret({ minLength: 10 }).optional() });
    const err = (() => {
      try {
        loadConfig(s, { ISAMS_CREDS: 'abc123' });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err?.message).toBe(
      'Invalid configuration (1 problem):\n  ISAMS_CREDS: expected a secret of at least 10 characters',
    );
  });

  it('reports whole-object rules under (config)', () => {
    const s = z
      .object({ MIN: env.int(), MAX: env.int() })
      .refine((c) => c.MIN <= c.MAX, { message: 'MIN must not exceed MAX' });
    expect(() => loadConfig(s, { MIN: '5', MAX: '1' })).toThrow('(config): MIN must not exceed MAX');
  });

  it('reads process.env by default', () => {
    const s = z.object({ PATH: z.string() });
    expect(loadConfig(s).PATH).toBe(process.env.PATH);
  });
});
