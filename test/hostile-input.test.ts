import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/infra/logger.js';
import { createMailer } from '../src/infra/mail/mailer.js';
import { createFileStorage } from '../src/infra/storage/file-storage.js';
import { signInAdmin } from './helpers/admin.js';
import { expectProblem, PASSWORD, uniqueEmail } from './helpers/client.js';
import { useHarness } from './helpers/harness.js';
import { importFile, upload } from './helpers/imports.js';

// Findings of an attacker's probe, each a request that used to answer 500 or do harm. Everything
// the service logs while they run is kept: client input must never make an error-level line.
const serviceLog: string[] = [];
const file = useHarness({}, { logger: createLogger('warn', sinkInto(serviceLog)) });
let admin: { accessToken: string };

function sinkInto(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
}

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

const register = (body: Record<string, unknown>) =>
  file.api.post('/auth/register', { name: 'Eve', email: uniqueEmail('eve'), password: PASSWORD, ...body });

describe('bad input gets a 4xx problem, never a 500', () => {
  it('refuses a name with a NUL or another control character, and a name of spaces', async () => {
    for (const name of ['Eve\u0000', 'Eve\u001b[31m', 'Ev\ne', '   ']) {
      const problem = expectProblem(await register({ name }), 400, 'VALIDATION_FAILED');
      expect(problem.errors?.map((e) => e.field)).toEqual(['name']);
    }
    expect((await register({ name: '  Eve Élise  ' })).json().user.name).toBe('Eve Élise');
  });

  it('refuses birth dates before 1900 and after today, and accepts a real one', async () => {
    for (const birthDate of ['0000-01-01', '1899-12-31', '9999-12-31']) {
      const problem = expectProblem(await register({ birthDate }), 400, 'VALIDATION_FAILED');
      expect(problem.errors).toEqual([{ field: 'birthDate', message: expect.stringMatching(/^must (be|not)/) }]);
    }
    expect((await register({ birthDate: '1900-01-01' })).statusCode).toBe(201);
  });

  it('refuses a page number past any sane list, and serves an empty page below it', async () => {
    expectProblem(await file.api.get('/users?page=99999999999999999999', admin.accessToken), 400, 'VALIDATION_FAILED');
    expectProblem(await file.api.get('/logs?page=1000001', admin.accessToken), 400, 'VALIDATION_FAILED');
    const far = (await file.api.get('/users?page=1000000', admin.accessToken)).json();
    expect(far).toMatchObject({ data: [], meta: { page: 1000000 } });
  });

  it('refuses values the database cannot hold: NUL, lone surrogates, integers past int64, deep nesting', async () => {
    const user = await file.api.signUp();
    // As JSON text, which is what arrives: no client library could even write the deepest one.
    const lease = (metadata: string) =>
      file.api.postRaw('/tokens/lease', 'application/json', `{"metadata":${metadata}}`, user.accessToken);
    for (const metadata of [
      '{"note":"a\\u0000b"}',
      '{"a\\u0000b":1}',
      '{"note":"\\ud800"}',
      '{"note":["x\\udc00y"]}',
      `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
    ]) {
      const problem = expectProblem(await lease(metadata), 400, 'VALIDATION_FAILED');
      expect(problem.errors?.[0]?.field).toMatch(/^metadata/);
    }
    // Nesting is counted from the body itself: 33 levels are refused, 32 are fine.
    const nested = (levels: number) => `{"list":${'['.repeat(levels - 2)}1${']'.repeat(levels - 2)}}`;
    expectProblem(await lease(nested(33)), 400, 'VALIDATION_FAILED');
    const granted = await lease(nested(32));
    expect(granted.statusCode, granted.body).toBe(201);
    const { tokenId } = granted.json();
    for (const fence of ['9223372036854775807', '9223372036854775808', '-9223372036854775809', '1e30']) {
      const problem = expectProblem(
        await file.api.get(`/tokens/${tokenId}/validate?fence=${fence}`, user.accessToken),
        400,
        'VALIDATION_FAILED',
      );
      expect(problem.errors?.map((e) => e.field)).toContain('fence');
    }
    expectProblem(await file.api.get('/logs?action=a%00b', user.accessToken), 400, 'VALIDATION_FAILED');
    // Bytes that are not UTF-8 (a surrogate's, a sequence cut short) are read as whatever text they make.
    for (const action of ['%ED%A0%80', 'a%F0%9F']) {
      expect((await file.api.get(`/logs?action=${action}`, user.accessToken)).statusCode).toBe(200);
    }
  });

  it('refuses reset and verify tokens that this service could not have made, before any lookup', async () => {
    expectProblem(await file.api.post('/auth/reset-password', { token: "x' or 1=1", password: PASSWORD }), 400);
    expectProblem(await file.api.post('/auth/verify-email', { token: 'a b' }), 400);
    expectProblem(
      await file.api.post('/auth/reset-password', { token: 'unknown-token', password: PASSWORD }),
      400,
      'INVALID_EMAIL_LINK',
    );
  });
});

describe('a flood of password hashing', () => {
  it('is bounded: the excess gets 503 with Retry-After at once, never a 500, and nothing waits without end', async () => {
    const flood = await Promise.all(Array.from({ length: 300 }, () => register({})));
    const statuses = flood.map((response) => response.statusCode);
    expect(statuses.filter((status) => status !== 201 && status !== 503)).toEqual([]);
    const refused = flood.filter((response) => response.statusCode === 503);
    expect(refused.length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 201).length).toBeGreaterThan(0);
    for (const response of refused) {
      expectProblem(response, 503, 'UNAVAILABLE');
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    }
  });
});

describe('bogus reset tokens', () => {
  it('are refused before any password is hashed: a flood of them never meets the hashing bound', async () => {
    const flood = await Promise.all(
      Array.from({ length: 300 }, () =>
        file.api.post('/auth/reset-password', { token: 'bogus-reset-token', password: 'a brand new password' }),
      ),
    );
    // Had each one been hashed first, the bounded line of hashes would have turned some away (503,
    // "too many passwords"). On a loaded machine the database may answer some too late (503 too,
    // the dependency's): those say nothing about hashing, and every other answer is the 400.
    const hashingRefusals = flood.filter((response) => /passwords are being checked/.test(response.body));
    expect(hashingRefusals.map((response) => response.body)).toEqual([]);
    const answered = flood.filter((response) => response.statusCode !== 503);
    expect(answered.length).toBeGreaterThan(0);
    for (const response of answered) expectProblem(response, 400, 'INVALID_EMAIL_LINK');
  });
});

describe('requests Node or the router refuse before any route', () => {
  let port: number;
  beforeAll(async () => {
    await file.harness.app.listen({ port: 0, host: '127.0.0.1' });
    port = (file.harness.app.server.address() as { port: number }).port;
  });

  /** Sends raw bytes to the listening service and reads the whole answer. */
  async function raw(request: string): Promise<{ status: number; type: string; body: string }> {
    const socket = connect(port, '127.0.0.1');
    socket.end(request);
    let text = '';
    for await (const chunk of socket) text += chunk;
    const [head = '', body = ''] = text.split('\r\n\r\n');
    return {
      status: Number(head.split(' ')[1]),
      type: head.match(/^content-type: (.*)$/im)?.[1] ?? '',
      body,
    };
  }

  it('answers a malformed Content-Length, oversized headers and a bad URL with problems', async () => {
    const length = await raw(
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
    );
    const headers = await raw(`GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    const url = await raw('GET /api/v1/logs/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const param = await raw(`GET /api/v1/tokens/${'x'.repeat(600)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    for (const [answer, status] of [
      [length, 400],
      [headers, 431],
      [url, 400],
      [param, 414],
    ] as const) {
      expect(answer.status, answer.body).toBe(status);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.body)).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
    }
  });
});

