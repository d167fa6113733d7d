import { describe, expect, it } from 'vitest';
import { createLogger, PERSONAL_FIELDS, SECRET_FIELDS } from '../src/index';
import type { LoggerLike } from '../src/index';
import { captureStream } from './capture';

// An iSAMS key as issued (braced GUID) and as it appears percent-encoded in a URL.
const KEY = '{0A1C996B-8E74-4388-A3C4-8DA1E40ADA57}';
const KEY_CORE = '0A1C996B-8E74-4388-A3C4-8DA1E40ADA57';
const FORENAME = 'Philippa';
const SURNAME = 'Hollingsworth';

function assertNoSecretsOrNames(output: string) {
  expect(output).not.toContain(KEY_CORE);
  expect(output.toLowerCase()).not.toContain(KEY_CORE.toLowerCase());
  expect(output).not.toContain(FORENAME);
  expect(output).not.toContain(SURNAME);
}

describe('createLogger redaction (iSAMS key and pupil names)', () => {
  it('never writes an e-mail address, in a field, an array or an error message', () => {
    const { stream, text } = captureStream();
    const logger = createLogger({ service: 'connector', destination: stream, level: 'debug' });
    logger.info({ recipients: ['office@school.example', 'head@school.example'], count: 2 }, 'sending');
    logger.warn(
      { err: new Error("Can't send mail - all recipients were rejected: 550 <office@school.example>") },
      'x',
    );
    logger.info('mail to bursar@school.example refused');
    const output = text();
    expect(output).not.toContain('@school.example');
    expect(output).toContain('"count":2');
  });

  it('never writes the key or a pupil name, while keeping non-sensitive fields', () => {
    const { stream, text, lines } = captureStream();
    const logger = createLogger({ service: 'connector', destination: stream, level: 'debug' });
    const log = logger.child({
      tenantId: 'school-42',
      syncRunId: '3f1c2f7a-8b7e-4f4e-9a55-1f0a5d3c2b1a',
      module: 'poller',
    });

    // key in a field and in nested objects
    log.info({ apiKey: KEY, dataset: 'pupils', count: 120 }, 'settings loaded');
    log.info(
      {
        tenant: { settings: { apiKey: KEY } },
        settings: { apiKey: KEY, baseUrl: 'https://school.isams.cloud' },
      },
      'tenant',
    );
    log.debug({ request: { key: KEY, attempt: 2 } }, 'request options');
    // key inside a URL in the message and in a field (raw and percent-encoded)
    log.info(`GET https://school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=${KEY}&page=1`);
    log.info(
      { url: `https://school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=${encodeURIComponent(KEY)}` },
      'fetching',
    );
    log.info('formatted %s', `https://h/x?apiKey=${KEY}`);
    // key inside an error message, a cause, and an error logged bare
    const err = new Error(`iSAMS rejected key ${KEY}`, {
      cause: new Error(`request to https://h/xml.ashx?apiKey=${KEY} failed`),
    });
    log.error({ err, dataset: 'pupils' }, 'batch fetch failed');
    log.error(err);
    // pupil names as fields, nested, PascalCase (iSAMS XML) and in an error's details
    log.info({ forename: FORENAME, surname: SURNAME, pupilId: 'P-1001' }, 'pupil upserted');
    log.info({ change: { forename: FORENAME, surname: SURNAME, id: 'P-1001' } }, 'change');
    log.info({ pupil: { id: 'P-1001', forename: FORENAME, surname: SURNAME } }, 'pupil');
    log.info({ diff: { before: { Forename: FORENAME, Surname: SURNAME } } }, 'deep diff');
    log.warn(
      { err: Object.assign(new Error('validation failed'), { details: { surname: SURNAME } }) },
      'invalid',
    );
    logger.child({ forename: FORENAME, apiKey: KEY }).info('child bindings');

    const output = text();
    assertNoSecretsOrNames(output);
    expect(output).toContain('[REDACTED]');

    const parsed = lines();
    expect(parsed).toHaveLength(14);
    expect(parsed[0]).toMatchObject({
      level: 'info',
      service: 'connector',
      tenantId: 'school-42',
      syncRunId: '3f1c2f7a-8b7e-4f4e-9a55-1f0a5d3c2b1a',
      module: 'poller',
      dataset: 'pupils',
      count: 120,
      apiKey: '[REDACTED]',
      msg: 'settings loaded',
    });
    expect(parsed[1]).toMatchObject({
      settings: { apiKey: '[REDACTED]', baseUrl: 'https://school.isams.cloud' },
    });
    expect(parsed[2]).toMatchObject({ request: { key: '[REDACTED]', attempt: 2 } });
    expect(parsed[3]!.msg).toBe(
      'GET https://school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=[REDACTED]&page=1',
    );
    expect(parsed[4]!.url).toBe('https://school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=[REDACTED]');
    expect(parsed[6]).toMatchObject({ msg: 'batch fetch failed', dataset: 'pupils', err: { type: 'Error' } });
    expect((parsed[6]!.err as { message: string }).message).toContain('iSAMS rejected key [REDACTED]');
    expect((parsed[6]!.err as { stack: string }).stack).toContain('caused by');
    expect(parsed[7]!.msg).toBe('iSAMS rejected key [REDACTED]');
    expect(parsed[8]).toMatchObject({ pupilId: 'P-1001', forename: '[REDACTED]', surname: '[REDACTED]' });
    expect(parsed[9]).toMatchObject({ change: { id: 'P-1001', forename: '[REDACTED]' } });
    expect(parsed[10]).toMatchObject({ pupil: '[REDACTED]' });
    expect(parsed[12]).toMatchObject({
      err: { message: 'validation failed', details: { surname: '[REDACTED]' } },
    });
  });

  it('does not mutate the objects given to it', () => {
    const { stream } = captureStream();
    const logger = createLogger({ service: 's', destination: stream });
    const fields = { user: { email: 'a@b.c' }, url: `https://h/?apiKey=${KEY}` };
    logger.info(fields, 'x');
    expect(fields).toEqual({ user: { email: 'a@b.c' }, url: `https://h/?apiKey=${KEY}` });
  });

  it('honours extra redact paths, levels and the service base field', () => {
    const { stream, lines } = captureStream();
    const logger = createLogger({
      service: 'gateway',
      level: 'warn',
      destination: stream,
      extraRedactPaths: ['body.note'],
    });
    logger.info('dropped');
    logger.warn({ body: { note: 'private', kind: 'memo' } }, 'kept');
    const out = lines();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      service: 'gateway',
      level: 'warn',
      body: { note: '[REDACTED]', kind: 'memo' },
    });
    expect(typeof out[0]!.time).toBe('string');
  });

  it('keeps entity and dataset names (name is not redacted) and our own UUID ids in fields', () => {
    const { stream, lines } = captureStream();
    const logger = createLogger({ service: 's', destination: stream });
    logger.info(
      {
        name: 'pupils',
        entity: { name: 'Year 7 register' },
        eventId: '3f1c2f7a-8b7e-4f4e-9a55-1f0a5d3c2b1a',
      },
      'x',
    );
    expect(lines()[0]).toMatchObject({
      name: 'pupils',
      entity: { name: 'Year 7 register' },
      eventId: '3f1c2f7a-8b7e-4f4e-9a55-1f0a5d3c2b1a',
    });
  });
});

