// `ferry members import FILE --app APP`: many groups' member lists from one file, NDJSON
// ({"group_id", "user_id", "role"?, "joined_at"?} per line) or CSV (group_id,user_id,role,
// joined_at; a header line is optional; role and joined_at may be empty). Each group named in the
// file ends up with exactly the members listed for it there.
//
// The file is read twice, streamed both times: first every line is checked (a bad line stops
// the import before anything is written, naming the line), then members are written in batches.
// Memory stays bounded by one batch, whatever the file's size. A group's first batch replaces its
// list and its later batches add to it; lines of one group may be spread over the file.
import fs from 'node:fs';
import readline from 'node:readline';
import { AdminError } from '../admin/admin-service.ts';
import { parseMember } from '../admin/membership-admin.ts';
import { canonicalId } from '../ids.ts';
import type { MemberEntry, MetaStore } from '../meta/meta-store.ts';

const BATCH = 5_000;
const PROGRESS_EVERY = 50_000;

interface Row {
  groupId: string;
  member: MemberEntry;
}

type Format = 'ndjson' | 'csv';

function parseLine(line: string, n: number, format: Format, now: number): Row | null {
  const where = `line ${n}`;
  if (format === 'ndjson') {
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      throw new AdminError(400, `${where} is not JSON`);
    }
    if (o === null || typeof o !== 'object') throw new AdminError(400, `${where} must be an object`);
    const groupId = canonicalId((o as Record<string, unknown>).group_id);
    if (groupId === null) throw new AdminError(400, `${where}: group_id must be a positive 64-bit integer`);
    return { groupId, member: parseMember(o, where, now) };
  }
  const cells = line.split(',').map((c) => c.trim());
  if (n === 1 && cells[0] === 'group_id') return null; // the header
  if (cells.length < 2 || cells.length > 4) throw new AdminError(400, `${where} must be group_id,user_id[,role[,joined_at]]`);
  const [g, user_id, role, joined] = cells;
  const groupId = canonicalId(g);
  if (groupId === null) throw new AdminError(400, `${where}: group_id must be a positive 64-bit integer`);
  const joined_at = joined === undefined || joined === '' ? undefined : /^\d+$/.test(joined) ? Number(joined) : joined;
  return { groupId, member: parseMember({ user_id, role: role === '' ? undefined : role, joined_at }, where, now) };
}

async function* rows(file: string, now: number): AsyncGenerator<Row> {
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let format: Format | null = null;
  let n = 0;
  for await (const raw of lines) {
    n++;
    const line = raw.trim();
    if (line === '') continue;
    format ??= line.startsWith('{') ? 'ndjson' : 'csv';
    const row = parseLine(line, n, format, now);
    if (row) yield row;
  }
}

export interface ImportReport {
  app_id: string;
  groups: number;
  members: number;
}

export async function importMembers(meta: MetaStore, appId: string, file: string, progress: (msg: string) => void): Promise<ImportReport> {
  if (!(await meta.getApp(appId))) throw new AdminError(404, `app ${appId} not found`);
  if (!fs.existsSync(file)) throw new AdminError(400, `${file}: no such file`);
  const now = Date.now();
  // Pass 1: every line checked, nothing written.
  let total = 0;
  for await (const _ of rows(file, now)) total++;
  progress(`${file}: ${total} memberships, all lines valid; writing`);

  // Pass 2: per group, a buffer of up to BATCH members; its first flush replaces the group's list.
  const started = new Set<string>();
  const buffers = new Map<string, MemberEntry[]>();
  let written = 0;
  let nextReport = PROGRESS_EVERY;
  const flush = async (groupId: string) => {
    const batch = buffers.get(groupId);
    if (!batch || batch.length === 0) return;
    buffers.delete(groupId);
    if (started.has(groupId)) await meta.addMembers(appId, groupId, batch, now);
    else {
      started.add(groupId);
      await meta.replaceMembers(appId, groupId, batch, { now });
    }
    written += batch.length;
    if (written >= nextReport) {
      progress(`${written}/${total} memberships written (${Math.round((100 * written) / Math.max(1, total))}%)`);
      nextReport += PROGRESS_EVERY;
    }
  };
  let buffered = 0;
  for await (const { groupId, member } of rows(file, now)) {
    let b = buffers.get(groupId);
    if (!b) buffers.set(groupId, (b = []));
    b.push(member);
    buffered++;
    if (b.length >= BATCH) {
      buffered -= b.length;
      await flush(groupId);
    } else if (buffered >= 4 * BATCH) {
      // Many small groups: write them all rather than hold them.
      for (const g of [...buffers.keys()]) await flush(g);
      buffered = 0;
    }
  }
  for (const g of [...buffers.keys()]) await flush(g);
  progress(`done: ${written} memberships in ${started.size} groups`);
  return { app_id: appId, groups: started.size, members: written };
}
