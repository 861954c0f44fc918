import { createHash } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { Principal } from '../../infra/http/principal.js';

const ISSUER = 'tokenpool';

/** Tokens whose decryption is remembered, per process: a client sends the same one many times. */
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * The access token a client presents (the API's `accessToken`): a JWT whose claims are encrypted
 * (JWE, `dir` + `A256GCM`), so a client holds an opaque string, and nobody without the key can read
 * or forge the claims. Named credentials here, so it is never confused with the pool's tokens.
 */
export function createAccessCredentials(secret: string, ttlSeconds: number) {
  // `dir` with A256GCM needs exactly 32 bytes; hashing accepts a secret of any length. Imported
  // once as a CryptoKey, rather than on every call from raw bytes.
  const key = crypto.subtle.importKey('raw', createHash('sha256').update(secret).digest(), 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
  const verified = new Map<string, { claims: Principal; expiresAtMs: number }>();
  return {
    ttlSeconds,
    async issue(claims: Principal): Promise<string> {
      return new EncryptJWT({ role: claims.role, sid: claims.sessionId })
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .setSubject(claims.userId)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .encrypt(await key);
    },
    /**
     * The claims of a valid token, or `undefined` for anything else: expired, forged, malformed.
     * Only what decryption proves is remembered (until the token expires), never whether its
     * session is still open: the caller asks the database that on every request.
     */
    async verify(token: string): Promise<Principal | undefined> {
      const known = verified.get(token);
      if (known && Date.now() < known.expiresAtMs) return { ...known.claims };
      verified.delete(token);
      try {
        const { payload } = await jwtDecrypt(token, await key, { issuer: ISSUER });
        const { sub, role, sid, exp } = payload;
        if (typeof sub !== 'string' || typeof sid !== 'string' || (role !== 'user' && role !== 'admin'))
          return undefined;
        const claims: Principal = { userId: sub, role, sessionId: sid };
        if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string);
        verified.set(token, { claims, expiresAtMs: (exp ?? 0) * 1000 });
        return { ...claims };
      } catch {
        return undefined;
      }
    },
  };
}

export type AccessCredentials = ReturnType<typeof createAccessCredentials>;
