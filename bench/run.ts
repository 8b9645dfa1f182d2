// `npm run bench [-- FILTER…] [--reps=N] [--duration=S] [--connections=C] [--threads=T] [--cpu-prof]`
// Runs the side-by-side comparisons each issue asks for, Ferry and its peer in the same run on
// the same machine, prints a table of ratios and writes .bench/results.json. FILTER selects
// groups (core, media, scale-out) or single comparisons by id (core-download); none: all.
// A comparison whose prerequisites are missing is skipped with a line saying why; it never
// gets a number it did not measure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { slotRate } from './core-slot-rate.ts';
import { download16k, downloadCeiling, downloadBlob, downloadRedirect } from './core-download.ts';
import { upload256m, upload256mAllCores } from './core-upload.ts';
import { uploadRss } from './core-upload-rss.ts';
import { stream100m } from './core-stream.ts';
import { workersScaling } from './core-workers.ts';
import { repoRoot } from './lib/ferry.ts';
import { needTool } from './lib/needs.ts';
import { cachedThumbnail, coldThumbnail } from './media-thumbnails.ts';
import { amrToMp3, bombRefusal, thumbnailRss } from './media-voice-rss-bomb.ts';
import { asksBurst, groupDownload, importPostgres, importSqlite } from './membership.ts';
import { needScaleOutServices } from './scaleout-common.ts';
import { scaleOutUpload } from './scaleout-upload.ts';
import { scaleOutRedirect } from './scaleout-redirect.ts';
import { scaleOutUploadRss } from './scaleout-upload-rss.ts';
import { nginxVersion } from './lib/nginx.ts';
import { deleteThroughput, downloadWithRecords } from './lifecycle.ts';
import { killAllStarted, run, tmpDirFor } from './lib/proc.ts';
import { table, writeJson } from './lib/report.ts';
import { meets, ratioOf } from './lib/stats.ts';
import type { BenchOptions, Group, Need, Outcome } from './lib/types.ts';

const GROUPS: Group[] = [
  {
    name: 'core',
    issue: 'Ferry core',
    needs: [],
    // (e) before the uploads: the 2 GB that (d) writes are still going to disk for a while after it,
    // and Ferry's streams measured then ranged from 1,890 to 3,206 MiB/s within one run.
    comparisons: [slotRate, download16k, downloadCeiling, downloadRedirect, downloadBlob, stream100m, upload256m, upload256mAllCores, uploadRss, workersScaling],
  },
  // The media and scale-out issues add their comparisons here (bench/media-*.ts,
  // bench/scale-out-*.ts) with their prerequisites as needs (vipsthumbnail, ffmpeg, an RGW
  // endpoint…), so a machine without them gets a SKIPPED line, not a number.
  {
    name: 'media',
    issue: 'Ferry media',
    needs: [needTool('ffmpeg', 'ffmpeg libavcodec-extra')],
    comparisons: [coldThumbnail, cachedThumbnail, amrToMp3, thumbnailRss, bombRefusal],
  },
  {
    name: 'scale-out',
    issue: 'Ferry scale-out',
    needs: [needScaleOutServices],
    comparisons: [scaleOutUpload, scaleOutRedirect, scaleOutUploadRss],
  },
  {
    name: 'membership',
    issue: "Membership that follows the operator's IM server",
    needs: [],
    // membership-import-pg needs PostgreSQL (the scale-out services): skipped alone without it.
    comparisons: [groupDownload, importSqlite, importPostgres, asksBurst],
  },
  {
    name: 'lifecycle',
    issue: 'Files that can be taken back',
    needs: [],
    comparisons: [deleteThroughput, downloadWithRecords],
  },
];

const DEFAULTS: BenchOptions = { reps: 3, durationS: 10, connections: 50, threads: 1 };

interface Args {
  filters: string[];
  opts: BenchOptions;
  out: string;
  /** where Ferry writes .cpuprofile files, when profiling */
  profileDir: string | null;
}

