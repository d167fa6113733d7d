import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One message the test SMTP server accepted, parsed (mailparser). */
export interface ReceivedMail {
  /** Envelope recipients (RCPT TO), as sent. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  receivedAt: Date;
}

/** A real SMTP server (the npm `smtp-server` package) on 127.0.0.1 for tests: plain SMTP, no auth. */
export interface TestSmtpServer {
  host: string;
  port: number;
  /** Everything accepted so far, in order. */
  messages(): ReceivedMail[];
  /** Refuses the next `n` messages with `451 4.3.0` (a temporary failure). */
  refuseNext(n: number): void;
  /** Forgets the messages received so far. */
  clear(): void;
  stop(): Promise<void>;
}

/**
 * Starts a real SMTP server that accepts every message and keeps it for the test to read. With
 * `auth`, clients must log in (AUTH PLAIN/LOGIN over the plain connection) with that user and password.
 */
export async function startSmtpServer(
  options: { auth?: { user: string; password: string } } = {},
): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  let refuse = 0;
  const auth = options.auth;
  const server = new SMTPServer({
    authOptional: auth === undefined,
    disabledCommands: auth === undefined ? ['STARTTLS', 'AUTH'] : ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(login, _session, callback) {
      if (auth !== undefined && login.username === auth.user && login.password === auth.password)
        callback(null, { user: login.username });
      else callback(new Error('Invalid user name or password'));
    },
    logger: false,
    onData(stream, session, callback) {
      const refusing = refuse > 0;
      if (refusing) refuse -= 1;
      simpleParser(stream)
        .then((mail) => {
          if (refusing) {
            const err = Object.assign(new Error('Try again later'), { responseCode: 451 });
            callback(err);
            return;
          }
          received.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            receivedAt: new Date(),
          });
          callback();
        })
        .catch((err: unknown) => callback(err as Error));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    messages: () => [...received],
    refuseNext(n) {
      refuse = n;
    },
    clear() {
      received.length = 0;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
