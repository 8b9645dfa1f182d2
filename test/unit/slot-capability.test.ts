// A chat slot's capability is its file_sign plus the slot's terms and secret, bound by the
// commitment (sc) in the sign (src/auth/slot-capability.ts). What is minted verifies to the
// slot's claims; a change to any one character, or a sign without the secret, is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hs256Signer } from '../../src/auth/jwt-sign.ts';
import { newSlotSecret, readSlotCapability, slotCapability, verifySlotCapability, type SlotTerms } from '../../src/auth/slot-capability.ts';
import { FerryError } from '../../src/errors.ts';

const KEY = 'slot-test-sign-key-0123456789abcdefghijklmnop';
const OLD_KEY = 'slot-test-retired-key-0123456789abcdefghijklm';
const sign = hs256Signer(KEY, 'k1');
const NOW = 1_790_000_000_000;

function mint(terms: SlotTerms, claims = { app: 'app1', fid: 'file-0123456789ab', from_id: '1001', to_id: '1002', to_type: 1, ft: 100 }) {
  const { nonce, sc } = newSlotSecret(terms);
  return slotCapability(sign({ ...claims, sc }), terms, nonce);
}

const refusal = (fn: () => unknown): string | null => {
  try {
    fn();
    return null;
  } catch (err) {
    assert.ok(err instanceof FerryError, String(err));
    return `${err.code} ${err.message}`;
  }
};
const check = (cap: string, keys = [KEY], now = NOW) => verifySlotCapability(keys, readSlotCapability(cap), now);

test('a minted capability verifies to the claims of its sign and its terms', () => {
  const cap = mint({ expiresAt: NOW + 60_000, maxBytes: 104_857_600 });
  assert.deepEqual(check(cap), {
    appId: 'app1',
    fileId: 'file-0123456789ab',
    kind: 'chat',
    fileType: 100,
    ownerId: '1001',
    toId: '1002',
    toType: 1,
    maxBytes: 104_857_600,
    expiresAt: NOW + 60_000,
  });
  assert.deepEqual(check(cap, [OLD_KEY, KEY]).fileId, 'file-0123456789ab', 'the key it was made with may be the retired one');
});

test('expired: refused as expired only once the MAC holds; under a foreign key it is not found', () => {
  const cap = mint({ expiresAt: NOW, maxBytes: 10 });
  assert.equal(refusal(() => check(cap)), '60005 upload slot has expired: ask for a new one');
  assert.equal(refusal(() => check(cap, [OLD_KEY])), '60005 upload slot not found: ask for a new one');
});

test('the sign alone (a download_url) with any nonce, and a sign without a commitment, are refused', () => {
  const terms = { expiresAt: NOW + 60_000, maxBytes: 10 };
  const cap = mint(terms);
  const signOnly = cap.split('.').slice(0, 3).join('.');
  for (let i = 0; i < 20; i++) {
    assert.equal(refusal(() => check(slotCapability(signOnly, terms, newSlotSecret(terms).nonce))), '60005 upload slot not found: ask for a new one');
  }
  const plain = sign({ app: 'app1', fid: 'f', from_id: '1', to_id: '2', to_type: 1, ft: 100 });
  assert.equal(refusal(() => check(slotCapability(plain, terms, cap.split('.')[5]!))), '60005 upload slot not found: ask for a new one');
});

test('property: any one character changed anywhere in a capability is refused', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 2 ** 40 }),
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.nat(),
      fc.constantFrom(...alphabet),
      (ahead, maxBytes, at, replacement) => {
        const cap = mint({ expiresAt: NOW + ahead, maxBytes });
        const i = at % cap.length;
        fc.pre(cap[i] !== replacement);
        const changed = cap.slice(0, i) + replacement + cap.slice(i + 1);
        assert.equal(refusal(() => check(changed)), '60005 upload slot not found: ask for a new one', `at ${i}: ${changed}`);
      },
    ),
    { numRuns: 400 },
  );
});
