// `ferry file delete|quarantine|release|lookup`, `ferry usage` and `ferry app set`: the admin
// API's file and settings operations, run by the same pipeline functions against the configured
// database and store, with the same JSON answers (and the same audit entries, as admin-key).
//
// Deleting removes bytes, so these commands open the byte store too: openLifecycle() builds the
// few services the lifecycle pipelines use (LifecycleServices), in this one place.
import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import type { LifecycleServices } from '../pipelines/lifecycle.ts';
import type { SettingsPatch } from '../pipelines/app-settings.ts';
import type { UsageKind } from '../meta/meta-store.ts';

/** A refusal of the command line (exit 2; 3 when what it names does not exist), one line on stderr. */
class Refused extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** The stores and keys the lifecycle pipelines need, opened from the FERRY_* settings. */
async function openLifecycle(): Promise<{ s: LifecycleServices; close(): Promise<void> }> {
  const [{ loadConfig }, { openMetaStore }, { openByteStore }, { AppRegistry }, { PublicUrls }, { boundedCache }, { default: pino }] = await Promise.all([
    import('../config.ts'),
    import('../meta/open.ts'),
    import('../bytes/open.ts'),
    import('../auth/app-registry.ts'),
    import('../public-urls.ts'),
    import('../primitives/bounded-cache.ts'),
    import('pino'),
  ]);
  const config = loadConfig();
  // As the other commands: a mistyped FERRY_DATA_DIR must not become a second, empty database.
  const file = path.join(config.dataDir, 'ferry.sqlite');
  if (!config.databaseUrl && !fs.existsSync(file)) throw new Refused(`no Ferry database at ${file}: point FERRY_DATA_DIR at the server's data folder`);
  const meta = await openMetaStore(config);
  // No sweep: a running server may be writing into the staging folders this store would clear.
  const bytes = await openByteStore(config, { sweep: false }).catch(async (err: unknown) => {
    await meta.close();
    throw err;
  });
  const s: LifecycleServices = {
    config,
    meta,
    bytes,
    apps: new AppRegistry(meta, config.tokens),
    // stdout is the answer: warnings (a store that failed while removing bytes) go to stderr
    log: pino({ level: 'warn' }, pino.destination(2)),
    urls: new PublicUrls(config.publicUrl),
    knownDerivatives: boundedCache(1),
  };
  return {
    s,
    async close() {
      await bytes.close();
      await meta.close();
    },
  };
}

/** Run fn on the lifecycle services and print its answer; a FerryError is one line and a non-zero exit. */
async function run(fn: (s: LifecycleServices) => Promise<unknown>): Promise<void> {
  const { FerryError, Codes } = await import('../errors.ts');
  let opened;
  try {
    opened = await openLifecycle();
    const out = await fn(opened.s);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } catch (err) {
    if (err instanceof FerryError || err instanceof Refused) {
      const notFound = err instanceof Refused ? err.exitCode === 3 : err.code === Codes.APP_NOT_FOUND || err.code === Codes.NOT_FOUND;
      process.stderr.write(`ferry: ${err.message}\n`);
      process.exitCode = notFound ? 3 : 2;
      return;
    }
    throw err;
  } finally {
    await opened?.close();
  }
}

