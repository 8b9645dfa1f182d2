// Many cores (issue "Hot paths", item 5): the 16 KiB chat download of core-download
// (FERRY_DOWNLOAD=stream, token, sign and access checked on every request) through Ferry with
// FERRY_WORKERS=1 and =2, and nginx with 1 and 2 worker processes serving the same file, all in
// the same run. The figure is each side's scaling, requests/s with 2 ÷ with 1. Target: Ferry
// scales ≥ 1.7×; nginx's scaling on the same machine is the peer, for what this machine allows.
//
// Nothing is pinned here (the comparison is about using both cores), so wrk shares the cores
// with the servers on both sides alike. The four runs go in ABBA-style rotation per rep.
//
// wrk costs about half what a Ferry request does, so on two cores the figure stays near
// 2 × Ferry ÷ (Ferry + wrk) however well the workers scale. The notes also give each side's CPU
// per answered request, summed over all its processes: if a second worker made each request
// dearer (locks, the shared database), that figure shows it.
import { randomBytes } from 'node:crypto';
import { ferryWithFile, nginxWithFile, expectBytes } from './core-download.ts';
import { needTool } from './lib/needs.ts';
import { median } from './lib/stats.ts';
import type { Comparison } from './lib/types.ts';
import { treeCpuMs } from './lib/tree-cpu.ts';
import { wrk, wrkNotes, type WrkResult } from './lib/wrk.ts';

const SIZE = 16 * 1024;

export const workersScaling: Comparison = {
  id: 'core-workers',
  title: '(workers) 16 KiB download, 1 → 2 processes: Ferry FERRY_WORKERS vs nginx worker_processes',
  needs: [needTool('wrk', 'wrk'), needTool('nginx', 'nginx-light')],
  async run(ctx) {
    const bytes = randomBytes(SIZE);
    const stops: Array<() => Promise<void>> = [];
    try {
      const f1 = await ferryWithFile(ctx, 'stream', bytes, { name: 'ferry-1', env: { FERRY_WORKERS: '1' }, pin: 'all' });
      stops.push(() => f1.ferry.stop());
      const f2 = await ferryWithFile(ctx, 'stream', bytes, { name: 'ferry-2', env: { FERRY_WORKERS: '2' }, pin: 'all' });
      stops.push(() => f2.ferry.stop());
      const n1 = await nginxWithFile(ctx, bytes, { name: 'nginx-1', workers: 1, pin: 'all' });
      stops.push(() => n1.nginx.stop());
      const n2 = await nginxWithFile(ctx, bytes, { name: 'nginx-2', workers: 2, pin: 'all' });
      stops.push(() => n2.nginx.stop());
      const sides = { f1: f1.url, f2: f2.url, n1: n1.url, n2: n2.url };
      const pids: Record<keyof typeof sides, number> = { f1: f1.ferry.pid, f2: f2.ferry.pid, n1: n1.nginx.pid, n2: n2.nginx.pid };
      for (const [name, url] of Object.entries(sides)) await expectBytes(url, bytes, name);
      const settings = { threads: Math.max(2, ctx.opts.threads), connections: ctx.opts.connections, pin: 'all' as const };
      ctx.log('  warm-up 3s each');
      for (const url of Object.values(sides)) await wrk(url, { ...settings, durationS: Math.min(3, ctx.opts.durationS) });
      const runs: Record<keyof typeof sides, WrkResult[]> = { f1: [], f2: [], n1: [], n2: [] };
      const cpuPerRequestUs: Record<keyof typeof sides, number[]> = { f1: [], f2: [], n1: [], n2: [] };
      const order: Array<keyof typeof sides> = ['f1', 'f2', 'n1', 'n2'];
      for (let rep = 0; rep < ctx.opts.reps; rep++) {
        for (const side of rep % 2 === 0 ? order : [...order].reverse()) {
          const cpu0 = treeCpuMs(pids[side]);
          const r = await wrk(sides[side], { ...settings, durationS: ctx.opts.durationS });
          const cpuUs = ((treeCpuMs(pids[side]) - cpu0) * 1000) / r.requests;
          runs[side].push(r);
          cpuPerRequestUs[side].push(cpuUs);
          ctx.log(`  ${side} run ${rep + 1}: ${r.requestsPerSec.toFixed(0)} req/s, server CPU ${cpuUs.toFixed(1)} µs a request`);
        }
      }
      for (const [name, url] of Object.entries(sides)) await expectBytes(url, bytes, name);
      const rate = (side: keyof typeof sides) => median(runs[side].map((r) => r.requestsPerSec));
      const cpu = (side: keyof typeof sides) => median(cpuPerRequestUs[side]);
      // Per rep scaling too, so the JSON shows how steady it was.
      const perRep = (a: WrkResult[], b: WrkResult[]) => a.map((r, i) => b[i]!.requestsPerSec / r.requestsPerSec);
      return {
        unit: '×',
        better: 'higher',
        ferry: { label: 'req/s with FERRY_WORKERS=2 ÷ with 1', value: rate('f2') / rate('f1'), stat: 'median', samples: perRep(runs.f1, runs.f2) },
        peer: { name: 'nginx 2 ÷ 1 worker_processes', label: 'req/s with 2 workers ÷ with 1', value: rate('n2') / rate('n1'), stat: 'median', samples: perRep(runs.n1, runs.n2) },
        target: { kind: 'at-least', value: 1.7 },
        notes: [
          `medians req/s: Ferry 1 worker ${rate('f1').toFixed(0)}, 2 workers ${rate('f2').toFixed(0)}; nginx 1 worker ${rate('n1').toFixed(0)}, 2 workers ${rate('n2').toFixed(0)}`,
          `server CPU per request (medians, all the server's processes): Ferry 1 worker ${cpu('f1').toFixed(1)} µs, 2 workers ${cpu('f2').toFixed(1)} µs (${(cpu('f2') / cpu('f1')).toFixed(2)}×); nginx ${cpu('n1').toFixed(1)} µs, ${cpu('n2').toFixed(1)} µs (${(cpu('n2') / cpu('n1')).toFixed(2)}×)`,
          `wrk -t${settings.threads} -c${settings.connections} -d${ctx.opts.durationS}s, nothing pinned: wrk shares the cores with the server on every side`,
          ...wrkNotes('ferry 1', runs.f1),
          ...wrkNotes('ferry 2', runs.f2),
          ...wrkNotes('nginx 1', runs.n1),
          ...wrkNotes('nginx 2', runs.n2),
        ],
        details: { serverCpuPerRequestUs: cpuPerRequestUs },
      };
    } finally {
      for (const stop of stops.reverse()) await stop();
    }
  },
};
