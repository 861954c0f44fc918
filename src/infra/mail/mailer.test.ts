import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordResetEmail } from '../../modules/auth/emails.js';
import { createMailer } from './mailer.js';

describe('the outbox', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tokenpool-outbox-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a link whole, on a line of its own, that can be copied out of the file', async () => {
    const mailer = createMailer({ outboxDir: dir });
    // Long enough to be folded, with a `=` followed by hex digits: what quoted-printable mangles.
    const link = `http://localhost:3000/reset-password?token=3D${'A1b2-C3d4_'.repeat(5)}`;
    const mail = passwordResetEmail('ada@example.com', link, 60);
    // Text beyond ASCII too, which must not turn the message quoted-printable either.
    await mailer.send({ ...mail, text: `Déjà vu.\n${mail.text}` });
    await mailer.close();
    const [name] = await readdir(dir);
    const raw = await readFile(join(dir, name as string), 'utf8');
    expect(raw.split('\n')).toContain(link);
    expect(raw).toContain(`href="${link}"`);
    expect(raw).toContain('Déjà vu.');
    expect(raw).not.toMatch(/quoted-printable|base64/i);
  });
});
