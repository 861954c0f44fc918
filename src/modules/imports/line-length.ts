import { Transform } from 'node:stream';

/**
 * The longest line an import reads. A row of users is a name, an address of at most 254
 * characters and a date; a line far longer is no such row, and reading it whole would hold it in
 * memory several times over (the splitter's text, csv-parse's field and raw buffers).
 */
export const MAX_LINE_CHARS = 100_000;

/** Why an import stops at a line: retrying reads the same file and stops there again. */
export class LineTooLongError extends Error {
  override name = 'LineTooLongError';
  constructor(line: number) {
    super(`Line ${line} is longer than ${MAX_LINE_CHARS} characters: no row of users is, so the file was not read on.`);
  }
}

/** Passes LF text through, failing with {@link LineTooLongError} at the first line over `max`. */
export function limitLineLength(max = MAX_LINE_CHARS): Transform {
  let line = 1;
  let length = 0;
  return new Transform({
    decodeStrings: false,
    // Each chunk of decoded text holds whole characters, even when the stream hands it on as bytes.
    transform(chunk: string | Buffer, _encoding, callback) {
      const text = String(chunk);
      for (let from = 0; ; ) {
        const end = text.indexOf('\n', from);
        length += (end < 0 ? text.length : end) - from;
        if (length > max) return callback(new LineTooLongError(line));
        if (end < 0) return callback(null, chunk);
        line += 1;
        length = 0;
        from = end + 1;
      }
    },
  });
}
