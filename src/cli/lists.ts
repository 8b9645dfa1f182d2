// `ferry app list` and `ferry groups`: the admin API's paged listings, against the
// configured database. Output is the admin API's JSON (pass `next` back as --after).
import type { Command } from 'commander';
import type { AdminLists } from '../admin/lists.ts';

async function withLists(fn: (lists: AdminLists) => Promise<unknown>): Promise<void> {
  const [{ AdminLists }, { loadConfig }, { openMetaStore }] = await Promise.all([
    import('../admin/lists.ts'),
    import('../config.ts'),
    import('../meta/open.ts'),
  ]);
  const meta = await openMetaStore(loadConfig());
  try {
    process.stdout.write(`${JSON.stringify(await fn(new AdminLists(meta)), null, 2)}\n`);
  } finally {
    await meta.close();
  }
}

export function listCommands(program: Command): void {
  const app = program.commands.find((c) => c.name() === 'app') ?? program.command('app').description('manage apps');
  app
    .command('list')
    .description('list apps (app_id and created_at; never secrets), a page at a time')
    .option('--after <app_id>', 'start after this app (the previous page\'s "next")')
    .option('--limit <n>', 'apps per page (1–500)', '50')
    .action((o: { after?: string; limit: string }) => withLists((l) => l.apps({ after: o.after, limit: o.limit })));

  // A top-level command: `group` has required options of its own, which commander would also
  // demand of a `group list` subcommand.
  program
    .command('groups')
    .description("list an app's groups in group_id order, a page at a time")
    .requiredOption('--app <app_id>')
    .option('--after <group_id>', 'start after this group (the previous page\'s "next")')
    .option('--owner <user_id>', 'only groups this user owns')
    .option('--limit <n>', 'groups per page (1–500)', '50')
    .action((o: { app: string; after?: string; owner?: string; limit: string }) =>
      withLists((l) => l.groups(o.app, { after: o.after, owner_id: o.owner, limit: o.limit })),
    );
}
