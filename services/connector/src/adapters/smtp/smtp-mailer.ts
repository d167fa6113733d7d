import { Readable } from 'node:stream';
import MailComposer from 'nodemailer/lib/mail-composer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { SMTPConnectionAuth, SMTPEnvelope } from 'nodemailer/lib/smtp-connection';
import { ConnectorErrors } from '../../domain/connector-errors';
import type { Mailer, OutgoingMail } from '../../domain/mailer.port';

export interface SmtpSettings {
  host: string;
  port: number;
  /** `starttls` (upgrade required), `implicit` (TLS from the first byte, port 465) or `none` (tests, a relay beside the pod). */
  tls: 'starttls' | 'implicit' | 'none';
  user?: string;
  password?: string;
  from: string;
  timeoutMs: number;
}

/**
 * E-mail through an SMTP server (nodemailer's SMTP client, one connection per e-mail). How a send
 * fails decides whether it may be sent again:
 * - refused before delivery — a 4xx/5xx reply to the envelope or to the message, or no connection,
 *   greeting, TLS or login: CONNECTOR_NOTIFICATION_NOT_SENT (the notifier gives its claim back);
 * - the message handed over, then no reply — a time-out or the connection lost waiting for the
 *   server's answer to it: CONNECTOR_NOTIFICATION_UNCONFIRMED. A slow or content-scanning relay has
 *   usually delivered it, so the notifier keeps its claim instead of sending it at every check.
 *
 * nodemailer's transport cannot tell the two apart (every time-out is `ETIMEDOUT` on `CONN`), so the
 * connection is driven here, and the message is a stream the client reads only once the server has
 * answered DATA. Both errors carry nodemailer's error code and the SMTP reply code only: its errors
 * carry the recipients' addresses and the server's reply text, which are not logged.
 */
export function createSmtpMailer(s: SmtpSettings): Mailer {
  const auth: SMTPConnectionAuth | undefined =
    s.user === undefined ? undefined : { credentials: { user: s.user, pass: s.password ?? '' } };
  const open = new Set<SMTPConnection>();
  return {
    async send(mail: OutgoingMail) {
      let handedOver = false;
      let connection: SMTPConnection | undefined;
      try {
        const message = new MailComposer({
          from: s.from,
          to: [...mail.to],
          subject: mail.subject,
          text: mail.text,
        }).compile();
        const raw = await message.build();
        const body = new Readable({
          read() {
            handedOver = true;
            this.push(raw);
            this.push(null);
          },
        });
        connection = new SMTPConnection({
          host: s.host,
          port: s.port,
          secure: s.tls === 'implicit',
          requireTLS: s.tls === 'starttls',
          ignoreTLS: s.tls === 'none',
          connectionTimeout: s.timeoutMs,
          greetingTimeout: s.timeoutMs,
          socketTimeout: s.timeoutMs,
          logger: false,
          debug: false,
        });
        open.add(connection);
        await deliver(connection, message.getEnvelope(), body, auth);
      } catch (err) {
        throw sendFailure(err, handedOver);
      } finally {
        if (connection !== undefined) {
          open.delete(connection);
          connection.close();
        }
      }
    },
    close() {
      for (const connection of open) connection.close();
    },
  };
}

/** Connects, logs in when the server offers it (as nodemailer's transport does), sends `body`. */
function deliver(
  connection: SMTPConnection,
  envelope: SMTPEnvelope,
  body: Readable,
  auth: SMTPConnectionAuth | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      if (err) reject(err as Error);
      else resolve();
    };
    // The connection reports a failure as an 'error' event and to the callback in flight; closed
    // from here (the mailer's close) it only ends.
    connection.on('error', settle);
    connection.once('end', () =>
      settle(Object.assign(new Error('Connection closed'), { code: 'ECONNECTION' })),
    );
    const send = () => connection.send(envelope, body, (err) => settle(err ?? undefined));
    connection.connect((err) => {
      if (err) settle(err);
      else if (auth !== undefined && connection.allowsAuth)
        connection.login(auth, (loginErr) => (loginErr ? settle(loginErr) : send()));
      else send();
    });
  });
}

/** Not sent (a reply refused it, or the message never left), or unconfirmed (it left, no reply came). */
function sendFailure(err: unknown, handedOver: boolean): Error {
  const e = err as { code?: unknown; responseCode?: unknown };
  const replyCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const reason = [
    typeof e.code === 'string' ? e.code : 'ERROR',
    replyCode === undefined ? '' : `SMTP ${replyCode}`,
  ]
    .filter(Boolean)
    .join(' ');
  const refused = replyCode !== undefined && replyCode >= 400;
  return handedOver && !refused
    ? ConnectorErrors.CONNECTOR_NOTIFICATION_UNCONFIRMED({ reason })
    : ConnectorErrors.CONNECTOR_NOTIFICATION_NOT_SENT({ reason });
}
