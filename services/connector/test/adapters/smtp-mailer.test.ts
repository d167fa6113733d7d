import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLogger } from '@isams-sync/logger';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createSmtpMailer } from '../../src/adapters/smtp/smtp-mailer';
import { Notifier } from '../../src/use-cases/notifier';
import {
  InMemoryFreshness,
  InMemoryNotificationClaims,
  InMemoryRunHistory,
  InMemorySettingsRecords,
  schoolSettings,
} from '../support/in-memory/settings-ports';

// The SMTP adapter against a real SMTP server (the npm `smtp-server` package) that misbehaves on
// purpose: what it reports when the server refuses before the message is delivered (the claim is
// given back and the next check tries again) and when the message was handed over but its reply
// never came (it may have been delivered: the claim stays, at most one e-mail a day).

const TIMEOUT_MS = 300;
const LATE_MS = 3 * TIMEOUT_MS;
const CONTACT = 'office@school.example';
const MAIL = { to: [CONTACT], subject: 'iSAMS sync (school-a): test', text: 'Hello' };

/** How the test relay answers: every step in time, or one of them late, refused or hung up on. */
type Behaviour =
  | 'accepts'
  | 'answers the message late'
  | 'hangs up after the message'
  | 'refuses the message'
  | 'answers RCPT TO late'
  | 'refuses the recipient';

interface TestRelay {
  port: number;
  /** Subjects of the messages it received in full (accepted or not). */
  received: string[];
  behaviour: Behaviour;
  stop(): Promise<void>;
}

const relays: TestRelay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.stop()));
});

