import { isUtf8 } from 'node:buffer';
import { Readable, Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { limitLineLength } from './line-length.js';
import { countLineBreaks, RecordSplitter } from './record-splitter.js';

export type Encoding = 'utf-8' | 'windows-1252';

/**
 * UTF-8 (with or without BOM) unless some byte sequence is not valid UTF-8; then Windows-1252, the
 * superset of Latin-1 that spreadsheets actually write. Reads the whole file once, without
 * decoding it (a single accented name on the last line decides it).
 */
export async function detectEncoding(source: Readable): Promise<Encoding> {
  let carry = Buffer.alloc(0);
  for await (const chunk of source) {
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    const end = completeUtf8Length(bytes);
    if (!isUtf8(bytes.subarray(0, end))) {
      source.destroy();
      return 'windows-1252';
    }
    carry = Buffer.from(bytes.subarray(end));
  }
  return carry.length === 0 ? 'utf-8' : 'windows-1252';
}

/** How many leading bytes hold whole characters: a sequence cut by the chunk's end waits. */
function completeUtf8Length(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const byte = bytes[bytes.length - back] as number;
    if ((byte & 0xc0) !== 0x80) {
      // A lead byte: is its sequence complete within what we have?
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      return needed > back ? bytes.length - back : bytes.length;
    }
  }
  return bytes.length;
}

/**
 * Decodes to text and turns CRLF and lone CR into LF, so the parser counts lines the way an
 * editor shows them. A CR at the end of a chunk waits for the next one, in case an LF follows.
 */
export function decodeToLf(encoding: Encoding): Transform {
  const decoder = new TextDecoder(encoding);
  let pendingCr = false;
  const normalize = (text: string, final: boolean) => {
    let out = (pendingCr ? '\r' : '') + text;
    pendingCr = !final && out.endsWith('\r');
    if (pendingCr) out = out.slice(0, -1);
    return out.replace(/\r\n?/g, '\n');
  };
  return new Transform({
    decodeStrings: true,
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, normalize(decoder.decode(chunk, { stream: true }), false));
    },
    flush(callback) {
      callback(null, normalize(decoder.decode(), true));
    },
  });
}

/** `;` or `,`, whichever appears more often outside quotes in the header line. */
export function detectDelimiter(headerLine: string): ',' | ';' {
  let inQuotes = false;
  let commas = 0;
  let semicolons = 0;
  for (const char of headerLine) {
    if (char === '"') inQuotes = !inQuotes;
    else if (!inQuotes && char === ',') commas += 1;
    else if (!inQuotes && char === ';') semicolons += 1;
  }
  return semicolons > commas ? ';' : ',';
}

/** Reads text up to the first line break, for delimiter detection. */
export async function readFirstLine(source: Readable, encoding: Encoding): Promise<string> {
  let text = '';
  const decoded = source.pipe(decodeToLf(encoding));
  // pipe() passes no error on: without this, a read that fails would leave the loop waiting forever.
  source.on('error', (error) => decoded.destroy(error));
  for await (const chunk of decoded) {
    text += chunk as string;
    const end = text.indexOf('\n');
    if (end >= 0 || text.length > 1_000_000) {
      source.destroy();
      return end >= 0 ? text.slice(0, end) : text;
    }
  }
  return text;
}

export type CsvRecord =
  | { kind: 'row'; line: number; values: string[] }
  | { kind: 'unparsable'; line: number; message: string; raw: string };

/**
 * Every record of the file, in order, with the line it starts on, a page (one decoded chunk's
 * worth) at a time; records that cannot be read (a stray quote) come as `unparsable` at their
 * place, so counting records is deterministic. Blank lines are skipped; the first record is the
 * header. Well-formed records are split here, fast; from the first record that is not, csv-parse
 * reads the rest of the file, so a malformed file reads exactly as it always has.
 */
export async function* readRecords(
  source: Readable,
  encoding: Encoding,
  delimiter: ',' | ';',
): AsyncGenerator<CsvRecord[]> {
  const decoded = source.pipe(decodeToLf(encoding));
  const text = decoded.pipe(limitLineLength());
  source.on('error', (error) => decoded.destroy(error));
  decoded.on('error', (error) => text.destroy(error));
  const chunks = text[Symbol.asyncIterator]() as AsyncIterator<string>;
  const splitter = new RecordSplitter(delimiter);
  for (;;) {
    const next = await chunks.next();
    const page = splitter.read(next.done ? '' : next.value, next.done === true);
    if (page.length > 0) yield page;
    if (splitter.stuck) {
      const rest = (async function* () {
        yield splitter.rest;
        for (let more = await chunks.next(); !more.done; more = await chunks.next()) yield more.value;
      })();
      yield* parseRecords(Readable.from(rest), delimiter, splitter.restLine - 1, splitter.atFileStart);
      return;
    }
    if (next.done) return;
  }
}

/**
 * csv-parse over LF text, each record with the line it starts on (`lineOffset` lines below the
 * text's first); a record it cannot read comes as `unparsable`. It reports a skipped record as
 * soon as it reads it, possibly before records above it have come out: that one waits its turn.
 */
export async function* parseRecords(
  text: Readable,
  delimiter: string,
  lineOffset: number,
  atFileStart: boolean,
): AsyncGenerator<CsvRecord[]> {
  const skipped: CsvRecord[] = [];
  let lastSkippedLine = -1;
  const parser = text.pipe(
    parse({
      delimiter,
      bom: atFileStart,
      info: true,
      raw: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (error, raw) => {
        const line = lineOffset + Number((error as { lines?: number } | undefined)?.lines ?? 0);
        // One record can break more than once (each stray quote): it is still one bad row.
        if (line === lastSkippedLine) return undefined;
        lastSkippedLine = line;
        skipped.push({
          kind: 'unparsable',
          line,
          message: error?.message.replace(/ at line \d+.*$/, '') ?? 'unreadable record',
          raw: raw ?? '',
        });
        return undefined;
      },
    }),
  );
  text.on('error', (error) => parser.destroy(error));
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    // `lines` is where the record ends; its quoted line breaks say how far back it began.
    let breaks = 0;
    for (const value of record) breaks += countLineBreaks(value);
    const line = lineOffset + info.lines - breaks;
    const page: CsvRecord[] = [];
    while (skipped.length > 0 && (skipped[0] as CsvRecord).line < line) page.push(skipped.shift() as CsvRecord);
    page.push({ kind: 'row', line, values: record });
    yield page;
  }
  if (skipped.length > 0) yield skipped;
}
