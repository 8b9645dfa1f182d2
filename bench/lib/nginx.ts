// nginx from Debian as the peer: one master, ONE worker (Ferry is one node process; the workers
// comparison asks for more), pinned to the server's core like Ferry, a config
// generated into a temp folder, on a free 127.0.0.1 port. Logging is off on both sides (Ferry
// runs with FERRY_LOG_LEVEL=warn), and keep-alive is unlimited on both sides (node:http never
// closes a keep-alive connection by request count), so wrk measures serving, not reconnecting.
import fs from 'node:fs';
import path from 'node:path';
import { freePort, run, startProcess, waitForPort, which, type Pin } from './proc.ts';

export interface RunningNginx {
  url: string;
  pid: number;
  /** the worker's pid: the process that does the work, for RSS */
  workerPid(): number | null;
  stop(): Promise<void>;
}

export async function nginxVersion(): Promise<string | null> {
  if (!which('nginx')) return null;
  const res = await run('nginx', ['-v']);
  return /nginx\/(\S+)/.exec(res.stderr)?.[1] ?? null;
}

/** null when nginx is there and has the WebDAV module, else why not. */
export async function nginxDavMissing(): Promise<string | null> {
  if (!which('nginx')) return 'nginx is not installed (apt-get install nginx-light)';
  const res = await run('nginx', ['-V']);
  return (res.stderr + res.stdout).includes('--with-http_dav_module') ? null : 'this nginx has no WebDAV module (apt-get install nginx)';
}

/**
 * Start nginx serving `locations` (nginx config text inside the server block). The folder
 * `dir` holds the config, pid, logs and client body temp files.
 */
export async function startNginx(dir: string, locations: string, opts: { workers?: number; pin?: Pin } = {}): Promise<RunningNginx> {
  const port = await freePort();
  const bodyTemp = path.join(dir, 'client_body_temp');
  fs.mkdirSync(bodyTemp, { recursive: true });
  // As root, nginx drops its worker to "nobody", which could not read or write our temp folders.
  const user = process.getuid?.() === 0 ? `user root root;` : '';
  const conf = `
${user}
daemon off;
master_process on;
worker_processes ${opts.workers ?? 1};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000000;
  keepalive_timeout 65s;
  client_body_temp_path ${bodyTemp};
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
${locations}
  }
}
`;
  const confFile = path.join(dir, 'nginx.conf');
  fs.writeFileSync(confFile, conf);
  const proc = startProcess('nginx', ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', confFile], { pin: opts.pin ?? 'server' });
  try {
    await waitForPort(port, proc.child, 10_000);
  } catch (err) {
    await proc.stop();
    throw new Error(`nginx did not start: ${(err as Error).message}\n${proc.output()}`);
  }
  const pid = proc.child.pid!;
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    workerPid: () => childPids(pid)[0] ?? null,
    stop: () => proc.stop(),
  };
}

function childPids(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
