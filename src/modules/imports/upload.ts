import { Transform } from 'node:stream';
import { AppError } from '../../infra/http/errors.js';

// The opening bytes of formats people upload by mistake.
const BINARY_SIGNATURES = [
  Buffer.from('%PDF'),
  Buffer.from([0x89, 0x50, 0x4e, 0x47]), // PNG
  Buffer.from([0xff, 0xd8, 0xff]), // JPEG
  Buffer.from([0x50, 0x4b, 0x03, 0x04]), // ZIP, XLSX, DOCX
  Buffer.from([0x1f, 0x8b]), // gzip
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0]), // XLS
];

const notText = () =>
  new AppError(415, 'NOT_A_CSV', 'Unsupported media type', 'The file is not text: upload a CSV file.');

/**
 * Passes the upload through, refusing it as soon as its first bytes show it is not text (a
 * known binary signature, or a NUL byte, which no CSV holds).
 */
export function textOnly(): Transform {
  let checked = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!checked) {
        checked = true;
        const binary = BINARY_SIGNATURES.some((signature) => chunk.subarray(0, signature.length).equals(signature));
        if (binary || chunk.subarray(0, 8192).includes(0)) return callback(notText());
      }
      callback(null, chunk);
    },
  });
}
