// The ferry command line: the admin API's operations, run directly against the configured
// database (same FERRY_* settings as the server), plus `serve`. Output is the admin API's JSON.
//
// Only commander loads up front: the admin service, the config and the database drivers are
// imported when a command runs, so `ferry --help` answers without loading them.
import { Command, CommanderError } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import type { AdminService } from '../admin/admin-service.ts';
import type { MetaStore } from '../meta/meta-store.ts';
import type { TokenPolicy } from '../config.ts';
import { keyCommands } from './keys.ts';
import { listCommands } from './lists.ts';
import { fileCommands } from './files.ts';

/** A refusal of the command line itself (exit 2), one line on stderr. */
class CliError extends Error {}

/**
 * Open the configured database, run fn, print its answer as JSON. In the embedded mode the
 * SQLite file must exist already unless the command creates apps: a mistyped or forgotten
 * FERRY_DATA_DIR must not become a second, empty database that the server never reads.
 */
async function withMeta<T>(fn: (meta: MetaStore, tokens: TokenPolicy) => Promise<T>, opts: { creates?: boolean } = {}): Promise<void> {
  const [{ loadConfig }, { openMetaStore }] = await Promise.all([import('../config.ts'), import('../meta/open.ts')]);
  const config = loadConfig();
  if (!config.databaseUrl && !opts.creates) {
    const file = path.join(config.dataDir, 'ferry.sqlite');
    if (!fs.existsSync(file)) {
      const why = process.env.FERRY_DATA_DIR ? 'FERRY_DATA_DIR' : 'FERRY_DATA_DIR is unset, so the data folder `npm start` uses';
      throw new CliError(`no Ferry database at ${file} (${why}): point FERRY_DATA_DIR at the server's data folder, or create an app first (ferry app create)`);
    }
  }
  const meta = await openMetaStore(config);
  try {
    const out = await fn(meta, config.tokens);
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await meta.close();
  }
}

async function withAdmin<T>(fn: (admin: AdminService) => Promise<T>, opts: { creates?: boolean } = {}): Promise<void> {
  const { AdminService } = await import('../admin/admin-service.ts');
  await withMeta((meta, tokens) => fn(new AdminService(meta, undefined, tokens)), opts);
}

const program = new Command('ferry')
  .description('Ferry, a file service for IM apps speaking the Lanying file API.\nSettings come from FERRY_* environment variables (see README).')
  .exitOverride()
  // Avatar object_names and file_signs may start with "-" (base64url), which reads as an
  // option; commander's own line says only "unknown option". Subcommands inherit this.
  .configureOutput({
    outputError: (line, write) =>
      write(/^error: unknown option '-[^-]/.test(line) ? `${line.trimEnd()} (a name or URL that starts with "-" goes after "--": ferry file delete --app <app_id> -- <name>)\n` : line),
  });

program
  .command('serve')
  .description('run the server (same as npm start)')
  .action(async () => {
    await import('../main.ts');
  });

const app = program.command('app').description('manage apps');
app
  .command('create')
  .description('create an app and print its app_id and secret')
  .option('--app-id <id>', 'the app_id to use (default: random)')
  .action((o: { appId?: string }) => withAdmin((a) => a.createApp(o.appId), { creates: true }));

program
  .command('token')
  .description('mint an access token')
  .requiredOption('--app <app_id>')
  .requiredOption('--user <user_id>')
  .option('--role <role>', 'user or admin', 'user')
  .option('--ttl <seconds>', 'lifetime in seconds (default 7 days, at most FERRY_TOKEN_MAX_TTL_S)')
  .action((o: { app: string; user: string; role: string; ttl?: string }) =>
    // Only plain decimal seconds become a number: Number() would take "0x10" or "1e3", and a
    // string left as it is gets the admin API's own "ttl_s must be …" error.
    withAdmin((a) => a.mintToken(o.app, { user_id: o.user, role: o.role, ttl_s: o.ttl === undefined ? undefined : /^\d+$/.test(o.ttl) ? Number(o.ttl) : o.ttl })),
  );

program
  .command('group')
  .description('create a group (or change its owner); the owner becomes a member')
  .requiredOption('--app <app_id>')
  .requiredOption('--group <group_id>')
  .requiredOption('--owner <user_id>')
  .action((o: { app: string; group: string; owner: string }) => withAdmin((a) => a.putGroup(o.app, o.group, { owner_id: o.owner })));

listCommands(program);
fileCommands(program);

const member = program.command('member').description('manage group members');
member
  .command('add')
  .description('add a member (or change their role)')
  .requiredOption('--app <app_id>')
  .requiredOption('--group <group_id>')
  .requiredOption('--user <user_id>')
  .option('--role <role>', 'member, admin or owner', 'member')
  .action((o: { app: string; group: string; user: string; role: string }) =>
    withAdmin((a) => a.putMember(o.app, o.group, o.user, { role: o.role })),
  );
member
  .command('remove')
  .description('remove a member')
  .requiredOption('--app <app_id>')
  .requiredOption('--group <group_id>')
  .requiredOption('--user <user_id>')
  .action((o: { app: string; group: string; user: string }) => withAdmin((a) => a.removeMember(o.app, o.group, o.user)));

keyCommands(program, withMeta);

program
  .command('members')
  .description('manage group members in bulk')
  .command('import <file>')
  .description('replace the member lists of the groups in FILE (NDJSON or CSV group_id,user_id,role,joined_at); progress on stderr')
  .requiredOption('--app <app_id>')
  .action(async (file: string, o: { app: string }) => {
    const [{ importMembers }, { loadConfig }, { openMetaStore }] = await Promise.all([import('./members-import.ts'), import('../config.ts'), import('../meta/open.ts')]);
    const meta = await openMetaStore(loadConfig());
    try {
      const report = await importMembers(meta, o.app, file, (msg) => process.stderr.write(`members import: ${msg}\n`));
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } finally {
      await meta.close();
    }
  });

program
  .command('migrate-store')
  .description('copy an embedded data folder (SQLite + objects) into PostgreSQL + S3 (FERRY_DATABASE_URL, FERRY_STORE); safe to run again')
  .requiredOption('--from <data_dir>', "the embedded Ferry's data folder")
  .action(async (o: { from: string }) => {
    const [{ migrateStore, MigrateError }, { loadConfig }] = await Promise.all([import('./migrate-store.ts'), import('../config.ts')]);
    let report;
    try {
      report = await migrateStore(o.from, loadConfig(), (msg) => process.stderr.write(`migrate-store: ${msg}\n`));
    } catch (err) {
      if (!(err instanceof MigrateError)) throw err;
      process.stderr.write(`ferry: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (report.mismatched.length > 0) {
      process.stderr.write(`migrate-store: ${report.mismatched.length} objects did not match their SHA-256 and were not moved\n`);
      process.exitCode = 4;
    }
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const [{ AdminError }, { ConfigError }, { StorageError }] = await Promise.all([
    import('../admin/admin-service.ts'),
    import('../config.ts'),
    import('../storage-error.ts'),
  ]);
  if (err instanceof AdminError || err instanceof ConfigError || err instanceof CliError) {
    process.stderr.write(`ferry: ${err.message}\n`);
    process.exit(err instanceof AdminError && err.status === 404 ? 3 : 2);
  }
  // The database is down or unreachable: one line that says so, not a driver's stack trace.
  if (err instanceof StorageError) {
    process.stderr.write(`ferry: the database is not available: ${err.message}\n`);
    process.exit(5);
  }
  throw err;
}
