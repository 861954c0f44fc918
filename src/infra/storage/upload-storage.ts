import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Where uploaded files live between the request and the job. The file system under
 * `DATA_DIR/uploads` here; an object store can stand in, as long as every worker can read what
 * any API process wrote.
 */
export interface UploadStorage {
  /**
   * Streams `source`, through `transforms` (which may refuse it by failing), into a new object and
   * answers its key and size; never holds it whole, and keeps nothing of a refused one.
   */
  save(source: Readable, ...transforms: Transform[]): Promise<{ key: string; size: number }>;
  open(key: string): Readable;
  size(key: string): Promise<number>;
  remove(key: string): Promise<void>;
}

export function createFileStorage(dir: string): UploadStorage {
  const path = (key: string) => join(dir, key);
  return {
    async save(source, ...transforms) {
      // Uploads hold personal data: for this service's user alone.
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const key = `${randomUUID()}.csv`;
      // Written aside and renamed, so a reader never sees half an upload.
      const partial = path(`.${key}.partial`);
      try {
        await pipeline([source, ...transforms, createWriteStream(partial, { flags: 'wx', mode: 0o600 })]);
        await rename(partial, path(key));
      } catch (error) {
        await rm(partial, { force: true });
        throw error;
      }
      return { key, size: (await stat(path(key))).size };
    },
    open: (key) => createReadStream(path(key), { highWaterMark: 64 * 1024 }),
    size: async (key) => (await stat(path(key))).size,
    remove: (key) => rm(path(key), { force: true }),
  };
}
