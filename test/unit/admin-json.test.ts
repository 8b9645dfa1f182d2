// parseAdminJson: the admin API's body parser keeps integers beyond 2^53 as their exact decimal
// strings so int64 ids keep every digit, refuses prototype-poisoning keys as fastify's own
// parser does, and otherwise parses exactly as JSON.parse does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ForbiddenKeyError, parseAdminJson } from '../../src/primitives/exact-json.ts';

const INT64_MAX = 9223372036854775807n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

test('an empty or blank body is an empty object', () => {
  assert.deepEqual(parseAdminJson(''), {});
  assert.deepEqual(parseAdminJson('  \n\t'), {});
});

test('int64 ids given as JSON numbers keep every digit, in objects and arrays at any depth', () => {
  assert.deepEqual(parseAdminJson('{"user_id": 9223372036854775807}'), { user_id: '9223372036854775807' });
  assert.deepEqual(parseAdminJson('{"user_id":9007199254740993,"role":"admin"}'), { user_id: '9007199254740993', role: 'admin' });
  assert.deepEqual(parseAdminJson('{\n  "owner_id" :\n    9223372036854775806\n}'), { owner_id: '9223372036854775806' });
  assert.deepEqual(parseAdminJson('[9223372036854775807, 1, {"a": [9007199254740993]}]'), ['9223372036854775807', 1, { a: ['9007199254740993'] }]);
  assert.deepEqual(parseAdminJson('{"x": -9223372036854775807}'), { x: '-9223372036854775807' });
  // Beyond int64 too: the admin service then refuses it as an id, with every digit in hand.
  assert.deepEqual(parseAdminJson('{"x": 123456789012345678901234567890}'), { x: '123456789012345678901234567890' });
  assert.equal(parseAdminJson('9223372036854775807'), '9223372036854775807');
});

test('the safe-integer boundary: ±(2^53 − 1) stay numbers, one further is a string', () => {
  assert.deepEqual(parseAdminJson('[9007199254740991, -9007199254740991, 9007199254740992, -9007199254740992]'), [
    9007199254740991,
    -9007199254740991,
    '9007199254740992',
    '-9007199254740992',
  ]);
});

test('small, negative and fractional numbers and exponents stay numbers', () => {
  assert.deepEqual(parseAdminJson('{"user_id": 42, "ttl_s": 3600, "f": 1.5, "e": 1e21, "big": 1234567890123456, "n": -7, "nf": -0.25, "ne": -2E-3, "z": 0}'), {
    user_id: 42,
    ttl_s: 3600,
    f: 1.5,
    e: 1e21,
    big: 1234567890123456,
    n: -7,
    nf: -0.25,
    ne: -0.002,
    z: 0,
  });
  // Fractions and exponents are read as JSON.parse reads them, even with many digits.
  assert.deepEqual(parseAdminJson('{"d": 1234567890123456.5, "x": 12345678901234567890e2, "neg": -0}'), JSON.parse('{"d": 1234567890123456.5, "x": 12345678901234567890e2, "neg": -0}'));
});

test('property: any int64 in any position comes back exact (a string beyond 2^53, else the number)', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -INT64_MAX, max: INT64_MAX }), fc.constantFrom('', ' ', '\n', '\t  '), (n, ws) => {
      const text = `{"a":${ws}${n}${ws},"b":[${ws}${n}${ws},${ws}${n}],"c":{"d":${n}}}`;
      const exact = n > SAFE || n < -SAFE ? n.toString() : Number(n);
      assert.deepEqual(parseAdminJson(text), { a: exact, b: [exact, exact], c: { d: exact } });
    }),
  );
});

