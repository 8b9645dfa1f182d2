// Prerequisites as Need functions: each says what is missing and how to get it, so a skipped
// comparison prints a line a reader can act on instead of a number that was never measured.
import { which } from './proc.ts';
import { nginxDavMissing } from './nginx.ts';
import type { Need } from './types.ts';

export const needTool =
  (cmd: string, debPackage: string): Need =>
  () =>
    which(cmd) ? null : `${cmd} is not installed (apt-get install ${debPackage}, or run \`npm run bench\`, whose prebench step installs it as root)`;

export const needNginxDav: Need = () => nginxDavMissing();

export const needLinuxProc: Need = () => (process.platform === 'linux' ? null : 'RSS is read from /proc: Linux only');

/** For peers the harness cannot start itself (an RGW or S3 endpoint, a PostgreSQL URL). */
export const needEnv =
  (name: string, what: string): Need =>
  () =>
    process.env[name] ? null : `${name} is not set (${what})`;
