// The admin API's JSON reader. Two things JSON.parse alone gets wrong for it:
// - int64 ids above 2^53 lose digits as doubles, so integers beyond the safe range are kept as
//   their exact decimal strings (the admin service accepts ids as strings or numbers);
// - fastify's own JSON parser refuses "__proto__" and "constructor.prototype" keys
//   (prototype poisoning); replacing that parser must not drop the protection.
// lossless-json reads the text in one left-to-right pass (no regular expressions over the body),
// so the time it takes grows linearly with the body, whatever the body holds.
import { parse as parseLossless } from 'lossless-json';
import { scan } from 'secure-json-parse';

/** The body carried a key that could set an object's prototype downstream. */
export class ForbiddenKeyError extends SyntaxError {}

const INTEGER_LITERAL = /^-?\d+$/;

/** Integers beyond ±(2^53 − 1) as exact decimal strings; every other number as JSON.parse reads it. */
function parseNumber(literal: string): number | string {
  const n = Number(literal);
  return INTEGER_LITERAL.test(literal) && !Number.isSafeInteger(n) ? literal : n;
}

export function parseAdminJson(text: string): unknown {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    // Duplicate keys with different values are refused (lossless-json's default): which one
    // would count is a guess.
    value = parseLossless(text, null, parseNumber);
  } catch (err) {
    if (err instanceof SyntaxError) throw new SyntaxError(err.message.slice(0, 200));
    // Thousands of nested arrays or objects exhaust the parser's stack.
    if (err instanceof RangeError) throw new SyntaxError('the JSON is nested too deeply');
    throw err;
  }
  // lossless-json stores a "__proto__" key as an own property (as JSON.parse does) and never sets
  // a prototype from input; the scan then refuses it as fastify's default parser does.
  if (value !== null && typeof value === 'object') {
    try {
      scan(value, { protoAction: 'error', constructorAction: 'error' });
    } catch {
      throw new ForbiddenKeyError('the body holds a "__proto__" or "constructor.prototype" key, which is refused');
    }
  }
  return value;
}
