/** One e-mail: plain text, to the school's chosen contacts. */
export interface OutgoingMail {
  to: readonly string[];
  subject: string;
  text: string;
}

/** Sends e-mail (the SMTP adapter in production; resolves once the server accepted the message). */
export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}
