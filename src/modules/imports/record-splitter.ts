import type { CsvRecord } from './csv-reader.js';

/** How many lines a value spans beyond its first: a quoted field may hold line breaks. */
export function countLineBreaks(text: string): number {
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
 * Splits LF text into records exactly as csv-parse does with the options of `parseRecords`, for records that
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