/** The app a download_url's sign names (read, not verified: the pipeline verifies it with that app's keys). */
function appOfUrl(raw: string): string | null {
  const sign = /[?&]file_sign=([^&#]*)/.exec(raw)?.[1] ?? (raw.includes('://') ? undefined : raw);
  const payload = sign?.split('.')[1];
  if (!payload) return null;
  try {
    const app = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { app?: unknown }).app;
    return typeof app === 'string' ? app : null;
  } catch {
    return null;
  }
}

/** --app, or the one app the URLs' signs name. An avatar's object_name names none. */
function appFor(urls: string[], app: string | undefined): string {
  if (app !== undefined) return app;
  const named = new Set(urls.map(appOfUrl).filter((a): a is string => a !== null));
  if (named.size === 1) return [...named][0]!;
  if (named.size > 1) throw new Refused(`the URLs belong to several apps (${[...named].join(', ')}): run once per app, or name one with --app`);
  throw new Refused('name the app with --app (an avatar object_name, or a URL that is not a download_url, does not say which)');
}

async function existingApp(s: LifecycleServices, appId: string): Promise<{ appId: string; createdAt: number }> {
  const app = await s.meta.getApp(appId);
  if (!app) throw new Refused(`app ${appId} not found`, 3);
  return app;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--retention chat=180` (0 keeps files) and `--quota app_bytes=10G` (`none` removes it) into a settings patch. */
async function settingsPatch(retention: string[], quota: string[]): Promise<SettingsPatch> {
  const [{ KINDS }, { parseSize, ConfigError }] = await Promise.all([import('../pipelines/app-settings.ts'), import('../config.ts')]);
  if (retention.length === 0 && quota.length === 0) throw new Refused('nothing to set: give --retention KIND=DAYS or --quota NAME=BYTES');
  const patch: SettingsPatch = {};
  for (const item of retention) {
    const m = /^([a-z]+)=(\d{1,5})$/.exec(item.trim());
    if (!m || !KINDS.includes(m[1] as UsageKind) || Number(m[2]) > 36500) {
      throw new Refused(`--retention must be KIND=DAYS with KIND one of ${KINDS.join(', ')} and DAYS 0 (keep) to 36500, got "${item}"`);
    }
    patch.retention_days = { ...patch.retention_days, [m[1]!]: Number(m[2]) };
  }
  for (const item of quota) {
    const m = /^(app_bytes|user_daily_bytes)=(.+)$/.exec(item.trim());
    if (!m) throw new Refused(`--quota must be app_bytes=BYTES or user_daily_bytes=BYTES (a size like 10G, or none), got "${item}"`);
    let bytes: number | null;
    try {
      bytes = m[2] === 'none' ? null : parseSize(`--quota ${m[1]}`, m[2]!);
    } catch (err) {
      if (err instanceof ConfigError) throw new Refused(`${err.message} (or none to remove it)`);
      throw err;
    }
    patch.quota = { ...patch.quota, [m[1]!]: bytes };
  }
  return patch;
}

export function fileCommands(program: Command): void {
  const file = program.command('file').description("take files back: delete, quarantine, release, look up (the admin API's /admin/apps/:app_id/files calls)");
  const appOption = '--app <app_id>';
  const appHelp = 'the app (default: the one the download_urls name; needed for avatar object_names)';

  file
    .command('delete <urls...>')
    .description('delete download_urls (or file_signs, avatar object_names); the bytes leave the store with the last one')
    .option(appOption, appHelp)
    .option('--all-copies', 'every forward of each file too')
    .action((urls: string[], o: { app?: string; allCopies?: boolean }) =>
      run(async (s) => {
        const { deleteUrls } = await import('../pipelines/lifecycle.ts');
        return deleteUrls(s, appFor(urls, o.app), urls, { allCopies: o.allCopies === true }, 'admin-key');
      }),
    );

  file
    .command('quarantine <urls...>')
    .description('refuse every copy of these files (and the same bytes uploaded again); the bytes are kept for review')
    .option(appOption, appHelp)
    .requiredOption('--reason <text>', 'why (kept with the quarantine, 1–1000 characters)')
    .action((urls: string[], o: { app?: string; reason: string }) =>
      run(async (s) => {
        if (o.reason.trim() === '' || o.reason.length > 1000) throw new Refused('--reason must be 1 to 1000 characters');
        const { quarantineUrls } = await import('../pipelines/lifecycle.ts');
        return quarantineUrls(s, appFor(urls, o.app), urls, o.reason, 'admin-key');
      }),
    );

  file
    .command('release <urls...>')
    .description('lift the quarantine of these files')
    .option(appOption, appHelp)
    .action((urls: string[], o: { app?: string }) =>
      run(async (s) => {
        const { releaseUrls } = await import('../pipelines/lifecycle.ts');
        return releaseUrls(s, appFor(urls, o.app), urls, 'admin-key');
      }),
    );

  file
    .command('lookup <url>')
    .description('what Ferry knows of a file: size, type, sha256, sender, state, its other URLs and derivatives')
    .option(appOption, appHelp)
    .action((url: string, o: { app?: string }) =>
      run(async (s) => {
        const { lookupFile } = await import('../pipelines/lifecycle.ts');
        return lookupFile(s, appFor([url], o.app), url);
      }),
    );

  program
    .command('usage')
    .description("an app's stored bytes and files by kind, and its heaviest users")
    .requiredOption('--app <app_id>')
    .action((o: { app: string }) =>
      run(async (s) => {
        const { appUsage } = await import('../pipelines/app-settings.ts');
        return appUsage(s, (await existingApp(s, o.app)).appId);
      }),
    );

  const app = program.commands.find((c) => c.name() === 'app') ?? program.command('app').description('manage apps');
  app
    .command('set')
    .description("change an app's retention and quotas (as PATCH /admin/apps/:app_id) and print its settings")
    .requiredOption('--app <app_id>')
    .option('--retention <kind=days>', 'keep files of a kind (chat, voice, image, video, shared, avatar) this many days; 0 keeps them (repeatable)', collect)
    .option('--quota <name=bytes>', 'app_bytes or user_daily_bytes: a size like 10G, or none to remove it (repeatable)', collect)
    .action((o: { app: string; retention?: string[]; quota?: string[] }) =>
      run(async (s) => {
        const patch = await settingsPatch(o.retention ?? [], o.quota ?? []);
        const { changeSettings } = await import('../pipelines/app-settings.ts');
        return changeSettings(s, await existingApp(s, o.app), patch, 'admin-key');
      }),
    );
}
