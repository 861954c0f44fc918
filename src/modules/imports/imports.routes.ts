import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Config } from '../../config.js';
import type { Database } from '../../infra/db/database.js';
import type { EventBus } from '../../infra/events/event-bus.js';
import { AppError, errors } from '../../infra/http/errors.js';
import { pagedListRoute } from '../../infra/http/paged-list-route.js';
import { principal } from '../../infra/http/principal.js';
import { moduleRoutes } from '../../infra/http/route-auth.js';
import { IdParams, problems } from '../../infra/http/schemas.js';
import { type EventStream, eventStreamResponse, streamChannel } from '../../infra/http/sse.js';
import type { ProgressStore } from '../../infra/progress/progress-store.js';
import { enqueueJob } from '../../infra/queue/jobs.sql.js';
import type { JobQueue } from '../../infra/queue/queue.js';
import type { UploadStorage } from '../../infra/storage/upload-storage.js';
import { insertAuditEntry } from '../audit/audit.sql.js';
import { auditOrigin } from '../audit/audit-origin.js';
import { csvCell } from './csv-cell.js';
import { currentStatus, type ImportStatus, importChannel, isFinished, presentImport } from './import-status.js';
import { importUsersJob } from './import-users.job.js';
import { ImportStatusSchema, UploadBody } from './imports.schemas.js';
import { countImports, findImport, insertImport, listImports } from './imports.sql.js';
import { textOnly } from './upload.js';

const tags = ['imports'];

/**
 * What reading an upload failed on: our own refusals as they are; the multipart parser's errors
 * (no boundary, a body cut short), which carry no code, as the client's malformed body; anything
 * else (the disk) as it is.
 */
function uploadError(error: unknown): unknown {
  if (error instanceof AppError || typeof (error as { code?: unknown }).code === 'string') return error;
  return errors.malformedMultipart();
}

/** What the imports' routes are built from. */
export interface ImportsDeps {
  readonly database: Database;
  readonly storage: UploadStorage;
  readonly progress: ProgressStore;
  readonly events: EventBus;
  readonly queue: JobQueue;
  readonly config: Pick<Config, 'MAX_UPLOAD_BYTES'>;
}