describe('imports that used to never end, or fail whole', () => {
  it('refuses an upload with a NUL byte anywhere, not only in its first bytes', async () => {
    const head = `name,email\n${'Ann,ann@example.com\n'.repeat(10_000)}`;
    const response = await upload(
      file.harness.app,
      admin.accessToken,
      Buffer.concat([Buffer.from(head), Buffer.from([0]), Buffer.from('\n')]),
    );
    expectProblem(response, 415, 'NOT_A_CSV');
  });

  it('answers an upload with no multipart boundary, or a multipart body cut short, with a problem', async () => {
    const uploads: [what: string, contentType: string, payload: string][] = [
      ['no boundary', 'multipart/form-data', 'name,email\n'],
      [
        'a body cut short',
        'multipart/form-data; boundary=xyz',
        '--xyz\r\nContent-Disposition: form-data; name="file"; filename="u.csv"\r\n\r\nname,email\nAnn,a',
      ],
    ];
    for (const [what, contentType, payload] of uploads) {
      const response = await file.api.postRaw('/users/imports', contentType, payload, admin.accessToken);
      expect(response.statusCode, what).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, what).toBeLessThan(500);
      expect(response.headers['content-type'], what).toMatch(/^application\/problem\+json/);
    }
  });

  it('reads a stray quote in the first rows as one bad row at its line, and imports the rest', async () => {
    const tag = Date.now();
    const csv = [
      'name,email,birth_date',
      `Ann,ann${tag}@example.com,`,
      `Bob "the" Builder,bob${tag}@example.com,`,
      `Cid,cid${tag}@example.com,`,
      `Dan\u0001,dan${tag}@example.com,`,
      `Eve,eve${tag}@example.com,1850-01-01`,
    ].join('\n');
    const view = await importFile(file.harness.app, admin.accessToken, csv);
    expect(view).toMatchObject({ status: 'completed', createdRows: 2, invalidRows: 3 });
    expect(view.errors.map((e) => [e.line, e.message])).toEqual([
      [3, expect.stringMatching(/quote/i)],
      [5, 'name has control characters'],
      [6, 'birth date "1850-01-01" is before 1900'],
    ]);
  });
});

