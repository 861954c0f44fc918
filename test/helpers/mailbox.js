import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
// The mailer forces quoted-printable, so one decoder reads every part.
function decodeQuotedPrintable(text) {
    return text
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(Number.parseInt(hex, 16)));
}
export function parseMail(raw) {
    const headerEnd = raw.search(/\r?\n\r?\n/);
    const headers = raw.slice(0, headerEnd).replace(/\r?\n[ \t]+/g, ' ');
    const header = (name) => headers.match(new RegExp(`^${name}: (.*)$`, 'im'))?.[1]?.trim() ?? '';
    const body = decodeQuotedPrintable(raw.slice(headerEnd));
    const links = [...new Set(body.match(/https?:\/\/[^\s"<>]+/g) ?? [])];
    return { to: header('To'), subject: header('Subject'), body, links };
}
async function poll(read, to, subject, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const found = (await read()).find((mail) => mail.to.includes(to) && mail.subject.includes(subject));
        if (found)
            return found;
        if (Date.now() > deadline)
            throw new Error(`no mail to ${to} about "${subject}" within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}
/** A real SMTP server on a free port, keeping what it receives. */
export async function startSmtpMailbox() {
    const received = [];
    const server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS', 'AUTH'],
        logger: false,
        onData(stream, _session, callback) {
            const chunks = [];
            stream.on('data', (chunk) => chunks.push(chunk));
            stream.on('end', () => {
                received.push(parseMail(Buffer.concat(chunks).toString('utf8')));
                callback();
            });
        },
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address();
    const all = async () => [...received];
    return {
        smtpUrl: `smtp://127.0.0.1:${port}`,
        all,
        waitFor: (to, subject, timeoutMs = 10_000) => poll(all, to, subject, timeoutMs),
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}
/** The embedded outbox: `.eml` files under DATA_DIR/outbox. */
export function outboxMailbox(dataDir) {
    const dir = join(dataDir, 'outbox');
    const all = async () => {
        const names = await readdir(dir).catch(() => []);
        const files = names.filter((name) => name.endsWith('.eml')).sort();
        return Promise.all(files.map(async (name) => parseMail(await readFile(join(dir, name), 'utf8'))));
    };
    return {
        smtpUrl: undefined,
        all,
        waitFor: (to, subject, timeoutMs = 10_000) => poll(all, to, subject, timeoutMs),
        close: async () => { },
    };
}
//# sourceMappingURL=mailbox.js.map