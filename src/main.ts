// `npm start`: run Ferry with the settings from the environment.
import { ConfigError, loadConfig } from './config.ts';
import cluster from 'node:cluster';
import pino from 'pino';
import { startFerry } from './server.ts';
import { runPrimary, workerIndex } from './cluster/workers.ts';

function firstStartHelp(url: string, key: string, dataDir: string): string {
  return `
Ferry is running at ${url}. This is a first start: a new admin key was written to
${dataDir}/admin.key:

    ${key}

Next steps (or the same with npx ferry app create / npx ferry token …):

  curl -s -XPOST ${url}/admin/apps -H 'x-admin-key: ${key}' -H 'content-type: application/json' -d '{"app_id":"demo"}'
  curl -s -XPOST ${url}/admin/apps/demo/tokens -H 'x-admin-key: ${key}' -H 'content-type: application/json' -d '{"user_id":"1001"}'
  curl -s "${url}/file/upload/chat?app_id=demo&file_type=100&to_id=1002&access-token=TOKEN"
  curl -s -F file=@README.md "UPLOAD_URL"
  curl -s "DOWNLOAD_URL&app_id=demo&access-token=TOKEN"
`;
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`ferry: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = pino({ level: config.logLevel });
  if (config.workers > 1 && cluster.isPrimary) {
    // Several processes on one port: this one prepares the data folder once and supervises.
    process.exitCode = await runPrimary(config, log, (url, key, created) => {
      if (created) console.log(firstStartHelp(url, key, config.dataDir));
    });
    return;
  }
  const index = workerIndex();
  const ferry = await startFerry(config, log, index === null ? {} : { worker: { index, janitor: index === 1 } });
  ferry.services.log.info({ url: ferry.url, publicUrl: ferry.services.urls.base, dataDir: config.dataDir, ...(index === null ? {} : { worker: index }) }, 'ferry is listening');
  if (ferry.adminKeyCreated) console.log(firstStartHelp(ferry.url, ferry.adminKey, config.dataDir));

  const stop = (signal: string) => {
    ferry.services.log.info({ signal }, 'shutting down');
    ferry.close().then(
      () => process.exit(0),
      (err: unknown) => {
        ferry.services.log.error({ err }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error('ferry: could not start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