describe('createLogger child bindings', () => {
  const ADMIN = 'jwt:alice.admin@school-a.example';
  const KEY_URL = `https://school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=${KEY}&page=1`;

  it('scrubs e-mail addresses, braced GUIDs and apiKey= values bound with child() and grandchild()', () => {
    const { stream, text, lines } = captureStream();
    const logger = createLogger({ service: 'gateway', destination: stream });
    const child = logger.child({ tenantId: 'school-a', actor: ADMIN, note: `key ${KEY}` });
    child.info({ status: 404 }, 'request rejected');
    child.child({ module: 'isams', upstream: KEY_URL, cc: ['bursar@school-a.example'] }).info('fetching');

    expect(text()).not.toContain('@school-a.example');
    assertNoSecretsOrNames(text());
    const [first, second] = lines();
    expect(first).toMatchObject({
      service: 'gateway',
      tenantId: 'school-a',
      actor: 'jwt:[REDACTED]',
      note: 'key [REDACTED]',
      status: 404,
      msg: 'request rejected',
    });
    expect(first!.pid).toBe(process.pid);
    expect(typeof first!.hostname).toBe('string');
    expect(second).toMatchObject({
      service: 'gateway',
      tenantId: 'school-a',
      actor: 'jwt:[REDACTED]',
      module: 'isams',
      upstream: 'https://school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=[REDACTED]&page=1',
      cc: ['[REDACTED]'],
      msg: 'fetching',
    });
  });

  it('scrubs bindings of a child created with options, and bindings added with setBindings()', () => {
    const { stream, text, lines } = captureStream();
    const logger = createLogger({ service: 'gateway', destination: stream });
    const child = logger.child(
      { actor: ADMIN },
      { level: 'debug', formatters: { bindings: (bindings) => ({ ...bindings, formatted: true }) } },
    );
    child.debug('with options');
    child.setBindings({ reviewer: 'carol@school-a.example', requestId: 'req-7' });
    child.child({ syncRunId: '3f1c2f7a-8b7e-4f4e-9a55-1f0a5d3c2b1a' }).info('after setBindings');

    expect(text()).not.toContain('@school-a.example');
    expect(lines()[0]).toMatchObject({ actor: 'jwt:[REDACTED]', formatted: true, msg: 'with options' });
    expect(lines()[1]).toMatchObject({
      actor: 'jwt:[REDACTED]',
      reviewer: '[REDACTED]',
      requestId: 'req-7',
      syncRunId: '3f1c2f7a-8b7e-4f4e-9a55-1f0a5d3c2b1a',
    });
  });

  it('does not mutate the bindings given to it', () => {
    const { stream } = captureStream();
    const bindings = { actor: ADMIN, nested: { email: 'a@b.example' } };
    createLogger({ service: 's', destination: stream }).child(bindings).info('x');
    expect(bindings).toEqual({ actor: ADMIN, nested: { email: 'a@b.example' } });
  });
});

