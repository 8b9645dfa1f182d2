// The peer of the "answers per second" comparisons: node's own hello world, nothing added, on
// the same node binary as Ferry, so the ratio is what Ferry's work costs on top of node:http.
import { freePort, startProcess, waitForPort } from './proc.ts';

/** The hello world from node's docs. */
const HELLO = `
const http = require('node:http');
http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('Hello World\\n');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

export interface RunningHello {
  url: string;
  stop(): Promise<void>;
}

export async function startHello(): Promise<RunningHello> {
  const port = await freePort();
  const hello = startProcess(process.execPath, ['-e', HELLO], { env: { ...process.env, PORT: String(port) }, pin: 'server' });
  try {
    await waitForPort(port, hello.child);
  } catch (err) {
    await hello.stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}/`, stop: () => hello.stop() };
}
