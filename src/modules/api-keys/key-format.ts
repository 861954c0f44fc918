import { createHash, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** Every key starts so: secret scanners find leaked keys by it, and people tell a key from a token. */
export const API_KEY_PREFIX = 'tp_sk_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 32 characters of base62 carry 190 bits of randomness. */
const RANDOM_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
/** How many of its first characters a key shows in lists, for people to recognise it. */
const VISIBLE_LENGTH = 12;

/**
 * A key as scanners see it: the prefix, at least 32 random base62 characters, then the checksum
 * (the CRC32 of everything before it, in base62, zero-padded to 6). docs/using.md quotes it.
 */
export const API_KEY_PATTERN = /^tp_sk_([0-9A-Za-z]{32,64})([0-9A-Za-z]{6})$/;

function base62(value: number, length: number): string {
  let text = '';
  for (let rest = value; rest > 0; rest = Math.floor(rest / 62)) text = BASE62[rest % 62] + text;
  return text.padStart(length, '0');
}

function checksum(body: string): string {
  return base62(crc32(body), CHECKSUM_LENGTH);
}

/** A new key: `tp_sk_`, 32 random base62 characters (unbiased: randomInt draws each uniformly) and the checksum. */
export function newApiKey(): string {
  let body = API_KEY_PREFIX;
  for (let i = 0; i < RANDOM_LENGTH; i += 1) body += BASE62[randomInt(62)];
  return body + checksum(body);
}

/**
 * Whether the text is shaped like a key and its checksum holds: decided without the database, so
 * a mistyped or made-up key costs no lookup.
 */
export function isWellFormedApiKey(text: string): boolean {
  const match = API_KEY_PATTERN.exec(text);
  return match !== null && checksum(API_KEY_PREFIX + match[1]) === match[2];
}

/** Whether a bearer credential claims to be a key (well formed or not), rather than an access token. */
export function looksLikeApiKey(text: string): boolean {
  return text.startsWith(API_KEY_PREFIX);
}

/**
 * The stored form of a key: its SHA-256. A fast hash is enough, unlike for passwords: a key holds
 * 190 random bits, so nobody can guess one from its hash however many hashes a second they try,
 * and a slow hash would only cost every request the key authenticates.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

/** What lists show of a key: its first 12 characters (`tp_sk_` and 6 random ones). */
export function visiblePrefix(key: string): string {
  return key.slice(0, VISIBLE_LENGTH);
}
