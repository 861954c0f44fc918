import type { Database, Statement } from '../db/database.js';

// Each statement moves one chunk at most: every one is short, so uploads share the request pool
// and its timeouts, and no connection or transaction stays open for the length of a file.

const BEGIN_UPLOAD: Statement = {
  name: 'begin_upload',
  text: 'insert into uploads (key) values ($1)',
};

const WRITE_UPLOAD_CHUNK: Statement = {
  name: 'write_upload_chunk',
  text: 'insert into upload_chunks (key, seq, data) values ($1, $2, $3::bytea)',
};

const FINISH_UPLOAD: Statement = {
  name: 'finish_upload',
  text: 'update uploads set size = $2 where key = $1',
};

const NEXT_UPLOAD_CHUNK: Statement = {
  name: 'next_upload_chunk',
  // The upload is looked up with every chunk: one removed mid-read fails the reader instead of
  // ending it early, as if the file were shorter.
  text: `select c.seq, c.data
         from uploads u
         left join lateral (
           select seq, data from upload_chunks where key = u.key and seq > $2 order by seq limit 1
         ) c on true
         where u.key = $1 and u.size is not null`,
};

const UPLOAD_SIZE: Statement = {
  name: 'upload_size',
  text: 'select size from uploads where key = $1 and size is not null',
};

const DELETE_UPLOAD: Statement = {
  name: 'delete_upload',
  // Its chunks go with it (on delete cascade).
  text: 'delete from uploads where key = $1',
};

/** beginUpload: the row an upload's chunks hang on; its size stays null, unreadable, until finishUpload. */
export async function beginUpload(database: Database, key: string): Promise<void> {
  await database.query(BEGIN_UPLOAD, [key]);
}

export async function writeUploadChunk(database: Database, key: string, seq: number, data: Buffer): Promise<void> {
  await database.query(WRITE_UPLOAD_CHUNK, [key, seq, data]);
}

/** finishUpload: every chunk is written; from now on the upload can be read. */
export async function finishUpload(database: Database, key: string, size: number): Promise<void> {
  await database.query(FINISH_UPLOAD, [key, size]);
}

/**
 * nextUploadChunk: the chunk after `after` (-1 for the first), `null` past the last one, or
 * `undefined` when there is no finished upload with this key.
 */
export async function nextUploadChunk(
  database: Database,
  key: string,
  after: number,
): Promise<{ seq: number; data: Buffer } | null | undefined> {
  const [row] = await database.query<{ seq: number | null; data: Uint8Array | null }>(NEXT_UPLOAD_CHUNK, [key, after]);
  if (!row) return undefined;
  if (row.seq === null || row.data === null) return null;
  // pg answers a Buffer, PGlite a Uint8Array: the same bytes, seen as a Buffer without a copy.
  return { seq: row.seq, data: Buffer.from(row.data.buffer, row.data.byteOffset, row.data.byteLength) };
}

/** uploadSize: the finished upload's size in bytes, or `undefined` when there is none with this key. */
export async function uploadSize(database: Database, key: string): Promise<number | undefined> {
  const [row] = await database.query<{ size: string | number }>(UPLOAD_SIZE, [key]);
  // bigint: pg answers it as text.
  return row ? Number(row.size) : undefined;
}

export async function deleteUpload(database: Database, key: string): Promise<void> {
  await database.query(DELETE_UPLOAD, [key]);
}