describe('secrets never reach a log', () => {
  const lines: string[] = [];
  // As in production, where the dashboard's source maps are not served unless asked for.
  const logged = useHarness({ DASHBOARD_SOURCE_MAPS: 'false' }, { logger: createLogger('info', sinkInto(lines)) });

  it('redacts the token of an opened reset or verify link, like a stream ticket', async () => {
    for (const page of ['/reset-password?token=SECRET1', '/verify-email?x=1&token=SECRET2', '/?refreshToken=SECRET3']) {
      await logged.harness.app.inject({ method: 'GET', url: page });
    }
    const text = lines.join('');
    expect(text).toContain('/reset-password?token=[redacted]');
    expect(text).toContain('/verify-email?x=1&token=[redacted]');
    expect(text).not.toMatch(/SECRET\d/);
  });

  it('logs a failed query without its parameters or the row PostgreSQL quotes', async () => {
    const secret = '$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0$c2VjcmV0';
    const error = await logged.harness.runtime.database.db
      .execute(sql`insert into users (name, email, password_hash) values (null, 'x@example.com', ${secret})`)
      .catch((caught: unknown) => caught);
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).toContain(secret);
    logged.harness.runtime.logger.error({ err: error }, 'a query failed');
    const line = lines.at(-1) as string;
    expect(line).toContain('a query failed');
    expect(line).toContain('violates not-null constraint');
    expect(line).not.toContain(secret);
    expect(line).not.toContain('c2VjcmV0');
  });

  it('serves the dashboard without its source maps when told not to', async () => {
    const shell = (await logged.harness.app.inject({ method: 'GET', url: '/' })).body;
    const script = shell.match(/src="(\/assets\/main-[^"]+\.js)"/)?.[1] as string;
    expect((await logged.harness.app.inject({ method: 'GET', url: script })).statusCode).toBe(200);
    expectProblem(await logged.harness.app.inject({ method: 'GET', url: `${script}.map` }), 404);
  });
});

describe('files that hold secrets or personal data', () => {
  it('are readable by the service alone: outbox mail and uploads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tokenpool-modes-'));
    try {
      const mailer = createMailer({ outboxDir: join(dir, 'outbox') });
      await mailer.send({ to: 'a@example.com', subject: 'Reset', text: 'link', html: '<p>link</p>' });
      const storage = createFileStorage(join(dir, 'uploads'));
      const saved = await storage.save(Readable.from([Buffer.from('name,email\n')]));
      const [mail] = await readdir(join(dir, 'outbox'));
      const mode = async (path: string) => (await stat(path)).mode & 0o777;
      expect(await mode(join(dir, 'outbox'))).toBe(0o700);
      expect(await mode(join(dir, 'outbox', mail as string))).toBe(0o600);
      expect(await mode(join(dir, 'uploads'))).toBe(0o700);
      expect(await mode(join(dir, 'uploads', saved.key))).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the service's log, after every hostile request above", () => {
  it('holds no error-level line: nothing a client sent made the service fail', () => {
    const errorLines = serviceLog.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
    expect(errorLines).toEqual([]);
  });
});
