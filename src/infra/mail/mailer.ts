import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

export interface MailerOptions {
  /** SMTP server, e.g. `smtp://user:pass@host:587`; when absent, messages go to `outboxDir`. */
  smtpUrl?: string | undefined;
  outboxDir: string;
  /** @defaultValue 'Tokenpool <no-reply@tokenpool.local>' */
  from?: string;
  /** Bound on connecting, on the server's greeting and on a silent socket. @defaultValue 10000 */
  timeoutMs?: number;
}

/**
 * Both transports compose the message with nodemailer. SMTP gets nodemailer's quoted-printable,
 * which every relay accepts and every mail client decodes. The outbox is read by people, who copy
 * a reset or verify link out of the file: there the parts are 8bit, so the link is written as it is,
 * on a line of its own, with no `=` soft breaks or `=3D` in it.
 */
export function createMailer({
  smtpUrl,
  outboxDir,
  from = 'Tokenpool <no-reply@tokenpool.local>',
  timeoutMs = 10_000,
}: MailerOptions): Mailer {
  const compose = { from, textEncoding: 'quoted-printable' as const };
  if (smtpUrl) {
    // nodemailer waits minutes by default; a send must fail soon enough for its job to be retried.
    const transport: Transporter = nodemailer.createTransport({
      url: smtpUrl,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
    return {
      async send(message) {
        await transport.sendMail({ ...compose, ...message });
      },
      async close() {
        transport.close();
      },
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send({ text, html, ...message }) {
      const info = await transport.sendMail({
        ...compose,
        ...message,
        alternatives: [eightBitPart('text/plain', text), eightBitPart('text/html', html)],
      });
      // Each message holds a live link (a reset is an account): for this service's user alone.
      await mkdir(outboxDir, { recursive: true, mode: 0o700 });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`;
      // Written aside and renamed, so a reader of the outbox never sees half a message.
      const partial = join(outboxDir, `.${name}.tmp`);
      await writeFile(partial, info.message as Buffer, { mode: 0o600 });
      await rename(partial, join(outboxDir, name));
    },
    async close() {
      transport.close();
    },
  };
}

/** A part written as it is: nodemailer itself only ever picks 7bit, quoted-printable or base64. */
function eightBitPart(contentType: string, body: string) {
  return { raw: `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}` };
}
