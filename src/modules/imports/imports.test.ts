import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { signInAdmin } from '../../../test/helpers/admin.js';
import { expectProblem, PASSWORD } from '../../../test/helpers/client.js';
import { useHarness } from '../../../test/helpers/harness.js';
import { allCreated, generateCsv, type ImportView, importFile, upload } from '../../../test/helpers/imports.js';
import { queryRows } from '../../infra/db/database.js';

const file = useHarness({ MAX_UPLOAD_BYTES: String(2 * 1024 * 1024) });
let admin: { accessToken: string };

beforeAll(async () => {
  admin = await signInAdmin(file.harness);
});

async function userByEmail(email: string) {
  const [row] = await queryRows<{ name: string; birthDate: string | null; passwordHash: string | null }>(
    file.harness.runtime.database.db,
    sql`select name, birth_date::text as "birthDate", password_hash as "passwordHash" from users where email = ${email}`,
  );
  return row;
}

describe('importing a CSV', () => {
  it('reads the sample header (Nome,E-mail,Data de nascimento) and creates users without passwords', async () => {
    const csv = [
      'Nome,E-mail,Data de nascimento',
      'Maria Silva,Maria@Example.com ,15/03/1990',
      'João Souza,joao@example.com,1985-12-01',
      'Sem Data,semdata@example.com,',
    ].join('\n');
    const result = await importFile(file.harness.app, admin.accessToken, csv);
    expect(result).toMatchObject(allCreated(3));
    expect(await userByEmail('maria@example.com')).toEqual({
      name: 'Maria Silva',
      birthDate: '1990-03-15',
      passwordHash: null,
    });
    expect(await userByEmail('joao@example.com')).toMatchObject({ name: 'João Souza', birthDate: '1985-12-01' });
    expect(await userByEmail('semdata@example.com')).toMatchObject({ birthDate: null });
    expectProblem(await file.api.post('/auth/login', { email: 'maria@example.com', password: PASSWORD }), 401);
  });

  it('reads `;` with a BOM and CRLF, Latin-1 accents and quoted fields holding delimiters and line breaks', async () => {
    const latin1 = Buffer.from(
      'nome;email;birthDate\r\n"Conceição; da Silva";conceicao@example.com;2001-02-03\r\n"Gonçalo\r\nAraújo";goncalo@example.com;\r\n',
      'latin1',
    );
    const result = await importFile(file.harness.app, admin.accessToken, latin1);
    expect(result).toMatchObject({ status: 'completed', createdRows: 2, invalidRows: 0 });
    expect((await userByEmail('conceicao@example.com'))?.name).toBe('Conceição; da Silva');
    expect((await userByEmail('goncalo@example.com'))?.name).toBe('Gonçalo\nAraújo');

    const utf8 = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('E-mail;Nome\r\nrene@example.com;"René ""the best"" Ñúñez"\r\n'),
    ]);
    expect(await importFile(file.harness.app, admin.accessToken, utf8)).toMatchObject({
      status: 'completed',
      createdRows: 1,
    });
    expect((await userByEmail('rene@example.com'))?.name).toBe('René "the best" Ñúñez');
  });

  it('reports each bad row with its line in the file, skips it, and imports the rest', async () => {
    const csv = [
      'name,email,birth_date', // 1
      'Good One,good1@example.com,2000-01-01', // 2
      'Bad Mail,not-an-email,2000-01-01', // 3
      '"Two', // 4
      'Lines",twolines@example.com,1999-09-09', // 5
      '', // 6 (blank: ignored)
      'Future,future@example.com,2999-01-01', // 7
      ',noname@example.com,', // 8
      'Bad Date,baddate@example.com,2021-02-30', // 9
      'Good Two,good2@example.com,', // 10
      '=HYPERLINK(1),formula,', // 11
    ].join('\n');
    const result = await importFile(file.harness.app, admin.accessToken, csv);
    expect(result).toMatchObject({
      status: 'completed',
      processedRows: 8,
      createdRows: 3,
      invalidRows: 5,
      duplicateRows: 0,
    });
    expect(result.errors.map((e) => e.line)).toEqual([3, 7, 8, 9, 11]);
    expect(result.errors[0]?.message).toMatch(/e-mail "not-an-email" is not valid/);
    expect(result.errors[1]?.message).toMatch(/future/);
    expect(result.errors[2]?.message).toMatch(/name is empty/);
    expect(result.errors[3]?.message).toMatch(/does not exist/);

    const errorsCsv = await file.harness.app.inject({
      method: 'GET',
      url: `/api/v1/users/imports/${(result as ImportView & { id: string }).id}/errors.csv`,
      headers: { authorization: `Bearer ${admin.accessToken}` },
    });
    expect(errorsCsv.headers['content-type']).toMatch(/^text\/csv/);
    expect(errorsCsv.body.split('\n')[0]).toBe('"line","row","reason"');
    expect(errorsCsv.body).toContain('"3","Bad Mail,not-an-email,2000-01-01",');
    // A cell that a spreadsheet would run as a formula is defused.
    expect(errorsCsv.body).toContain(`"11","'=HYPERLINK(1),formula,",`);
  });

  it('writes errors.csv that runs no formula, whether a spreadsheet splits it on `,` or on `;`', async () => {
    const rows = ['x;=1+1;', 'a,+1;-1', 'b,c@d; @SUM(A1)', '"=cmd|\' /C calc\'!A0",x', 'c,"y;\t=2"'];
    const result = await importFile(file.harness.app, admin.accessToken, ['name,email', ...rows].join('\n'));
    expect(result.invalidRows).toBe(rows.length);
    const errorsCsv = await file.harness.app.inject({
      method: 'GET',
      url: `/api/v1/users/imports/${(result as ImportView & { id: string }).id}/errors.csv`,
      headers: { authorization: `Bearer ${admin.accessToken}` },
    });
    const lines = errorsCsv.body.trimEnd().split('\n');
    expect(lines).toHaveLength(rows.length + 1);
    for (const line of lines) {
      for (const separator of [',', ';']) {
        for (const cell of line.split(separator)) expect(cell.replace(/^[ "]*/, ''), line).not.toMatch(/^[=+\-@\t\r]/);
      }
      // Every cell quoted: a reader that honours quotes keeps each one whole.
      expect(line).toMatch(/^"([^"]|"")*"(,"([^"]|"")*")*$/);
    }
    // The row as read, whole, its formula defused.
    expect(lines[1]).toMatch(/^"2","x;'=1\+1;",/);
  });

  it('counts duplicates, within the file and against the database, without inserting twice', async () => {
    await file.api.register('already@example.com');
    const csv = [
      'name,email',
      'A,dup@example.com',
      'B,DUP@example.com',
      'C,already@example.com',
      'D,fresh@example.com',
    ].join('\n');
    const result = await importFile(file.harness.app, admin.accessToken, csv);
    expect(result).toMatchObject({ status: 'completed', createdRows: 2, duplicateRows: 2, invalidRows: 0 });
    expect((await userByEmail('dup@example.com'))?.name).toBe('A');
  });

  it('fails an import whose file has no e-mail column, with the reason, and logs it', async () => {
    const result = await importFile(file.harness.app, admin.accessToken, 'name,phone\nAna,123\n');
    expect(result.status).toBe('failed');
    expect(result.failureReason).toMatch(/no email \(or e-mail\) column/);
    const log = (await file.api.get('/logs?action=import.failed', admin.accessToken)).json();
    expect(log.data[0]).toMatchObject({ action: 'import.failed', userId: null });
  });

  it('imports two files at once, each with its own exact counts', async () => {
    const [a, b] = await Promise.all([
      importFile(file.harness.app, admin.accessToken, generateCsv(3000)),
      importFile(file.harness.app, admin.accessToken, generateCsv(2000)),
    ]);
    expect(a).toMatchObject({ status: 'completed', createdRows: 3000, processedRows: 3000 });
    expect(b).toMatchObject({ status: 'completed', createdRows: 2000, processedRows: 2000 });
  });
});

