// The operator console at /console: the static files `npm run build` puts in dist/console (no
// CDN, works offline), under a strict Content-Security-Policy. The page holds the admin key in
// session storage and sends it as x-admin-key on each admin call; no cookie is ever set, so
// there is nothing for a cross-site request to ride on.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Services } from '../../services.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** dist/console, seen from the bundle (dist/main.js or a chunk beside it) or from src/ under tsx. */
export function defaultConsoleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return path.basename(here) === 'dist' ? path.join(here, 'console') : path.resolve(here, '../../../dist/console');
}

/**
 * No inline script or style, nothing from elsewhere. Ferry's public address (FERRY_PUBLIC_URL,
 * where download and upload URLs point) is allowed beside 'self' for the calls and previews,
 * so the console also works when opened on another address of the same Ferry.
 */
export function consoleCsp(publicBase: string): string {
  let own = '';
  try {
    own = ` ${new URL(publicBase).origin}`;
  } catch {
    // no usable public URL: 'self' only
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self'${own}`,
    `img-src 'self'${own} blob: data:`,
    `media-src 'self'${own} blob:`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export async function consoleRoutes(app: FastifyInstance, opts: { services: Services; dir?: string }): Promise<void> {
  const dir = opts.dir ?? defaultConsoleDir();

  const headers = (reply: FastifyReply) =>
    reply
      .header('content-security-policy', consoleCsp(opts.services.urls.base))
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      // file names are not hashed: always revalidate, so a new build is seen at once
      .header('cache-control', 'no-cache');

  async function send(reply: FastifyReply, name: string) {
    const type = TYPES[path.extname(name)];
    if (!type || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
    let body: Buffer;
    try {
      body = await fs.readFile(path.join(dir, name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (name === 'index.html') {
        return reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send(`The operator console is not built (${path.join(dir, 'index.html')} is missing): run \`npm run build\` and reload.\n`);
      }
      return reply.code(404).type('text/plain; charset=utf-8').send('not found\n');
    }
    return headers(reply).type(type).send(body);
  }

  app.get('/console', async (_req, reply) => headers(reply).redirect('/console/', 302));
  app.get('/console/', async (_req, reply) => send(reply, 'index.html'));
  app.get<{ Params: { name: string } }>('/console/:name', async (req, reply) => send(reply, req.params.name));
}