describe('createLogger pretty output', () => {
  it('is human-readable and still redacted', async () => {
    const { stream, text } = captureStream();
    const logger = createLogger({ service: 'dev', destination: stream, pretty: true });
    logger.info({ apiKey: KEY, forename: FORENAME, dataset: 'pupils' }, `GET /x?apiKey=${KEY}`);
    await new Promise((resolve) => setImmediate(resolve));
    const output = text();
    expect(output).toContain('dataset');
    expect(output).toContain('pupils');
    assertNoSecretsOrNames(output);
  });
});

describe('LoggerLike', () => {
  it('is satisfied by the pino logger', () => {
    const { stream, lines } = captureStream();
    const logger: LoggerLike = createLogger({ service: 's', destination: stream });
    logger.info({ port: 9464 }, 'listening');
    expect(lines()[0]).toMatchObject({ port: 9464, msg: 'listening' });
  });
});

describe('every listed field', () => {
  it('is redacted at the top level, one level deep, deeper and in PascalCase', () => {
    const { stream, text } = captureStream();
    const logger = createLogger({ service: 's', destination: stream });
    const pascal = (f: string) => f.charAt(0).toUpperCase() + f.slice(1);
    for (const field of [...SECRET_FIELDS, ...PERSONAL_FIELDS]) {
      const value = `sensitive-${field}-value`;
      logger.info(
        {
          [field]: value,
          outer: { [field]: value, inner: { [pascal(field)]: value } },
          list: [{ [field]: value }],
        },
        'x',
      );
    }
    const output = text();
    expect(output).not.toContain('sensitive-');
    expect(output.split('\n').filter(Boolean)).toHaveLength(SECRET_FIELDS.length + PERSONAL_FIELDS.length);
  });
});
