import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { API_KEY_PATTERN, hashApiKey, isWellFormedApiKey, newApiKey, visiblePrefix } from './key-format.js';

/** The key with the character at `index` replaced by another base62 character. */
function changedAt(key: string, index: number): string {
  const other = key[index] === 'a' ? 'b' : 'a';
  return key.slice(0, index) + other + key.slice(index + 1);
}

describe('API key format', () => {
  it('is tp_sk_, 32 random base62 characters and a 6-character CRC32 checksum of the rest', () => {
    const key = newApiKey();
    expect(key).toMatch(/^tp_sk_[0-9A-Za-z]{38}$/);
    expect(key).toMatch(API_KEY_PATTERN);
    const checksum = [...key.slice(-6)].reduce((value, char) => {
      const digit = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.indexOf(char);
      return value * 62 + digit;
    }, 0);
    expect(checksum).toBe(crc32(key.slice(0, -6)));
    expect(isWellFormedApiKey(key)).toBe(true);
    expect(newApiKey()).not.toBe(key);
  });

  it('refuses a key with any one character changed, or cut short, or lengthened', () => {
    const key = newApiKey();
    for (let index = 'tp_sk_'.length; index < key.length; index += 1) {
      expect(isWellFormedApiKey(changedAt(key, index))).toBe(false);
    }
    expect(isWellFormedApiKey(key.slice(0, -1))).toBe(false);
    expect(isWellFormedApiKey(`${key}0`)).toBe(false);
    expect(isWellFormedApiKey(`tp_pk_${key.slice(6)}`)).toBe(false);
    expect(isWellFormedApiKey('')).toBe(false);
  });

  it('is stored as a SHA-256 and shown by its first 12 characters', () => {
    const key = newApiKey();
    expect(hashApiKey(key)).toHaveLength(43);
    expect(hashApiKey(key)).not.toContain(key.slice(6, 20));
    expect(visiblePrefix(key)).toBe(key.slice(0, 12));
  });
});