describe('the upload', () => {
  it('answers 202 with Location, queues the import and logs import.queued', async () => {
    const response = await upload(file.harness.app, admin.accessToken, 'name,email\nX,x@example.com\n');
    expect(response.statusCode, response.body).toBe(202);
    const body = response.json();
    expect(body).toMatchObject({ status: 'queued', fileName: 'users.csv', percent: 0 });
    expect(response.headers.location).toBe(`/api/v1/users/imports/${body.id}`);
    const log = (await file.api.get('/logs?action=import.queued', admin.accessToken)).json();
    expect(log.meta.total).toBeGreaterThan(0);
  });

  it('refuses content that is not text, files over MAX_UPLOAD_BYTES, a missing file and non-admins', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expectProblem(await upload(file.harness.app, admin.accessToken, png, 'photo.png'), 415);
    expectProblem(await upload(file.harness.app, admin.accessToken, Buffer.from('a,b\n\0\0\0binary')), 415);
    const huge = `name,email\n${'x'.repeat(2 * 1024 * 1024 + 10)}\n`;
    expectProblem(await upload(file.harness.app, admin.accessToken, huge), 413);
    const json = await file.api.post('/users/imports', { file: 'nope' }, admin.accessToken);
    expectProblem(json, 415);
    const user = await file.api.signUp();
    expectProblem(await upload(file.harness.app, user.accessToken, 'name,email\n'), 403);
    const files = await queryRows<{ n: number }>(
      file.harness.runtime.database.db,
      sql`select count(*)::int as n from user_imports where size_bytes > 2000000`,
    );
    expect(files[0]?.n).toBe(0);
  });

  it('lists imports newest first', async () => {
    const page = (await file.api.get('/users/imports?pageSize=2', admin.accessToken)).json();
    expect(page.data).toHaveLength(2);
    expect(Date.parse(page.data[0].createdAt)).toBeGreaterThanOrEqual(Date.parse(page.data[1].createdAt));
    expectProblem(await file.api.get('/users/imports/00000000-0000-4000-8000-000000000000', admin.accessToken), 404);
  });
});

describe('live progress', () => {
  it('streams the percentage rising over SSE and closes at the end', async () => {
    const address = await file.harness.app.listen({ port: 0, host: '127.0.0.1' });
    const response = await upload(file.harness.app, admin.accessToken, generateCsv(20_000));
    const { id } = response.json();
    const stream = await fetch(`${address}/api/v1/users/imports/${id}/events`, {
      headers: { authorization: `Bearer ${admin.accessToken}` },
    });
    const text = await stream.text(); // ends when the server closes the stream
    const events = text
      .split('\n\n')
      .filter((block) => block.startsWith('event: progress'))
      .map((block) => JSON.parse(block.split('\ndata: ')[1] as string) as ImportView);
    expect(events.length).toBeGreaterThanOrEqual(3);
    const percents = events.map((e) => e.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(events.at(-1)).toMatchObject({ status: 'completed', percent: 100, createdRows: 20_000 });
    expect(new Set(percents).size).toBeGreaterThan(2);
  });
});
