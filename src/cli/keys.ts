// `ferry app rotate-secret` and `ferry token revoke`: the admin API's key operations
// (src/admin/key-operations.ts) from the command line. A running Ferry notices them within
// about a second (src/auth/app-registry.ts).
import type { Command } from 'commander';
import type { MetaStore } from '../meta/meta-store.ts';

type WithMeta = (fn: (meta: MetaStore) => Promise<unknown>) => Promise<void>;

/** Plain decimal numbers only; anything else goes through as text for the operation's own message. */
const integer = (v: string | undefined) => (v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : v);

export function keyCommands(program: Command, withMeta: WithMeta): void {
  const ops = async (meta: MetaStore) => new (await import('../admin/key-operations.ts')).KeyOperations(meta);

  const app = program.commands.find((c) => c.name() === 'app') ?? program.command('app');
  app
    .command('rotate-secret')
    .description('give an app a new secret (printed once) and a new file-sign key; the old secret works for --grace seconds, old signs keep working')
    .requiredOption('--app <app_id>')
    .option('--grace <seconds>', 'how long the old secret stays accepted (default 3600)')
    .action((o: { app: string; grace?: string }) => withMeta(async (meta) => (await ops(meta)).rotateSecret(o.app, { grace_s: integer(o.grace) })));

  // `ferry token` mints (its options are required); revoking is a command of its own.
  program
    .command('revoke-tokens')
    .description("refuse a user's tokens issued before a moment (default now)")
    .requiredOption('--app <app_id>')
    .requiredOption('--user <user_id>')
    .option('--before <ms>', 'milliseconds since 1970, at most now (default now)')
    .action((o: { app: string; user: string; before?: string }) =>
      withMeta(async (meta) => (await ops(meta)).revokeTokens(o.app, { user_id: o.user, before: integer(o.before) })),
    );
}
