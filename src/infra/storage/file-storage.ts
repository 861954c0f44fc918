import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { UploadStorage } from './upload-storage.js';

/** Uploads as files in `dir`: for one machine, where the API and the jobs share the disk. */
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