/** A real SMTP server on 127.0.0.1 (plain, no auth) behaving as `behaviour`; stopped after the test. */
async function startRelay(behaviour: Behaviour): Promise<TestRelay> {
  const timers = new Set<NodeJS.Timeout>();
  const later = (fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, LATE_MS);
    timers.add(t);
  };
  const relay: TestRelay = { port: 0, received: [], behaviour, stop: () => Promise.resolve() };
  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 50,
    onRcptTo(_address, _session, callback) {
      if (relay.behaviour === 'answers RCPT TO late') later(() => callback());
      else if (relay.behaviour === 'refuses the recipient')
        callback(Object.assign(new Error('No such mailbox'), { responseCode: 550 }));
      else callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          relay.received.push(mail.subject ?? '');
          if (relay.behaviour === 'answers the message late') later(() => callback());
          else if (relay.behaviour === 'hangs up after the message')
            for (const c of server.connections as Set<{ close(): void }>) c.close();
          else if (relay.behaviour === 'refuses the message')
            callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
          else callback();
        })
        .catch((err: unknown) => callback(err as Error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  relay.port = (server.server.address() as AddressInfo).port;
  relay.stop = () => {
    for (const t of timers) clearTimeout(t);
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  relays.push(relay);
  return relay;
}

const mailerFor = (port: number, timeoutMs = TIMEOUT_MS) =>
  createSmtpMailer({
    host: '127.0.0.1',
    port,
    tls: 'none',
    from: 'iSAMS sync <sync@schoolcloud.example>',
    timeoutMs,
  });

/** What `send` rejected with (fails the test when it resolved). */
async function failureOf(send: Promise<void>): Promise<Error & { code?: string; details?: unknown }> {
  try {
    await send;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('the send resolved');
}

describe('SMTP mailer: refused before delivery → not sent (tried again at the next check)', () => {
  it('accepted: resolves, and the server has the message once', async () => {
    const relay = await startRelay('accepts');
    await mailerFor(relay.port).send(MAIL);
    expect(relay.received).toEqual([MAIL.subject]);
  });

  it('the message refused with 451: CONNECTOR_NOTIFICATION_NOT_SENT with the reply code', async () => {
    const relay = await startRelay('refuses the message');
    const err = await failureOf(mailerFor(relay.port).send(MAIL));
    expect(err).toMatchObject({
      code: 'CONNECTOR_NOTIFICATION_NOT_SENT',
      details: { reason: 'EMESSAGE SMTP 451' },
    });
  });

  it('the recipient refused with 550: not sent, and nothing was handed over', async () => {
    const relay = await startRelay('refuses the recipient');
    const err = await failureOf(mailerFor(relay.port).send(MAIL));
    expect(err).toMatchObject({
      code: 'CONNECTOR_NOTIFICATION_NOT_SENT',
      details: { reason: 'EENVELOPE SMTP 550' },
    });
    expect(relay.received).toEqual([]);
  });

  it('a time-out before the message (RCPT TO answered late): not sent — nothing was handed over', async () => {
    const relay = await startRelay('answers RCPT TO late');
    const err = await failureOf(mailerFor(relay.port).send(MAIL));
    expect(err).toMatchObject({ code: 'CONNECTOR_NOTIFICATION_NOT_SENT', details: { reason: 'ETIMEDOUT' } });
    expect(relay.received).toEqual([]);
  });

  it('nobody listening (connection refused): not sent', async () => {
    const relay = await startRelay('accepts');
    const { port } = relay;
    await relay.stop();
    const err = await failureOf(mailerFor(port).send(MAIL));
    expect(err).toMatchObject({ code: 'CONNECTOR_NOTIFICATION_NOT_SENT', details: { reason: 'ESOCKET' } });
  });
});

describe('SMTP mailer: handed over, then no reply → unconfirmed (never sent again that day)', () => {
  it('the final reply comes after the time-out: CONNECTOR_NOTIFICATION_UNCONFIRMED, and the server has the message', async () => {
    const relay = await startRelay('answers the message late');
    const err = await failureOf(mailerFor(relay.port).send(MAIL));
    expect(err).toMatchObject({
      code: 'CONNECTOR_NOTIFICATION_UNCONFIRMED',
      details: { reason: 'ETIMEDOUT' },
    });
    expect(relay.received).toEqual([MAIL.subject]);
  });

  it('the connection is lost waiting for the final reply: unconfirmed', async () => {
    const relay = await startRelay('hangs up after the message');
    const err = await failureOf(mailerFor(relay.port).send(MAIL));
    expect(err).toMatchObject({
      code: 'CONNECTOR_NOTIFICATION_UNCONFIRMED',
      details: { reason: 'ECONNECTION' },
    });
    expect(relay.received).toEqual([MAIL.subject]);
  });

  it('closed (the connector stopping) while it waits for the reply: the send ends, unconfirmed', async () => {
    const relay = await startRelay('answers the message late');
    const mailer = mailerFor(relay.port, 60_000);
    const started = Date.now();
    const sending = failureOf(mailer.send(MAIL));
    while (relay.received.length === 0) await new Promise((r) => setTimeout(r, 10));
    mailer.close();
    expect(await sending).toMatchObject({ code: 'CONNECTOR_NOTIFICATION_UNCONFIRMED' });
    expect(Date.now() - started).toBeLessThan(LATE_MS);
  });

  it("neither error carries an address or the server's reply text", async () => {
    for (const behaviour of ['refuses the recipient', 'answers the message late'] as const) {
      const relay = await startRelay(behaviour);
      const err = await failureOf(mailerFor(relay.port).send(MAIL));
      const seen = JSON.stringify({ message: err.message, details: err.details, cause: err.cause });
      expect(seen).not.toContain('@');
      expect(seen).not.toContain('No such mailbox');
    }
  });
});

describe('the notifier over a real SMTP server: at most one e-mail per condition, school and day', () => {
  const NOW = new Date('2026-03-10T12:00:00Z');

  /** A school with contacts and no good sync for two days (old data at every check), over `relay`. */
  function notifierOver(relay: TestRelay) {
    let logged = '';
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        logged += chunk.toString();
        done();
      },
    });
    const settings = new InMemorySettingsRecords([
      schoolSettings('school-a', {
        notificationEmails: [CONTACT],
        timeZone: 'Europe/London',
        keyUpdatedAt: new Date(NOW.getTime() - 48 * 3_600_000),
      }),
    ]);
    const notifications = new InMemoryNotificationClaims();
    const notifier = new Notifier(
      {
        settings,
        runs: new InMemoryRunHistory(),
        freshness: new InMemoryFreshness(),
        notifications,
        mailer: mailerFor(relay.port),
        logger: createLogger({ service: 'connector', level: 'info', destination }),
      },
      {
        owner: 'replica-1',
        failureStreak: 3,
        staleAfterMs: 24 * 3_600_000,
        checkIntervalMs: 60_000,
        now: () => NOW,
      },
    );
    return { notifier, notifications, logs: () => logged };
  }

  it('a relay that takes the message but answers after the time-out: one e-mail, the claim kept, none at the next checks', async () => {
    const relay = await startRelay('answers the message late');
    const w = notifierOver(relay);
    await w.notifier.sweep();
    await w.notifier.sweep();
    await w.notifier.sweep();
    expect(relay.received).toEqual(['iSAMS sync (school-a): data is more than 24 hours old']);
    const [claim] = [...w.notifications.claims.values()];
    expect(claim).toMatchObject({ condition: 'data_stale', day: '2026-03-10' });
    expect(claim!.sentAt).toBeUndefined();
    expect(w.logs()).toContain('not confirmed');
    expect(w.logs()).toContain('CONNECTOR_NOTIFICATION_UNCONFIRMED');
    expect(w.logs()).not.toContain(CONTACT);
  });

  it('a relay that refuses the message (451): the claim is given back and the next check sends it, once', async () => {
    const relay = await startRelay('refuses the message');
    const w = notifierOver(relay);
    await w.notifier.sweep();
    expect(w.notifications.claims.size).toBe(0);
    relay.behaviour = 'accepts';
    await w.notifier.sweep();
    await w.notifier.sweep();
    // The refused copy and the accepted one: the server took only the second.
    expect(relay.received).toHaveLength(2);
    expect([...w.notifications.claims.values()][0]!.sentAt).toEqual(NOW);
  });
});
