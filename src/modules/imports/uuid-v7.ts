import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const RANDOM_POOL_BYTES = 8192;

/**
 * A source of time-ordered UUIDs (RFC 9562 version 7, with its counter method): 48 bits of Unix
 * milliseconds, a 12-bit counter that keeps the ids of one millisecond in order, then 62 random
 * bits. Imported users get these keys so each batch lands at the right edge of the primary key's
 * index, where random (version 4) keys would touch, dirty and log a page anywhere in it per row.
 */
export function uuidV7Source(now: () => number = Date.now): () => string {
  let lastMs = -1;
  let counter = 0;
  let prefix = '';
  const random = Buffer.alloc(RANDOM_POOL_BYTES);
  let used = RANDOM_POOL_BYTES;
  return () => {
    const ms = now();
    if (ms > lastMs) {
      lastMs = ms;
      counter = 0;
    } else if (counter === 0xfff) {
      // 4,096 ids in one millisecond: borrow the next one, so the order still holds.
      lastMs += 1;
      counter = 0;
    } else counter += 1;
    if (counter === 0) {
      const time = lastMs.toString(16).padStart(12, '0');
      prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    }
    if (used === RANDOM_POOL_BYTES) {
      randomFillSync(random);
      used = 0;
    }
    const at = used;
    used += 8;
    const byte = (offset: number) => HEX[random[at + offset] as number] as string;
    const variant = HEX[((random[at] as number) & 0x3f) | 0x80] as string;
    return `${prefix}${(counter >> 8).toString(16)}${HEX[counter & 0xff]}-${variant}${byte(1)}-${byte(2)}${byte(3)}${byte(4)}${byte(5)}${byte(6)}${byte(7)}`;
  };
}
