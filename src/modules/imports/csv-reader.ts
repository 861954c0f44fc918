import { isUtf8 } from 'node:buffer';
import { Readable, Transform } from 'node:stream';
import { parse } from 'csv-parse';

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
  for await (const chunk of source.pipe(decodeToLf(encoding))) {
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
  const text = source.pipe(decodeToLf(encoding));
  source.on('error', (error) => text.destroy(error));
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

function countLineBreaks(text: string): number {
  let breaks = 0;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) breaks += 1;
  return breaks;
}

const QUOTE = 0x22;
const LF = 0x0a;
/** The record needs text beyond what has been read. */
const MORE = 0;
/** The record is not well-formed CSV. */
const BROKEN = 1;
/**
 * Longer than any real record: text this long that still ends no record (an unclosed quote, most
 * likely) goes to csv-parse, rather than be scanned again at every chunk.
 */
const MAX_PENDING_CHARS = 1 << 20;

/**
 * Splits LF text into records exactly as csv-parse does with the options above, for records that
 * are well-formed; it stops (`stuck`) at the first one that is not, leaving the text from the end
 * of the last record it gave (blank lines included, as csv-parse would have kept them in the bad
 * record's raw text) in `rest`, and that text's first line in `restLine`.
 */
export class RecordSplitter {
  stuck = false;
  private text = '';
  /** Where the next record begins in `text` (after the last one given), and its line. */
  private boundary = 0;
  private line = 1;
  /** Nothing read yet: a byte-order mark may come, and csv-parse would drop it. */
  atFileStart = true;
  private readonly delimiter: string;
  private readonly delimiterCode: number;
  /** The next line break and delimiter at or after `…From` (-1: none), so a field's search does not rescan the text. */
  private lineEnd = { at: -1, from: Number.POSITIVE_INFINITY };
  private nextDelimiter = { at: -1, from: Number.POSITIVE_INFINITY };

  constructor(delimiter: ',' | ';') {
    this.delimiter = delimiter;
    this.delimiterCode = delimiter.charCodeAt(0);
  }

  get rest(): string {
    return this.text.slice(this.boundary);
  }

  get restLine(): number {
    return this.line;
  }

  /** The records the text read so far completes; `end` when no text follows. */
  read(chunk: string, end: boolean): CsvRecord[] {
    let text = this.boundary === 0 ? this.text + chunk : this.text.slice(this.boundary) + chunk;
    // csv-parse drops a byte-order mark that opens the text (TextDecoder has dropped one already).
    if (this.atFileStart && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.atFileStart = false;
    }
    this.text = text;
    this.boundary = 0;
    this.lineEnd = { at: -1, from: Number.POSITIVE_INFINITY };
    this.nextDelimiter = { at: -1, from: Number.POSITIVE_INFINITY };
    const records: CsvRecord[] = [];
    let at = 0;
    let line = this.line;
    while (at < text.length) {
      if (text.charCodeAt(at) === LF) {
        // A blank line: skipped, but still a line.
        at += 1;
        line += 1;
        continue;
      }
      const record = this.record(text, at, end);
      if (record === MORE) break;
      if (record === BROKEN) {
        this.stuck = true;
        break;
      }
      records.push({ kind: 'row', line, values: record.values });
      line += record.lines;
      at = record.next;
      this.boundary = at;
      this.line = line;
    }
    if (!this.stuck && !end && text.length - this.boundary > MAX_PENDING_CHARS) this.stuck = true;
    return records;
  }

  private find(text: string, search: string, from: number, cache: { at: number; from: number }): number {
    if (from < cache.from || (cache.at >= 0 && cache.at < from)) {
      cache.at = text.indexOf(search, from);
      cache.from = from;
    }
    return cache.at;
  }

  /** One record from `start`: its values, where the next begins and how many lines it took. */
  private record(
    text: string,
    start: number,
    end: boolean,
  ): { values: string[]; next: number; lines: number } | typeof MORE | typeof BROKEN {
    const values: string[] = [];
    let lines = 1;
    let at = start;
    for (;;) {
      if (text.charCodeAt(at) === QUOTE) {
        let close = at + 1;
        for (;;) {
          close = text.indexOf('"', close);
          if (close < 0) return end ? BROKEN : MORE;
          if (close + 1 === text.length && !end) return MORE;
          // A doubled quote is a quote inside the field.
          if (text.charCodeAt(close + 1) !== QUOTE) break;
          close += 2;
        }
        const after = text.charCodeAt(close + 1);
        if (close + 1 < text.length && after !== this.delimiterCode && after !== LF) return BROKEN;
        const value = text.slice(at + 1, close);
        const unquoted = value.includes('"') ? value.replaceAll('""', '"') : value;
        lines += countLineBreaks(unquoted);
        values.push(unquoted);
        at = close + 1;
      } else {
        const lineEnd = this.find(text, '\n', at, this.lineEnd);
        if (lineEnd < 0 && !end) return MORE;
        const stop = lineEnd < 0 ? text.length : lineEnd;
        const delimiter = this.find(text, this.delimiter, at, this.nextDelimiter);
        const fieldEnd = delimiter >= 0 && delimiter < stop ? delimiter : stop;
        const value = text.slice(at, fieldEnd);
        // A quote inside an unquoted field: csv-parse's "Invalid Opening Quote".
        if (value.includes('"')) return BROKEN;
        values.push(value);
        at = fieldEnd;
      }
      if (at === text.length) return { values, next: at, lines };
      if (text.charCodeAt(at) === LF) return { values, next: at + 1, lines };
      // A delimiter: another field follows, maybe an empty one at the very end.
      at += 1;
      if (at === text.length && !end) return MORE;
    }
  }
}