test('property: string values are never changed, whatever digits and punctuation they hold', () => {
  const tricky = fc.oneof(
    fc.string(),
    fc.stringMatching(/^[:,[\]{} "\\0-9a-z]{0,60}$/),
    fc.bigInt({ min: 10n ** 15n, max: INT64_MAX }).map((n) => `x:${n},`),
    fc.bigInt({ min: 10n ** 15n, max: INT64_MAX }).map((n) => `[${n}]`),
  );
  fc.assert(
    fc.property(tricky, tricky, (a, b) => {
      fc.pre(a !== '__proto__');
      const text = JSON.stringify({ note: a, list: [a, b], [a]: b });
      assert.deepEqual(parseAdminJson(text), JSON.parse(text));
    }),
  );
});

test('property: JSON without unsafe integers parses exactly as JSON.parse', () => {
  const noBigInts = (v: unknown): boolean => {
    if (typeof v === 'number') return !/^-?\d+$/.test(String(v)) || Number.isSafeInteger(v);
    if (Array.isArray(v)) return v.every(noBigInts);
    if (v !== null && typeof v === 'object') return Object.values(v).every(noBigInts);
    return true;
  };
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      fc.pre(noBigInts(v));
      const text = JSON.stringify(v);
      fc.pre(!text.includes('"__proto__"') && !text.includes('"constructor"'));
      assert.deepEqual(parseAdminJson(text), JSON.parse(text));
    }),
  );
});

test('a string that merely contains ":<16 digits>," is left alone', () => {
  assert.deepEqual(parseAdminJson('{"user_id":"7","note":"at:12345678901234567,ok"}'), { user_id: '7', note: 'at:12345678901234567,ok' });
  assert.deepEqual(parseAdminJson('{"note":"say \\"x\\":12345678901234567}","user_id":9223372036854775807}'), {
    note: 'say "x":12345678901234567}',
    user_id: '9223372036854775807',
  });
});

test('prototype poisoning is refused: "__proto__" anywhere, "constructor" holding "prototype"', () => {
  for (const text of [
    '{"__proto__": {"role": "admin"}}',
    '{"user_id": "1", "__proto__": null}',
    '{"a": {"b": [{"__proto__": {}}]}}',
    '[{"__proto__": 1}]',
    '{"\\u005f_proto__": {"x": 1}}',
    '{"_\\u005Fproto\\u005f_": {"x": 1}}',
    '{"constructor": {"prototype": {"x": 1}}}',
    '{"a": [{"constructor": {"prototype": null}}]}',
  ]) {
    assert.throws(() => parseAdminJson(text), ForbiddenKeyError, text);
  }
  // Harmless look-alikes pass, and nothing parsed ever gets a prototype from the input.
  const fine = parseAdminJson('{"constructor": "x", "proto": {"__proto": 1}, "note": "__proto__", "c": {"constructor": {"x": 1}}}') as Record<string, unknown>;
  assert.deepEqual(fine, { constructor: 'x', proto: { __proto: 1 }, note: '__proto__', c: { constructor: { x: 1 } } });
  assert.equal(Object.getPrototypeOf(fine), Object.prototype);
  assert.equal(Object.getPrototypeOf(fine.proto), Object.prototype);
  assert.equal(({} as Record<string, unknown>).role, undefined, 'Object.prototype untouched');
});

test('invalid JSON, duplicate keys with different values, and very deep nesting throw SyntaxError', () => {
  for (const text of [
    '{',
    '{"a":}',
    "{'a':1}",
    '{"a":1,}',
    'undefined',
    '{"a":"unterminated}',
    '{"a":01}',
    '{"a":1.}',
    '{"a":"\u0001"}',
    '{"user_id":"1","user_id":"2"}',
    '['.repeat(100_000) + ']'.repeat(100_000),
    '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000),
  ]) {
    assert.throws(() => parseAdminJson(text), SyntaxError, text.slice(0, 40));
  }
  // The same key twice with the same value is harmless.
  assert.deepEqual(parseAdminJson('{"user_id":"1","user_id":"1"}'), { user_id: '1' });
});

test('time grows linearly with the body: adversarial 64 KiB bodies take milliseconds', () => {
  const n = 64 * 1024 - 16;
  const bodies = [
    '{"a":"' + '\\"'.repeat(n / 2),
    '\\"'.repeat(n / 2),
    '{"a":"' + 'x\\"1234567890123456,'.repeat(n / 21),
    '{"a":' + '1'.repeat(n) + 'x',
    '[' + '"a",'.repeat(n / 4),
    ('1'.repeat(20) + '"').repeat(n / 21),
    '[' + ' '.repeat(n / 2) + '1'.repeat(n / 2),
  ];
  for (const text of bodies) {
    const started = performance.now();
    assert.throws(() => parseAdminJson(text), SyntaxError);
    const ms = performance.now() - started;
    assert.ok(ms < 250, `${text.slice(0, 20)}… took ${ms.toFixed(0)} ms`);
  }
});
