// The framework's ceiling for a small download: fastify (the version Ferry runs, from this
// repository's node_modules) answering GET /chat.bin with the same bytes from memory. No
// hooks, no checks, no logging; the same node binary, flags and environment as Ferry's
// serving processes, pinned to the server's core. Issue 12 says Ferry's small downloads should
// come close to this.
import { SERVING_NODE_FLAGS, workerEnv } from '../../src/cluster/node-flags.ts';
import { repoRoot } from './ferry.ts';
import { freePort, startProcess, waitForPort } from './proc.ts';

const SERVER = `
const fs = require('node:fs');
const fastify = require('fastify')({ logger: false });
const body = fs.readFileSync(process.env.FILE);
fastify.get('/chat.bin', async (req, reply) => reply.type('application/octet-stream').send(body));
fastify.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
`;

export interface RunningFastify {
  url: string;
  stop(): Promise<void>;
}

/** Bare fastify serving the bytes of `file` at /chat.bin. */
export async function startFastifyBuffer(file: string): Promise<RunningFastify> {
  const port = await freePort();
  const server = startProcess(process.execPath, [...SERVING_NODE_FLAGS, '-e', SERVER], {
    env: { ...process.env, ...workerEnv(process.env), PORT: String(port), FILE: file },
    cwd: repoRoot,
    pin: 'server',
  });
  try {
    await waitForPort(port, server.child);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}/chat.bin`, stop: () => server.stop() };
}
