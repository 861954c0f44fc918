import { escapeArrayElement } from './database.js';

const OPEN = 0x7b;
const CLOSE = 0x7d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const INITIAL_BYTES = 64 * 1024;

/**
 * The same PostgreSQL array literal `pgArray` makes, as UTF-8 bytes written one element at a
 * time into two buffers outside the JavaScript heap, used in turn: a literal taken stays valid
 * until the take after next, so one batch can commit while the next is written, and a
 * million-row import allocates nothing per row that outlives its record. (Rows held in objects,
 * or in a string per batch, until their commit outlived the young generation, and the heap grew
 * by tens of megabytes between two full collections.) Send a literal as a bytea parameter and
 * read it with `convert_from($1, 'UTF8')::text[]`.
 */
export class ArrayLiteralWriter {
  private bytes = Buffer.allocUnsafe(INITIAL_BYTES);
  private spare = Buffer.allocUnsafe(INITIAL_BYTES);
  private length = 1;

  constructor() {
    this.bytes[0] = OPEN;
  }

  push(value: string | null): void {
    // The longest a UTF-16 unit gets in UTF-8 is 3 bytes; an escaped one is 2.
    this.reserve(value === null ? 5 : value.length * 3 + 3);
    if (this.length > 1) this.bytes[this.length++] = COMMA;
    if (value === null) {
      this.length += this.bytes.write('NULL', this.length, 'latin1');
      return;
    }
    this.bytes[this.length++] = QUOTE;
    this.length += this.bytes.write(escapeArrayElement(value), this.length);
    this.bytes[this.length++] = QUOTE;
  }

  /** The literal written since the last take; the writer goes on in its other buffer. */
  take(): Buffer {
    this.reserve(1);
    this.bytes[this.length++] = CLOSE;
    const literal = this.bytes.subarray(0, this.length);
    [this.bytes, this.spare] = [this.spare, this.bytes];
    this.bytes[0] = OPEN;
    this.length = 1;
    return literal;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + bytes));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}
