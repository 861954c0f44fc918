import { createHash, randomBytes } from 'node:crypto';

/** A random, URL-safe token for refresh and one-time links; 256 bits. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Opaque tokens are stored as their SHA-256 only, so a copy of the database grants nothing. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