function parseArgs(argv: string[]): Args {
  const opts = { ...DEFAULTS };
  const filters: string[] = [];
  let out = path.join(repoRoot, '.bench', 'results.json');
  let profileDir: string | null = null;
  for (const arg of argv) {
    if (arg === '--cpu-prof') {
      profileDir = path.join(repoRoot, '.bench', 'profiles');
      continue;
    }
    const m = /^--([a-z]+)=(.+)$/.exec(arg);
    if (arg === '--help' || arg === '-h') {
      console.log(`usage: npm run bench -- [${GROUPS.map((g) => g.name).join('|')}|COMPARISON-ID…] [--reps=${DEFAULTS.reps}] [--duration=${DEFAULTS.durationS}] [--connections=${DEFAULTS.connections}] [--threads=${DEFAULTS.threads}] [--out=FILE] [--cpu-prof]`);
      console.log('--cpu-prof: Ferry runs under node --cpu-prof, profiles land in .bench/profiles (summarise with npx tsx bench/profile-summary.ts); figures from such a run are not comparable');
      console.log(`comparisons: ${GROUPS.flatMap((g) => g.comparisons.map((c) => c.id)).join(', ') || '(none)'}`);
      process.exit(0);
    } else if (m) {
      const [, key, value] = m;
      if (key === 'out') {
        out = path.resolve(value!);
        continue;
      }
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${key} needs a whole number ≥ 1, got ${value}`);
      if (key === 'reps') opts.reps = n;
      else if (key === 'duration') opts.durationS = n;
      else if (key === 'connections') opts.connections = n;
      else if (key === 'threads') opts.threads = n;
      else throw new Error(`unknown option --${key}`);
    } else if (arg.startsWith('-')) {
      throw new Error(`unknown option ${arg}`);
    } else {
      filters.push(arg);
    }
  }
  const known = new Set(GROUPS.flatMap((g) => [g.name, ...g.comparisons.map((c) => c.id)]));
  for (const f of filters) if (!known.has(f)) throw new Error(`no group or comparison named "${f}" (known: ${[...known].join(', ')})`);
  return { filters, opts, out, profileDir };
}

async function firstMissing(needs: Need[]): Promise<string | null> {
  for (const need of needs) {
    const missing = await need();
    if (missing) return missing;
  }
  return null;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function toolVersion(cmd: string, args: string[]): Promise<string | null> {
  try {
    const r = await run(cmd, args);
    return (r.stdout + r.stderr).split('\n')[0]!.trim() || null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const { filters, opts, out, profileDir } = parseArgs(process.argv.slice(2));
  const ferryNodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  if (profileDir) log(`profiling Ferry into ${profileDir}: the figures of this run are not comparable`);
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  const outcomes: Outcome[] = [];
  const notices: string[] = [];

  for (const group of GROUPS) {
    const wholeGroup = filters.length === 0 || filters.includes(group.name);
    const chosen = group.comparisons.filter((c) => wholeGroup || filters.includes(c.id));
    if (!wholeGroup && chosen.length === 0) continue;
    if (group.comparisons.length === 0) {
      notices.push(`${group.name}: skipped, no comparisons written yet for issue "${group.issue}"`);
      continue;
    }
    const groupMissing = await firstMissing(group.needs);
    for (const c of chosen) {
      const base = { id: c.id, group: group.name, title: c.title };
      const missing = groupMissing ?? (await firstMissing(c.needs));
      if (missing) {
        log(`${c.id}: SKIPPED, ${missing}`);
        outcomes.push({ ...base, status: 'skipped', reason: missing });
        continue;
      }
      log(`${c.id}: ${c.title}`);
      const tmpDir = tmpDirFor(c.id);
      const t0 = Date.now();
      const loadAtStart = os.loadavg()[0]!;
      try {
        const m = await c.run({ opts, tmpDir, log, ferryNodeArgs });
        const ratio = m.peer ? ratioOf(m.better, m.ferry.value, m.peer.value) : null;
        const load = { before: loadAtStart, after: os.loadavg()[0]! };
        outcomes.push({ ...base, status: 'measured', ...m, ratio, pass: meets(m.target, m.ferry.value, ratio), load });
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        log(`${c.id}: FAILED, ${reason}`);
        outcomes.push({ ...base, status: 'failed', reason: reason.split('\n')[0]! });
      } finally {
        fs.rmSync(tmpDir, { recursive: true, force: true });
        log(`${c.id}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
    }
  }

  const finishedAt = new Date();
  console.log('');
  console.log(`Ferry benchmarks, ${startedAt.toISOString()}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`ratio = Ferry's share of the peer's performance (≥ 1: Ferry does better); figures are medians of ${opts.reps} runs unless noted`);
  console.log('');
  if (outcomes.length > 0) console.log(table(outcomes));
  for (const n of notices) console.log(n);
  const measured = outcomes.filter((o) => o.status === 'measured');
  if (measured.length > 0) console.log('\nnotes:');
  for (const o of measured) for (const note of o.notes) console.log(`  ${o.id}: ${note}`);
  if (profileDir) console.log(`\nCPU profiles of Ferry (not comparable figures): ${profileDir}`);
  // A run loads the machine by about its core count itself (the server under test plus wrk or
  // curl); a load clearly above that means foreign work competed with the sides.
  const busiest = Math.max(loadBefore[0]!, ...measured.map((o) => Math.max(o.load?.before ?? 0, o.load?.after ?? 0)));
  if (measured.length > 0 && busiest > os.cpus().length + 1) {
    console.log(`\nwarning: the machine was busy (1-minute load up to ${busiest.toFixed(1)} on ${os.cpus().length} cores): these figures are unreliable; run again on a quiet machine`);
  }

  writeJson(out, {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    filters,
    options: opts,
    profiled: profileDir !== null,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? null,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      loadavgBefore: loadBefore,
      loadavgAfter: os.loadavg(),
      node: process.version,
      nginx: await nginxVersion(),
      wrk: await toolVersion('wrk', ['-v']),
      curl: await toolVersion('curl', ['--version']),
    },
    results: outcomes,
    notices,
  });
  console.log(`\nwritten: ${out}`);
  if (outcomes.some((o) => o.status === 'failed')) process.exitCode = 1;
  // A comparison that threw halfway may have left a server behind.
  killAllStarted();
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAllStarted();
    process.exit(130);
  });
}

main().catch((err: unknown) => {
  killAllStarted();
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
