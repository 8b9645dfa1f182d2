// requestLogger (src/http/request-logger.ts): a request's logger is made only when a line its
// level lets through is written, and then writes exactly what fastify's own child would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { createLogger } from '../../src/logging.ts';
import { requestLogger } from '../../src/http/request-logger.ts';

function capture(level: string) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const parent = createLogger({ logLevel: level }, stream);
  // Counts the children made; pino's children inherit it, and it stays a method of each.
  let children = 0;
  const child = parent.child;
  parent.child = function (this: typeof parent, ...args: Parameters<typeof child>) {
    children++;
    return child.apply(this, args);
  } as typeof parent.child;
  const lines = () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { parent, lines, children: () => children };
}

const make = (parent: ReturnType<typeof capture>['parent'], requestId: string, options = {}) =>
  requestLogger(parent as unknown as FastifyBaseLogger, { requestId }, options);

test('a line the level leaves out makes no child and writes nothing', () => {
  const c = capture('warn');
  const log = make(c.parent, 'r-1');
  log.info({ route: '/file/download/chat' }, 'request');
  log.debug('incoming request');
  log.trace('detail');
  assert.equal(c.children(), 0);
  assert.deepEqual(c.lines(), []);
  assert.equal(log.level, 'warn');
});

test('a line the level lets through carries the request id, the bindings fastify would give it', () => {
  const c = capture('info');
  const log = make(c.parent, 'trace-42');
  log.info({ route: '/healthz', status: 200 }, 'request');
  log.error({ err: new Error('boom') }, 'unexpected error');
  assert.equal(c.children(), 1, 'one child, made at the first line and reused');
  const [info, error] = c.lines();
  assert.equal(info!.requestId, 'trace-42');
  assert.equal(info!.msg, 'request');
  assert.equal(info!.route, '/healthz');
  assert.equal(info!.level, 30);
  assert.equal(error!.requestId, 'trace-42');
  assert.equal(error!.level, 50);
  assert.equal((error!.err as { message: string }).message, 'boom', 'the parent\'s serializers apply');
});

test('the children come from the logger fastify gives (its serializers: a reply is logged as its status code)', () => {
  const c = capture('info');
  // As fastify wraps Ferry's logger: a child with its own serializers.
  const wrapped = c.parent.child({}, { serializers: { res: (r: { statusCode: number }) => ({ statusCode: r.statusCode }) } });
  make(wrapped, 'r-6').info({ res: { statusCode: 201, request: { params: { slotId: 'SECRET-SLOT' } } } }, 'request completed');
  const [line] = c.lines();
  assert.deepEqual(line!.res, { statusCode: 201 });
  assert.equal(line!.requestId, 'r-6');
});

test('the parent\'s redaction applies to request lines', () => {
  const c = capture('info');
  make(c.parent, 'r-2').info({ req: { method: 'GET', url: '/file/download/chat?access-token=SECRET-TOKEN&app_id=a' } }, 'incoming request');
  const text = JSON.stringify(c.lines());
  assert.ok(!text.includes('SECRET-TOKEN'), text);
  assert.ok(text.includes('[redacted]'), text);
});

test('child() of a request logger keeps the request id and adds its own bindings', () => {
  const c = capture('info');
  make(c.parent, 'r-3').child({ part: 'media' }).warn('slow');
  const [line] = c.lines();
  assert.equal(line!.requestId, 'r-3');
  assert.equal(line!.part, 'media');
});

test('a route with a level of its own gets its child at once, at that level', () => {
  const c = capture('warn');
  const log = make(c.parent, 'r-4', { level: 'debug' });
  assert.equal(c.children(), 1);
  log.debug('now written');
  assert.equal(c.lines()[0]!.msg, 'now written');
  assert.equal(c.lines()[0]!.requestId, 'r-4');
});

test('setting the level makes the child and changes only the request\'s own level', () => {
  const c = capture('warn');
  const log = make(c.parent, 'r-5');
  log.level = 'info';
  log.info('written at info');
  assert.equal(c.parent.level, 'warn');
  assert.equal(c.lines()[0]!.msg, 'written at info');
});
