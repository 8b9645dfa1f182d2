// The table on stdout and .bench/results.json: figures the lead can paste into the README,
// with every sample and note kept in the JSON.
import fs from 'node:fs';
import path from 'node:path';
import type { Outcome, Target } from './types.ts';

const COLUMNS = ['comparison', 'Ferry', 'peer', 'ratio', 'target', 'pass?'] as const;

function fmt(n: number, unit: string): string {
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return `${n.toFixed(digits)} ${unit}`;
}

function fmtTarget(t: Target, unit: string): string {
  // Targets like "within 1.3× of the peer" arrive as 1/1.3: two decimals are plenty.
  const v = Number(t.value.toFixed(2));
  if (t.kind === 'ratio-at-least') return `≥ ${v}`;
  if (t.kind === 'at-most') return `Ferry ≤ ${v} ${unit}`;
  return t.kind === 'at-least' ? `Ferry ≥ ${v} ${unit}` : `< ${v} ${unit}`;
}

export function row(o: Outcome): string[] {
  if (o.status !== 'measured') return [o.title, o.status.toUpperCase(), '', '', '', o.reason];
  const peer = o.peer ? `${fmt(o.peer.value, o.unit)} (${o.peer.name})` : '—';
  const ratio = o.ratio === null ? '—' : o.ratio.toFixed(2);
  return [o.title, fmt(o.ferry.value, o.unit), peer, ratio, fmtTarget(o.target, o.unit), o.pass ? 'yes' : 'NO'];
}

export function table(outcomes: Outcome[]): string {
  const rows = [[...COLUMNS], ...outcomes.map(row)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.filter((r) => !(r[1] === 'SKIPPED' || r[1] === 'FAILED') || i < 2).map((r) => [...r[i]!].length)));
  const line = (r: string[]) => {
    // A skipped or failed line carries its reason in full after the status instead of in columns.
    if (r[1] === 'SKIPPED' || r[1] === 'FAILED') return `| ${r[0]!.padEnd(widths[0]!)} | ${r[1]}: ${r[5]}`;
    return `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  };
  const sep = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(rows[0]!), sep, ...rows.slice(1).map(line)].join('\n');
}

export function writeJson(file: string, report: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