const routes: FastifyPluginAsyncTypebox<{ deps: ImportsDeps }> = async (app, { deps }) => {
  const { storage, progress, events, queue, config } = deps;
  const { db } = deps.database;

  const load = async (id: string) => {
    const record = await findImport(db, id);
    if (!record) throw errors.notFound('The import');
    return record;
  };

  app.post(
    '/users/imports',
    {
      config: { auth: 'admin', scope: 'imports:write' },
      // The handler streams the file to storage and checks the part itself; the body schema is there
      // for the OpenAPI document (a `binary` format Ajv would refuse), so nothing validates against it.
      validatorCompiler: () => () => true,
      schema: {
        operationId: 'uploadImport',
        tags,
        summary: 'Upload a CSV of users to import in the background',
        description:
          'multipart/form-data with the file in the field `file`; streamed to storage, never held in memory. ' +
          'Columns: name (nome), email (e-mail), birth_date (birthDate, data de nascimento), `,` or `;`, UTF-8 or Latin-1.',
        consumes: ['multipart/form-data'],
        body: UploadBody,
        response: { 202: ImportStatusSchema, ...problems(400, 413, 415) },
      },
    },
    async (request, reply) => {
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > config.MAX_UPLOAD_BYTES + 64 * 1024) throw errors.payloadTooLarge(config.MAX_UPLOAD_BYTES);
      if (!request.isMultipart()) throw errors.notMultipart();
      const part = await request
        .file({ limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 1 } })
        .catch((error: unknown) => {
          throw uploadError(error);
        });
      if (part?.fieldname !== 'file') {
        part?.file.resume();
        throw errors.validation('The upload is invalid.', [{ field: 'file', message: 'is required' }]);
      }
      let saved: { key: string; size: number };
      try {
        saved = await storage.save(part.file, textOnly());
      } catch (error) {
        part.file.resume();
        if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
          throw errors.payloadTooLarge(config.MAX_UPLOAD_BYTES);
        }
        throw uploadError(error);
      }
      if (part.file.truncated) {
        await storage.remove(saved.key);
        throw errors.payloadTooLarge(config.MAX_UPLOAD_BYTES);
      }
      const caller = principal(request);
      const record = await db.transaction(async (tx) => {
        const created = await insertImport(tx, {
          fileName: part.filename.slice(0, 255) || 'upload.csv',
          storageKey: saved.key,
          sizeBytes: saved.size,
          createdBy: caller.userId,
        });
        await insertAuditEntry(tx, {
          action: 'import.queued',
          userId: caller.userId,
          target: { type: 'import', id: created.id },
          metadata: { fileName: created.fileName, sizeBytes: saved.size },
          context: auditOrigin(request),
        });
        await enqueueJob(tx, importUsersJob, { importId: created.id });
        return created;
      });
      queue.wake();
      return reply
        .status(202)
        .header('location', `${request.url.split('?')[0]}/${record.id}`)
        .send(presentImport(record));
    },
  );

  pagedListRoute(app, '/users/imports', {
    auth: 'admin',
    scope: 'imports:write',
    operationId: 'listImports',
    tags,
    summary: 'A page of imports, newest first',
    description: 'Every import with its progress: live while it runs, as stored once it ended.',
    item: ImportStatusSchema,
    source: () => ({
      rows: async (limit, offset) =>
        Promise.all((await listImports(db, limit, offset)).map((row) => currentStatus(row, progress))),
      count: () => countImports(db),
    }),
  });

  app.get(
    '/users/imports/:id',
    {
      config: { auth: 'admin', scope: 'imports:write' },
      schema: {
        operationId: 'getImport',
        tags,
        summary: 'An import and its progress',
        description: 'Status, row counts, percent and the first bad rows; live while the import runs.',
        params: IdParams,
        response: { 200: ImportStatusSchema, ...problems(400, 404) },
      },
    },
    async (request) => currentStatus(await load(request.params.id), progress),
  );

  app.get(
    '/users/imports/:id/events',
    {
      config: { streamTicket: true, auth: 'admin', scope: 'imports:write' },
      schema: {
        operationId: 'streamImportEvents',
        tags,
        summary: 'The import, again on every change (Server-Sent Events); closes when it ends',
        description:
          'A `progress` event with the import as it is now, then another on every change; the server closes ' +
          'the stream after the one that says `completed` or `failed`.',
        params: IdParams,
        response: {
          200: eventStreamResponse('Server-Sent Events: the import, on every change.', {
            progress: ImportStatusSchema,
          }),
          ...problems(400, 404),
        },
      },
    },
    async (request, reply) => {
      const record = await load(request.params.id);
      const send = (stream: EventStream, status: ImportStatus) => {
        stream.send('progress', status);
        if (isFinished(status.status)) stream.close();
      };
      const caller = principal(request);
      const stream = await streamChannel(request, reply, events, importChannel(record.id), caller, (open, message) =>
        send(open, message as ImportStatus),
      );
      // Read after subscribing, so a change between the two is not lost (at worst it comes twice).
      send(stream, await currentStatus((await findImport(db, record.id)) ?? record, progress));
    },
  );

  app.get(
    '/users/imports/:id/errors.csv',
    {
      config: { auth: 'admin', scope: 'imports:write' },
      schema: {
        operationId: 'getImportErrors',
        tags,
        summary: 'The bad rows as CSV: line, row as read, reason (the first 1,000)',
        description:
          'A download (`content-disposition: attachment`) with the header `line,row,reason`. Every cell is ' +
          'quoted, and any part of a cell that starts a formula (`=`, `+`, `-`, `@`, tab or carriage return, ' +
          'at its start or after a `,` or `;`) starts with an apostrophe.',
        params: IdParams,
        response: {
          200: {
            description: 'The bad rows, one a line.',
            content: { 'text/csv': { schema: Type.String() } },
          },
          ...problems(400, 404),
        },
      },
    },
    async (request, reply) => {
      const record = await load(request.params.id);
      const lines = [['line', 'row', 'reason'], ...record.errors.map((e) => [e.line, e.row, e.message])].map((cells) =>
        cells.map(csvCell).join(','),
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="import-${record.id}-errors.csv"`)
        .send(`${lines.join('\n')}\n`);
    },
  );
};

export const importsRoutes = moduleRoutes('imports-routes', routes);
