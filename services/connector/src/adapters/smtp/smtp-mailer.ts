import nodemailer from 'nodemailer';
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
 * E-mail through an SMTP server (nodemailer). Failures become CONNECTOR_NOTIFICATION_NOT_SENT with
 * the SMTP reply code only: nodemailer's errors carry the recipients' addresses and the server's
 * reply text, which are not logged.
 */
export function createSmtpMailer(s: SmtpSettings): Mailer {
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.tls === 'implicit',
    requireTLS: s.tls === 'starttls',
    ignoreTLS: s.tls === 'none',
    ...(s.user === undefined ? {} : { auth: { user: s.user, pass: s.password ?? '' } }),
    connectionTimeout: s.timeoutMs,
    greetingTimeout: s.timeoutMs,
    socketTimeout: s.timeoutMs,
    logger: false,
    debug: false,
  });
  return {
    async send(mail: OutgoingMail) {
      try {
        await transport.sendMail({ from: s.from, to: [...mail.to], subject: mail.subject, text: mail.text });
      } catch (err) {
        const e = err as { code?: unknown; responseCode?: unknown };
        throw ConnectorErrors.CONNECTOR_NOTIFICATION_NOT_SENT({
          reason: [
            typeof e.code === 'string' ? e.code : 'ERROR',
            typeof e.responseCode === 'number' ? `SMTP ${e.responseCode}` : '',
          ]
            .filter(Boolean)
            .join(' '),
        });
      }
    },
    close() {
      transport.close();
    },
  };
}
