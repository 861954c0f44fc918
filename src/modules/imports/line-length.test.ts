import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readRecords } from './csv-reader.js';
import { LineTooLongError, MAX_LINE_CHARS } from './line-length.js';

async function read(text: string) {
  const chunks = text.match(/[\s\S]{1,4096}/g) ?? [];
  const lines: number[] = [];
  for await (const page of readRecords(Readable.from(chunks.map((c) => Buffer.from(c))), 'utf-8', ',')) {
    lines.push(...page.map((record) => record.line));
  }
  return lines;
}

describe('reading an import', () => {
  it('reads lines up to the limit, however the chunks cut them', async () => {
    expect(await read(`a,b\n${'é'.repeat(MAX_LINE_CHARS)}\nc,d\n`)).toEqual([1, 2, 3]);
  });

  it('stops at the first line over the limit, naming it, without reading it whole', async () => {
    const error = await read(`a,b\nc,d\n\n${'x'.repeat(MAX_LINE_CHARS + 1)}\ne,f\n`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LineTooLongError);
    expect((error as Error).message).toMatch(/^Line 4 is longer than 100000 characters/);
  });
});
