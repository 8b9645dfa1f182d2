// A JWT's signature is base64url without padding, and the last character of 32 or 64 bytes
// carries bits no byte uses: decoders ignore them, so four different strings decode to the same
// HMAC and would all verify. Ferry accepts only the one canonical string, so a token or
// file_sign has exactly one spelling (caches, logs and revocation lists can key on it).

/** HS256 signatures are 32 bytes (43 characters), HS512 64 bytes (86). */
const SIGNATURE_LENGTHS = new Set([43, 86]);

export function hasCanonicalSignature(jwt: string): boolean {
  const sig = jwt.slice(jwt.lastIndexOf('.') + 1);
  if (!SIGNATURE_LENGTHS.has(sig.length) || !/^[A-Za-z0-9_-]+$/.test(sig)) return false;
  return Buffer.from(sig, 'base64url').toString('base64url') === sig;
}
