import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { env } from '../src/index';

function parse<T extends z.ZodType>(schema: T, value: string) {
  const result = schema.safeParse(value);
  return result.success
    ? { ok: true as const, value: result.data }
    : { ok: false as const, message: result.error.issues[0]!.message };
}

describe('env field helpers', () => {
  it('port', () => {
    expect(parse(env.port(), '8080')).toEqual({ ok: true, value: 8080 });
    expect(parse(env.port(), ' 65535 ')).toEqual({ ok: true, value: 65535 });
    for (const bad of ['0', '65536', 'abc', '80.5', '-1', '1e3']) {
      expect(parse(env.port(), bad)).toEqual({ ok: false, message: 'expected an integer 1–65535' });
    }
    expect(parse(env.port({ allowZero: true }), '0')).toEqual({ ok: true, value: 0 });
  });

  it('int with bounds', () => {
    expect(parse(env.int(), '-12')).toEqual({ ok: true, value: -12 });
    expect(parse(env.int({ min: 1, max: 10 }), '11')).toEqual({
      ok: false,
      message: 'expected an integer 1–10',
    });
    expect(parse(env.int({ min: 1 }), '0')).toEqual({ ok: false, message: 'expected an integer ≥ 1' });
    expect(parse(env.int({ max: 5 }), '5')).toEqual({ ok: true, value: 5 });
    expect(parse(env.int(), '99999999999999999999').ok).toBe(false);
  });

  it('bool', () => {
    for (const [raw, value] of [
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['yes', true],
      ['false', false],
      ['0', false],
      ['No', false],
    ] as const) {
      expect(parse(env.bool(), raw)).toEqual({ ok: true, value });
    }
    expect(parse(env.bool(), 'maybe')).toEqual({
      ok: false,
      message: 'expected one of true/false/1/0/yes/no',
    });
  });

  it('url with protocols', () => {
    expect(parse(env.url(), 'https://school.isams.cloud/api')).toEqual({
      ok: true,
      value: 'https://school.isams.cloud/api',
    });
    expect(parse(env.url({ protocols: ['mongodb', 'mongodb+srv:'] }), 'mongodb://db:27017/roster').ok).toBe(
      true,
    );
    expect(parse(env.url({ protocols: ['http', 'https'] }), 'ftp://x')).toEqual({
      ok: false,
      message: 'expected a URL with protocol http or https',
    });
    expect(parse(env.url(), 'not a url')).toEqual({ ok: false, message: 'expected a URL' });
  });

  it('csv', () => {
    expect(parse(env.csv(), ' kafka-1:9092, kafka-2:9092 ,,')).toEqual({
      ok: true,
      value: ['kafka-1:9092', 'kafka-2:9092'],
    });
    expect(parse(env.csv(), ' , ')).toEqual({
      ok: false,
      message: 'expected a non-empty comma-separated list',
    });
  });

  it('durationMs', () => {
    for (const [raw, ms] of [
      ['500ms', 500],
      ['30s', 30_000],
      ['5m', 300_000],
      ['1h', 3_600_000],
      ['250', 250],
      ['1.5s', 1500],
      ['10 S', 10_000],
    ] as const) {
      expect(parse(env.durationMs(), raw)).toEqual({ ok: true, value: ms });
    }
    for (const bad of ['5x', '-1s', 'soon', '1.5', '1d']) {
      expect(parse(env.durationMs(), bad).ok).toBe(false);
    }
  });

  it('enum and logLevel', () => {
    expect(parse(env.enum(['a', 'b']), ' b ')).toEqual({ ok: true, value: 'b' });
    expect(parse(env.enum(['a', 'b']), 'c')).toEqual({ ok: false, message: 'expected one of a, b' });
    expect(parse(env.logLevel(), 'debug')).toEqual({ ok: true, value: 'debug' });
    expect(parse(env.logLevel(), 'loud').ok).toBe(false);
  });

  it('secret', () => {
    expect(parse(env.secret(), ' s3cret ')).toEqual({ ok: true, value: 's3cret' });
    expect(parse(env.secret({ minLength: 32 }), 'short')).toEqual({
      ok: false,
      message: 'expected a secret of at least 32 characters',
    });
  });
});
