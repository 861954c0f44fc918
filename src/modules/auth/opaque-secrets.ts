import { createHash, randomBytes } from 'node:crypto';

/** A random, URL-safe secret for refresh tokens, stream tickets and e-mailed links; 256 bits. */
export function newOpaqueSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Such secrets are stored as their SHA-256 only, so a copy of the database grants nothing. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}
