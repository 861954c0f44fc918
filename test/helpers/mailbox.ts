import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  subject: string;
  /** The decoded body, text and HTML parts together. */
  body: string;
  links: string[];
}

export interface Mailbox {
  /** The SMTP URL to configure, when this mailbox is a real SMTP server. */
  readonly smtpUrl: string | undefined;
  /** Waits for a message to `to` whose subject contains `subject`. */
  waitFor(to: string, subject: string, timeoutMs?: number): Promise<ReceivedMail>;
  all(): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** A mailbox that can be taken down, as an SMTP outage would. */
export interface SmtpMailbox extends Mailbox {
  readonly smtpUrl: string;
  /** While down, every connection is turned away at the greeting with 421, as a server in trouble does. */
  setAvailable(available: boolean): void;
}

// SMTP messages come quoted-printable, the outbox's 8bit (src/infra/mail/mailer.ts): each part is
// decoded by its own Content-Transfer-Encoding. Decoding 8bit text as quoted-printable would turn a
// link's `token=4F…` into `tokenO…`.
function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function decodePart(part: string): string {
  const headerEnd = part.search(/\r?\n\r?\n/);
  if (headerEnd < 0) return '';
  const encoding = part
    .slice(0, headerEnd)
    .match(/^content-transfer-encoding:\s*(\S+)/im)?.[1]
    ?.toLowerCase();
  const body = part.slice(headerEnd).replace(/^\r?\n\r?\n/, '');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  if (encoding === 'base64') return Buffer.from(body, 'base64').toString('utf8');
  return body;
}

function parseMail(raw: string): ReceivedMail {
  const headerEnd = raw.search(/\r?\n\r?\n/);
  const headers = raw.slice(0, headerEnd).replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string) => headers.match(new RegExp(`^${name}: (.*)$`, 'im'))?.[1]?.trim() ?? '';
  const boundary = header('Content-Type').match(/boundary="?([^";]+)"?/i)?.[1];
  const parts = boundary
    ? raw
        .slice(headerEnd)
        .split(`--${boundary}`)
        .slice(1, -1)
        .map((part) => part.replace(/^\r?\n/, ''))
    : [raw];
  const body = parts.map(decodePart).join('\n');
  const links = [...new Set(body.match(/https?:\/\/[^\s"<>]+/g) ?? [])];
  return { to: header('To'), subject: header('Subject'), body, links };
}

async function poll(read: () => Promise<ReceivedMail[]>, to: string, subject: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await read()).find((mail) => mail.to.includes(to) && mail.subject.includes(subject));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no mail to ${to} about "${subject}" within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A real SMTP server on a free port, keeping what it receives. */
export async function startSmtpMailbox(): Promise<SmtpMailbox> {
  const received: ReceivedMail[] = [];
  let available = true;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, callback) {
      if (available) return callback();
      return callback(Object.assign(new Error('Service not available'), { responseCode: 421 }));
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push(parseMail(Buffer.concat(chunks).toString('utf8')));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  const all = async () => [...received];
  return {
    smtpUrl: `smtp://127.0.0.1:${port}`,
    all,
    waitFor: (to, subject, timeoutMs = 10_000) => poll(all, to, subject, timeoutMs),
    setAvailable(value) {
      available = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The embedded outbox: `.eml` files under DATA_DIR/outbox. */
export function outboxMailbox(dataDir: string): Mailbox {
  const dir = join(dataDir, 'outbox');
  const all = async () => {
    const names = await readdir(dir).catch(() => [] as string[]);
    const files = names.filter((name) => name.endsWith('.eml')).sort();
    return Promise.all(files.map(async (name) => parseMail(await readFile(join(dir, name), 'utf8'))));
  };
  return {
    smtpUrl: undefined,
    all,
    waitFor: (to, subject, timeoutMs = 10_000) => poll(all, to, subject, timeoutMs),
    close: async () => {},
  };
}
