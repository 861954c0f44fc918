import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { ImportStatus } from '../../src/modules/imports/import-status.js';

/** A multipart/form-data body carrying one file, as a browser or curl -F would send it. */
function multipart(content: Buffer | string, fileName = 'users.csv', field = 'file') {
  const boundary = `----tokenpool${randomBytes(8).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${fileName}"\r\nContent-Type: text/csv\r\n\r\n`,
    ),
    typeof content === 'string' ? Buffer.from(content) : content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export async function upload(app: FastifyInstance, token: string, content: Buffer | string, fileName?: string) {
  const body = multipart(content, fileName);
  return app.inject({
    method: 'POST',
    url: '/api/v1/users/imports',
    payload: body.payload,
    headers: { ...body.headers, authorization: `Bearer ${token}` },
  });
}

export type ImportView = ImportStatus;

/** How an import of `rows` rows, every one new and valid, ends. */
export function allCreated(rows: number): Partial<ImportView> {
  return {
    status: 'completed',
    totalRows: rows,
    processedRows: rows,
    createdRows: rows,
    duplicateRows: 0,
    invalidRows: 0,
    percent: 100,
    errors: [],
  };
}

/** Uploads and waits until the import has ended. */
export async function importFile(app: FastifyInstance, token: string, content: Buffer | string, timeoutMs = 60_000) {
  const response = await upload(app, token, content);
  expect(response.statusCode, response.body).toBe(202);
  return waitForImport(app, token, response.json().id, timeoutMs);
}

export async function waitForImport(app: FastifyInstance, token: string, id: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = (
      await app.inject({
        method: 'GET',
        url: `/api/v1/users/imports/${id}`,
        headers: { authorization: `Bearer ${token}` },
      })
    ).json() as ImportView;
    if (view.status === 'completed' || view.status === 'failed') return view;
    if (Date.now() > deadline) throw new Error(`import ${id} did not end: ${JSON.stringify(view)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `count` rows with unique e-mails, some names quoted with a comma inside. */
export function generateCsv(count: number, tag = randomBytes(4).toString('hex')): string {
  const lines = ['name,email,birth_date'];
  for (let i = 0; i < count; i += 1) {
    const name = i % 10 === 0 ? `"Doe, Jane ${i}"` : `User ${i}`;
    lines.push(`${name},user${i}.${tag}@example.com,1990-01-${String((i % 28) + 1).padStart(2, '0')}`);
  }
  return `${lines.join('\n')}\n`;
}
