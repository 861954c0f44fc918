import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CsvRecord,
  decodeToLf,
  detectDelimiter,
  detectEncoding,
  parseRecords,
  readFirstLine,
  readRecords,
} from './csv-reader.js';
import { mapColumns, normalizeHeader, validateRow } from './import-rows.js';

function chunked(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

describe('reading CSV files', () => {
  it('detects UTF-8 across chunk boundaries that cut characters, and Windows-1252 otherwise', async () => {
    const utf8 = Buffer.from('naïve café ñ 😀 '.repeat(200));
    for (const size of [1, 2, 3, 5, 7, 4096]) expect(await detectEncoding(chunked(utf8, size))).toBe('utf-8');
    expect(await detectEncoding(Readable.from([Buffer.from('Conceição', 'latin1')]))).toBe('windows-1252');
    expect(await detectEncoding(Readable.from([Buffer.from([0x61, 0xc3])]))).toBe('windows-1252');
  });

  it('fails to read the first line of a file whose read fails, rather than wait for ever', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('the storage went away'));
      },
    });
    await expect(readFirstLine(failing, 'utf-8')).rejects.toThrow('the storage went away');
  });

  it('turns CRLF and CR into LF even when a chunk ends between CR and LF, and decodes Windows-1252', async () => {
    const bytes = Buffer.from('a\r\nb\rc\r\n\u0080', 'latin1');
    let text = '';
    for await (const chunk of chunked(bytes, 2).pipe(decodeToLf('windows-1252'))) text += chunk;
    expect(text).toBe('a\nb\nc\n€');
  });

  it('splits records exactly as csv-parse reads them, broken ones included, however the file is cut', async () => {
    const all = async (pages: AsyncIterable<CsvRecord[]>) => {
      const records: CsvRecord[] = [];
      for await (const page of pages) records.push(...page);
      return records;
    };
    // Short texts of the characters that matter, and cells that look like a real file's.
    const cell = fc.oneof(
      fc.stringMatching(/^[a ,;"\n\r\ufeffé]{0,6}$/),
      fc.constantFrom('Ana', '"Doe, Jane"', '"say ""hi"""', 'a@x.com', '"two\nlines"', ''),
    );
    const file = fc
      .array(fc.array(cell, { minLength: 1, maxLength: 4 }), { maxLength: 8 })
      .map((rows) => rows.map((row) => row.join(',')).join('\n'));
    await fc.assert(
      fc.asyncProperty(file, fc.integer({ min: 1, max: 9 }), fc.boolean(), async (text, size, bom) => {
        const bytes = Buffer.from(`${bom ? '\ufeff\ufeff' : ''}${text}`);
        const expected = await all(parseRecords(chunked(bytes, size).pipe(decodeToLf('utf-8')), ',', 0, true));
        expect(await all(readRecords(chunked(bytes, size), 'utf-8', ','))).toEqual(expected);
      }),
      { numRuns: 1000, seed: 13 },
    );
  });

  it('picks the delimiter of the header, ignoring quoted ones', () => {
    expect(detectDelimiter('name;email;"a,b,c"')).toBe(';');
    expect(detectDelimiter('name,email,"a;b;c;d"')).toBe(',');
    expect(detectDelimiter('single')).toBe(',');
  });

  it('matches headers loosely and names the missing columns', () => {
    expect(normalizeHeader(' Data de Nascimento ')).toBe('datadenascimento');
    expect(mapColumns(['E-MAIL', 'Nome', 'birth_date'])).toEqual({ columns: { email: 0, name: 1, birthDate: 2 } });
    expect(mapColumns(['nome', 'telefone'])).toEqual({ error: expect.stringMatching(/no email \(or e-mail\) column/) });
  });

  it('validates rows: names, e-mails and real, past dates', () => {
    const columns = { name: 0, email: 1, birthDate: 2 };
    const today = '2026-11-21';
    expect(validateRow([' Ana ', ' ANA@X.COM ', '29/02/2024'], columns, today)).toEqual({
      name: 'Ana',
      email: 'ana@x.com',
      birthDate: '2024-02-29',
    });
    expect(validateRow(['Ana', 'ana@x.com', '2026-11-22'], columns, today)).toEqual({
      error: expect.stringMatching(/future/),
    });
    expect(validateRow(['Ana', 'ana@x.com', '31/04/2000'], columns, today)).toEqual({
      error: expect.stringMatching(/not exist/),
    });
    expect(validateRow(['x'.repeat(256), 'bad', ''], columns, today)).toEqual({
      error: expect.stringMatching(/name is longer than 255.*e-mail "bad" is not valid/),
    });
  });
});
