import Type from 'typebox';
import { Timestamp, Uuid } from '../../infra/http/schemas.js';

/** The upload, as multipart/form-data: documentation only, since the handler streams the file itself. */
export const UploadBody = Type.Object({
  file: Type.String({ format: 'binary', description: 'The CSV file; one row a user, with a header row.' }),
});

export const ImportStatusSchema = Type.Object({
  id: Uuid,
  status: Type.Union([
    Type.Literal('queued'),
    Type.Literal('processing'),
    Type.Literal('completed'),
    Type.Literal('failed'),
  ]),
  fileName: Type.String(),
  totalRows: Type.Union([Type.Integer(), Type.Null()], { description: 'Known once the whole file is read.' }),
  processedRows: Type.Integer(),
  createdRows: Type.Integer(),
  duplicateRows: Type.Integer(),
  invalidRows: Type.Integer(),
  percent: Type.Integer({ minimum: 0, maximum: 100 }),
  errors: Type.Array(Type.Object({ line: Type.Integer(), message: Type.String() }), {
    description: 'The first 1,000 bad rows.',
  }),
  failureReason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Timestamp,
  startedAt: Type.Union([Timestamp, Type.Null()]),
  finishedAt: Type.Union([Timestamp, Type.Null()]),
});
