// `npx tsx bench/profile-summary.ts [FILE.cpuprofile…]` (default: every profile in .bench/profiles)
// Where Ferry spends its CPU, from the profiles `npm run bench -- … --cpu-prof` leaves behind:
// self time by function and by package, and inclusive time of Ferry's own functions (src/…).
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './lib/ferry.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

const sources = new Map<string, string[]>();
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * tsx hands V8 each .ts module as one long line, so profile positions inside src/ say line 1.
 * Find the definition by name in the source instead (1-based line, or null).
 */
function definitionLine(file: string, name: string): number | null {
  if (!name || !file.endsWith('.ts')) return null;
  let lines = sources.get(file);
  if (!lines) {
    try {
      lines = fs.readFileSync(file, 'utf8').split('\n');
    } catch {
      lines = [];
    }
    sources.set(file, lines);
  }
  const n = escape(name.replace(/^(get|set) /, ''));
  const patterns = [
    new RegExp(`\\bfunction\\*?\\s+${n}\\b`),
    new RegExp(`\\bclass\\s+${n}\\b`),
    new RegExp(`\\b${n}\\s*[:=]\\s*(async\\s*)?(\\(|function|[A-Za-z_$][\\w$]*\\s*=>)`),
    new RegExp(`^\\s*(public |private |protected |static |override |async |readonly |get |set )*${n}\\s*(<[^>]*>)?\\(`),
  ];
  for (const re of patterns) {
    const i = lines.findIndex((l) => re.test(l));
    if (i >= 0) return i + 1;
  }
  return null;
}

function where(f: CallFrame): string {
  const abs = f.url.replace(/^file:\/\//, '');
  let file = abs;
  if (file.startsWith(repoRoot)) file = path.relative(repoRoot, file);
  const name = f.functionName || '(anonymous)';
  if (!file) return name;
  // lineNumber is 0-based in profiles
  let line = String(f.lineNumber + 1);
  if (f.lineNumber === 0 && abs.startsWith(`${repoRoot}/src/`)) line = String(definitionLine(abs, f.functionName) ?? '?');
  return `${name} ${file}:${line}`;
}

function bucket(f: CallFrame): string {
  const file = f.url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg) return pkg[1]!;
  if (file.startsWith(repoRoot)) return path.relative(repoRoot, file).split('/').slice(0, 2).join('/');
  if (file.startsWith('node:')) return 'node internals';
  if (!file) return f.functionName.startsWith('(') ? f.functionName : 'native/V8';
  return file;
}

/** percentages are of the samples where the process was busy: idle time says nothing */
function top(map: Map<string, number>, total: number, n: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}

function summarise(file: string): void {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const total = prof.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0);
  const idle = prof.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((n, x) => n + (x.hitCount ?? 0), 0);
  const self = new Map<string, number>();
  const pkgs = new Map<string, number>();
  const busy = total - idle;
  for (const n of prof.nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits || n.callFrame.functionName === '(idle)') continue;
    self.set(where(n.callFrame), (self.get(where(n.callFrame)) ?? 0) + hits);
    pkgs.set(bucket(n.callFrame), (pkgs.get(bucket(n.callFrame)) ?? 0) + hits);
  }
  // Inclusive time of Ferry's own functions, each counted once per stack (recursion-safe).
  const inclusive = new Map<string, number>();
  const walk = (id: number, onStack: Set<string>): number => {
    const n = byId.get(id)!;
    let hits = n.hitCount ?? 0;
    const key = where(n.callFrame);
    // Ferry's own code: src/ under tsx, dist/ (the esbuild bundle, as the benchmarks run it).
    const url = n.callFrame.url;
    const mine = (url.includes(`${repoRoot}/src/`) || url.includes(`${repoRoot}/dist/`)) && !onStack.has(key);
    if (mine) onStack.add(key);
    for (const c of n.children ?? []) hits += walk(c, onStack);
    if (mine) {
      onStack.delete(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
    }
    return hits;
  };
  walk(prof.nodes[0]!.id, new Set());
  const seconds = (prof.endTime - prof.startTime) / 1e6;
  console.log(`\n== ${path.basename(file)}: ${seconds.toFixed(1)} s, ${total} samples, ${((100 * idle) / total).toFixed(1)}% idle`);
  console.log('-- self time by function, % of busy samples');
  for (const l of top(self, busy, 25)) console.log(l);
  console.log('-- self time by package / src folder, % of busy samples');
  for (const l of top(pkgs, busy, 15)) console.log(l);
  console.log("-- inclusive time of Ferry's own functions (src/, dist/), % of busy samples");
  for (const l of top(inclusive, busy, 20)) console.log(l);
}

const args = process.argv.slice(2);
const dir = path.join(repoRoot, '.bench', 'profiles');
const files = args.length ? args : fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f)) : [];
if (files.length === 0) {
  console.error('no .cpuprofile files: run `npm run bench -- core-slot-rate --cpu-prof` first');
  process.exit(1);
}
for (const f of files) summarise(f);
