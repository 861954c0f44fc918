import type { Readable, Transform } from 'node:stream';

/**
 * Where uploaded files live between the request and the job: PostgreSQL (database-storage.ts), so
 * that every worker can read what any API process wrote, or the file system under
 * `DATA_DIR/uploads` (file-storage.ts) on the embedded defaults.
 */
export interface UploadStorage {
  /**
   * Streams `source`, through `transforms` (which may refuse it by failing), into a new object and
   * answers its key and size; never holds it whole, and keeps nothing of a refused one.
   */
  save(source: Readable, ...transforms: Transform[]): Promise<{ key: string; size: number }>;
  /** The object's bytes; the stream fails with {@link UploadNotFoundError} if there is no such object. */
  open(key: string): Readable;
  /** Rejects with {@link UploadNotFoundError} if there is no such object. */
  size(key: string): Promise<number>;
  remove(key: string): Promise<void>;
}

/**
 * No upload has this key (never saved, or removed). Its code is the file system's, so a caller
 * tells "gone for good" from "could not be read this time" the same way for every storage.
 */
export class UploadNotFoundError extends Error {
  override name = 'UploadNotFoundError';
  readonly code = 'ENOENT';
  constructor(key: string) {
    super(`no upload ${key}`);
  }
}
