// hs256Signer (src/auth/jwt-sign.ts) mints the same tokens as fast-jwt's signer, byte for byte,
// and fast-jwt's verifier (which checks every file_sign) accepts them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createSigner, createVerifier } from 'fast-jwt';
import { hs256Signer } from '../../src/auth/jwt-sign.ts';

const key = fc.string({ minLength: 1, maxLength: 64 });
const kid = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 1, maxLength: 11 });
/** the claims of a file_sign, with any text where text goes */
const claims = fc.record(
  {
    app: fc.string(),
    fid: fc.string(),
    from_id: fc.string(),
    to_id: fc.string(),
    to_type: fc.integer({ min: 0, max: 9 }),
    ft: fc.integer({ min: 0, max: 1000 }),
    rid: fc.string(),
    iat: fc.integer({ min: 0, max: 4_000_000_000 }),
  },
  { requiredKeys: ['app', 'fid', 'from_id', 'to_id', 'to_type', 'ft', 'iat'] },
);

test('property: the same token as fast-jwt\'s signer, which its verifier accepts', () => {
  fc.assert(
    fc.property(key, kid, claims, (k, id, c) => {
      const ours = hs256Signer(k, id)(c);
      const theirs = createSigner({ key: k, algorithm: 'HS256', kid: id })({ ...c }) as string;
      assert.equal(ours, theirs);
      const verified = createVerifier({ key: k, algorithms: ['HS256'], complete: true })(ours) as { header: Record<string, unknown>; payload: Record<string, unknown> };
      assert.deepEqual(verified.header, { alg: 'HS256', typ: 'JWT', kid: id });
      assert.deepEqual(verified.payload, { ...c });
    }),
    { numRuns: 300 },
  );
});

test('without an iat, the token says now, in whole seconds, after the other claims', () => {
  const before = Math.floor(Date.now() / 1000);
  const token = hs256Signer('k', 'kid')({ fid: 'f', to_type: 1 });
  const after = Math.floor(Date.now() / 1000);
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(payload), ['fid', 'to_type', 'iat']);
  assert.ok(typeof payload.iat === 'number' && payload.iat >= before && payload.iat <= after, String(payload.iat));
});

test('a fractional iat is floored, as fast-jwt does', () => {
  assert.equal(hs256Signer('k', 'kid')({ iat: 1234.9 }), createSigner({ key: 'k', algorithm: 'HS256', kid: 'kid' })({ iat: 1234.9 }) as string);
});

test('another key or kid, another token; a tampered one is refused', () => {
  const c = { fid: 'f', iat: 1 };
  const token = hs256Signer('key-a', 'kid')(c);
  assert.notEqual(hs256Signer('key-b', 'kid')(c), token);
  assert.notEqual(hs256Signer('key-a', 'kid2')(c), token);
  const verify = createVerifier({ key: 'key-a', algorithms: ['HS256'] });
  const [h, p, s] = token.split('.');
  const tampered = `${h}.${Buffer.from(JSON.stringify({ fid: 'g', iat: 1 })).toString('base64url')}.${s}`;
  assert.throws(() => verify(tampered), /signature/i);
  assert.deepEqual(verify(`${h}.${p}.${s}`), c);
});
