import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Database } from '../db/database.js';
import { UploadNotFoundError, type UploadStorage } from './upload-storage.js';
import {
  beginUpload,
  deleteUpload,
  finishUpload,
  nextUploadChunk,
  uploadSize,
  writeUploadChunk,
} from './uploads.sql.js';

/**
 * How many bytes one row of upload_chunks holds: big enough that a 100 MB file is a few hundred
 * statements, small enough that a writer or a reader holds only about this much at a time.
 */
const CHUNK_BYTES = 256 * 1024;

/**
 * Uploads as rows of PostgreSQL (uploads, upload_chunks): every `api` and `worker` process that
 * shares the database reaches them, with no disk in common.
 */
export function createDatabaseStorage(database: Database): UploadStorage {
  return {
    async save(source, ...transforms) {
      const key = randomUUID();
      await beginUpload(database, key);
      const sink = chunkWriter(database, key);
      try {
        await pipeline([source, ...transforms, sink]);
        await finishUpload(database, key, sink.bytes);
      } catch (error) {
        // Its chunks go with the row. Should the database be away, the row stays unfinished, which
        // no reader ever reads; the refusal is what the caller needs to hear.
        await deleteUpload(database, key).catch(() => {});
        throw error;
      }
      return { key, size: sink.bytes };
    },
    open: (key) => chunkReader(database, key),
    async size(key) {
      const size = await uploadSize(database, key);
      if (size === undefined) throw new UploadNotFoundError(key);
      return size;
    },
    remove: (key) => deleteUpload(database, key),
  };
}

/**
 * Gathers what it is given into chunks of {@link CHUNK_BYTES} and writes each as a row, asking for
 * more only once the row is in: the source waits on the database, never the other way round.
 */
function chunkWriter(database: Database, key: string): Writable & { bytes: number } {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let seq = 0;
  const flush = async () => {
    const data = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await writeUploadChunk(database, key, seq, data);
    seq += 1;
  };
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      sink.bytes += chunk.length;
      if (pendingBytes < CHUNK_BYTES) return callback();
      flush().then(() => callback(), callback);
    },
    final(callback) {
      if (pendingBytes === 0) return callback();
      flush().then(() => callback(), callback);
    },
  }) as Writable & { bytes: number };
  sink.bytes = 0;
  return sink;
}

/**
 * The upload's chunks in order, each fetched when the consumer wants more (keyset on `seq`): one
 * chunk in memory, whatever the file's size.
 */
function chunkReader(database: Database, key: string): Readable {
  let after = -1;
  return new Readable({
    read() {
      nextUploadChunk(database, key, after).then(
        (next) => {
          // Whoever read the first line or sniffed the encoding may have stopped reading.
          if (this.destroyed) return;
          if (next === undefined) return this.destroy(new UploadNotFoundError(key));
          if (next === null) return this.push(null);
          after = next.seq;
          this.push(next.data);
        },
        (error: Error) => this.destroy(error),
      );
    },
  });
}
