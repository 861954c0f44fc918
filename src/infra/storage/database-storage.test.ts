import { randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../../../test/helpers/harness.js';
import { queryRows } from '../db/database.js';

// UPLOAD_STORAGE=database on PGlite too: the same SQL serves both, and this file runs on both.
const file = useHarness({ UPLOAD_STORAGE: 'database' }, { workers: false });
const storage = () => file.harness.runtime.storage;

/** How many rows the upload has in each table. */
async function rows(key: string): Promise<{ uploads: number; chunks: number }> {
  const [row] = await queryRows<{ uploads: number; chunks: number }>(
    file.harness.runtime.database.db,
    sql`select (select count(*)::int from uploads where key = ${key}) as uploads,
               (select count(*)::int from upload_chunks where key = ${key}) as chunks`,
  );
  return row as { uploads: number; chunks: number };
}

async function allRows(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    file.harness.runtime.database.db,
    sql`select (select count(*) from uploads) + (select count(*) from upload_chunks) as n`,
  );
  return Number(row?.n);
}

/** `bytes` as a multipart parser hands them over: 64 KiB at a time. */
function pieces(bytes: Buffer): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += 64 * 1024) yield bytes.subarray(at, at + 64 * 1024);
    })(),
  );
}

describe('uploads kept in the database', () => {
  it('reads a file of several chunks back byte for byte, and removes all of it', async () => {
    const bytes = randomBytes(1024 * 1024 + 12_345);
    const saved = await storage().save(pieces(bytes));
    expect(saved.size).toBe(bytes.length);
    expect((await rows(saved.key)).chunks).toBeGreaterThan(3);

    expect(await storage().size(saved.key)).toBe(bytes.length);
    expect((await buffer(storage().open(saved.key))).equals(bytes)).toBe(true);

    await storage().remove(saved.key);
    expect(await rows(saved.key)).toEqual({ uploads: 0, chunks: 0 });
    await expect(storage().size(saved.key)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(buffer(storage().open(saved.key))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps an empty file as an empty file', async () => {
    const saved = await storage().save(Readable.from([]));
    expect(saved.size).toBe(0);
    expect(await storage().size(saved.key)).toBe(0);
    expect((await buffer(storage().open(saved.key))).length).toBe(0);
    await storage().remove(saved.key);
  });

  it('keeps nothing of a save that a transform refuses after some chunks were written', async () => {
    const before = await allRows();
    let passed = 0;
    const refuseLate = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        passed += chunk.length;
        callback(passed > 900 * 1024 ? new Error('refused') : null, chunk);
      },
    });
    await expect(storage().save(pieces(randomBytes(2 * 1024 * 1024)), refuseLate)).rejects.toThrow('refused');
    expect(passed).toBeGreaterThan(900 * 1024);
    expect(await allRows()).toBe(before);
  });

  it('fails a reader whose upload is removed while it reads, rather than end it early', async () => {
    const saved = await storage().save(pieces(randomBytes(1024 * 1024)));
    const reader = storage().open(saved.key);
    const read = (async () => {
      let bytes = 0;
      for await (const chunk of reader) {
        if (bytes === 0) await storage().remove(saved.key);
        bytes += (chunk as Buffer).length;
      }
      return bytes;
    })();
    await expect(read).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
