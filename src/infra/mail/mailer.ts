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
 * Both transports compose the message with nodemailer, so the `.eml` files in the outbox are the
 * very bytes an SMTP server would have received.
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
    async send(message) {
      const info = await transport.sendMail({ ...compose, ...message });
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
