import { Transform } from 'node:stream';
import { errors } from '../../infra/http/errors.js';

// The opening bytes of formats people upload by mistake.
const BINARY_SIGNATURES = [
  Buffer.from('%PDF'),
  Buffer.from([0x89, 0x50, 0x4e, 0x47]), // PNG
  Buffer.from([0xff, 0xd8, 0xff]), // JPEG
  Buffer.from([0x50, 0x4b, 0x03, 0x04]), // ZIP, XLSX, DOCX
  Buffer.from([0x1f, 0x8b]), // gzip
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0]), // XLS
];

/**
 * Passes the upload through, refusing it as soon as its bytes show it is not text: a known binary
 * signature at the start, or a NUL byte anywhere (no CSV holds one, and PostgreSQL text cannot).
 */
export function textOnly(): Transform {
  let first = true;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const binary =
        first && BINARY_SIGNATURES.some((signature) => chunk.subarray(0, signature.length).equals(signature));
      first = false;
      if (binary || chunk.includes(0)) return callback(errors.notACsv());
      callback(null, chunk);
    },
  });
}
