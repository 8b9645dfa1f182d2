// Groups: list an app's groups (paged), find one, create one, see its members (paged), import
// members from a CSV or NDJSON file (checked whole before anything is sent), dissolve.
import { useEffect, useState } from 'preact/hooks';
import { ID, formatTime } from '../api.ts';
import { Checkbox, Confirm, ErrorBox, Field, Form, useAction, useId } from '../ui.tsx';
import type { PageProps } from '../main.tsx';

interface GroupRow {
  group_id: string;
  owner_id: string;
}
interface Member {
  user_id: string;
  role: string;
  joined_at?: number | null;
}
const PAGE = 50;

export function GroupsPage({ api, appId }: PageProps) {
  if (!appId) return <NoApp />;
  return <Groups key={appId} api={api} appId={appId} />;
}

export function NoApp() {
  return (
    <p class="notice">
      Choose an app first, on the <a href="#/apps">Apps</a> page.
    </p>
  );
}

function Groups({ api, appId }: { api: PageProps['api']; appId: string }) {
  const base = `/admin/apps/${encodeURIComponent(appId)}/groups`;
  const [groups, setGroups] = useState<GroupRow[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const list = useAction(async (after?: string) => {
    const r = await api.admin<{ groups: GroupRow[]; next: string | null }>('GET', `${base}?limit=${PAGE}${after ? `&after=${after}` : ''}`);
    setGroups((old) => (after ? [...old, ...r.groups] : r.groups));
    setNext(r.next);
  });
  useEffect(() => {
    void list.run();
  }, []);

  const [find, setFind] = useState('');
  const [notFound, setNotFound] = useState(false);
  const lookup = useAction(async () => {
    const r = await api.admin<{ groups: GroupRow[] }>('GET', `${base}?group_id=${find.trim()}`);
    setNotFound(r.groups.length === 0);
    if (r.groups[0]) setChosen(r.groups[0].group_id);
  });

  const [gid, setGid] = useState('');
  const [owner, setOwner] = useState('');
  const create = useAction(async () => {
    await api.admin('PUT', `${base}/${gid.trim()}`, { owner_id: owner.trim() });
    setChosen(gid.trim());
    setGid('');
    await list.run();
  });

  return (
    <>
      <h1>
        Groups of <code>{appId}</code>
      </h1>
      <div class="grid">
        <section class="card" aria-labelledby="groups-list">
          <h2 id="groups-list">Groups</h2>
          <ErrorBox error={list.error} what="Listing groups" />
          {groups.length === 0 && !list.busy && !list.error ? <p>No groups in this app.</p> : null}
          <ul class="list" aria-label="Groups">
            {groups.map((g) => (
              <li key={g.group_id}>
                <button type="button" aria-pressed={g.group_id === chosen} class={g.group_id === chosen ? 'chosen' : ''} onClick={() => setChosen(g.group_id)}>
                  {g.group_id}
                </button>
                <small>owner {g.owner_id}</small>
              </li>
            ))}
          </ul>
          {next ? (
            <button type="button" disabled={list.busy} onClick={() => void list.run(next)}>
              More groups
            </button>
          ) : null}
        </section>
        <Form label="Find a group" action={lookup} submit="Find" validate={() => (ID.test(find.trim()) ? null : 'group_id must be a positive whole number.')}>
          <Field label="group_id" name="find-group" inputMode="numeric" value={find} onInput={setFind} />
          {notFound ? <p role="status">No group {find.trim()} in this app.</p> : null}
        </Form>
        <Form
          label="Create a group"
          action={create}
          submit="Create group"
          validate={() => (!ID.test(gid.trim()) ? 'group_id must be a positive whole number.' : !ID.test(owner.trim()) ? 'owner user_id must be a positive whole number.' : null)}
        >
          <Field label="group_id" name="new-group" inputMode="numeric" value={gid} onInput={setGid} />
          <Field label="owner user_id" name="new-owner" inputMode="numeric" value={owner} onInput={setOwner} />
        </Form>
      </div>
      {chosen ? (
        <GroupDetail
          key={chosen}
          api={api}
          path={`${base}/${chosen}`}
          groupId={chosen}
          onDissolved={() => {
            setChosen(null);
            void list.run();
          }}
        />
      ) : null}
    </>
  );
}

function GroupDetail({ api, path, groupId, onDissolved }: { api: PageProps['api']; path: string; groupId: string; onDissolved: () => void }) {
  const [members, setMembers] = useState<Member[] | null>(null);
  const [version, setVersion] = useState<number | null>(null);
  const [page, setPage] = useState(0);
  const [history, setHistory] = useState<boolean | null>(null);
  const load = useAction(async () => {
    const r = await api.admin<{ members: Member[]; version?: number | null; history_visible?: boolean }>('GET', `${path}/members`);
    setMembers(r.members);
    setVersion(typeof r.version === 'number' ? r.version : null);
    setHistory(typeof r.history_visible === 'boolean' ? r.history_visible : null);
    setPage(0);
  });
  const toggleHistory = useAction(async (visible: boolean) => {
    const r = await api.admin<{ history_visible: boolean }>('PATCH', path, { history_visible: visible });
    setHistory(r.history_visible);
  });
  useEffect(() => {
    void load.run();
  }, []);

  const dissolve = useAction(async () => {
    await api.admin('DELETE', path);
    onDissolved();
  });

  const pages = members ? Math.max(1, Math.ceil(members.length / PAGE)) : 1;
  const shown = members?.slice(page * PAGE, (page + 1) * PAGE) ?? [];
  return (
    <section aria-labelledby="group-detail">
      <h2 id="group-detail">Group {groupId}</h2>
      <div class="grid">
        <div class="card">
          <h3>Members</h3>
          <ErrorBox error={load.error} what="The member list (GET …/members)" />
          {members ? (
            <>
              <p>
                {members.length} member{members.length === 1 ? '' : 's'}
                {version !== null ? `, version ${version}` : ''}
              </p>
              {history !== null ? (
                <Checkbox
                  key={`${String(history)}-${toggleHistory.error ? 'failed' : 'ok'}`}
                  label="New members see earlier files (history_visible)" name="history-visible" checked={history} onChange={(v) => void toggleHistory.run(v)} />
              ) : null}
              <ErrorBox error={toggleHistory.error} />
              <div class="scroll">
                <table>
                  <caption class="sr">
                    Members, page {page + 1} of {pages}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">user_id</th>
                      <th scope="col">role</th>
                      <th scope="col">joined</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((m) => (
                      <tr key={m.user_id}>
                        <td>{m.user_id}</td>
                        <td>{m.role}</td>
                        <td>{m.joined_at ? formatTime(m.joined_at) : '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <nav class="pager" aria-label="Member pages">
                <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
                  Previous
                </button>
                <span>
                  Page {page + 1} of {pages}
                </span>
                <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
                  Next
                </button>
              </nav>
            </>
          ) : null}
        </div>
        {!load.error?.unavailable ? <Import api={api} path={path} version={version} onDone={() => void load.run()} /> : null}
        <div class="card">
          <h3>Dissolve</h3>
          <p>The group and its member list are removed; its members lose access to what was sent to it.</p>
          <Confirm label="Dissolve group" confirm="Yes, dissolve" question={`Dissolve group ${groupId}?`} busy={dissolve.busy} onConfirm={() => void dissolve.run()} />
          <ErrorBox error={dissolve.error} what="Dissolving groups" />
        </div>
      </div>
    </section>
  );
}

/** Members from CSV (user_id[,role[,joined_at]], an optional header line) or NDJSON lines. */
export function parseMembers(text: string, name: string): { members: Member[] } | { error: string } {
  const members: Member[] = [];
  const ndjson = /\.(nd)?json$/i.test(name) || text.trimStart().startsWith('{');
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line) continue;
    let m: { user_id?: unknown; role?: unknown; joined_at?: unknown };
    if (ndjson) {
      try {
        m = JSON.parse(line) as typeof m;
      } catch {
        return { error: `line ${i + 1}: not JSON` };
      }
    } else {
      const cells = line.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
      if (i === 0 && cells[0] === 'user_id') continue;
      m = { user_id: cells[0], role: cells[1] || undefined, joined_at: cells[2] ? Number(cells[2]) : undefined };
    }
    const userId = typeof m.user_id === 'number' ? String(m.user_id) : m.user_id;
    if (typeof userId !== 'string' || !ID.test(userId)) return { error: `line ${i + 1}: user_id must be a positive whole number` };
    if (m.role !== undefined && !['member', 'admin', 'owner'].includes(String(m.role))) return { error: `line ${i + 1}: role must be member, admin or owner` };
    if (m.joined_at !== undefined && !(typeof m.joined_at === 'number' && Number.isInteger(m.joined_at) && m.joined_at >= 0)) {
      return { error: `line ${i + 1}: joined_at must be milliseconds since 1970` };
    }
    members.push({ user_id: userId, role: (m.role as string | undefined) ?? 'member', ...(m.joined_at !== undefined ? { joined_at: m.joined_at as number } : {}) });
  }
  if (members.length === 0) return { error: 'the file holds no members' };
  return { members };
}

function Import({ api, path, version, onDone }: { api: PageProps['api']; path: string; version: number | null; onDone: () => void }) {
  const fileId = useId('import');
  const [file, setFile] = useState<File | null>(null);
  const [nextVersion, setNextVersion] = useState('');
  const [result, setResult] = useState<string | null>(null);
  const [parsed, setParsed] = useState<Member[] | null>(null);
  const send = useAction(async () => {
    const body: { members: Member[]; version?: number } = { members: parsed ?? [] };
    if (nextVersion.trim()) body.version = Number(nextVersion);
    const r = await api.admin<{ applied?: boolean; message?: string; count?: number }>('PUT', `${path}/members`, body);
    setResult(r.applied === false ? (r.message ?? 'nothing changed') : `imported ${r.count ?? body.members.length} members`);
    onDone();
  });
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <form
      class="card"
      aria-label="Import members"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setResult(null);
        if (!file) return setProblem('Choose a CSV or NDJSON file.');
        if (nextVersion.trim() && !/^\d{1,15}$/.test(nextVersion.trim())) return setProblem('version must be a whole number.');
        void file.text().then((text) => {
          const p = parseMembers(text, file.name);
          if ('error' in p) {
            setParsed(null);
            return setProblem(`${file.name}: ${p.error}. Nothing was sent.`);
          }
          setProblem(null);
          setParsed(p.members);
        });
      }}
    >
      <h3>Import members</h3>
      <p>The file replaces the whole member list. CSV: <code>user_id,role,joined_at</code> per line; NDJSON: one <code>{'{"user_id": …}'}</code> per line.</p>
      <div class="field">
        <label for={fileId}>Member file</label>
        <input id={fileId} type="file" accept=".csv,.ndjson,.json,.txt,text/csv,application/x-ndjson" onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
      </div>
      <Field label={`New version (optional${version !== null ? `; now ${version}` : ''})`} name="import-version" inputMode="numeric" value={nextVersion} onInput={setNextVersion} />
      <div class="actions">
        <button type="submit">Check file</button>
        {parsed ? (
          <button type="button" disabled={send.busy} onClick={() => void send.run()}>
            Replace with {parsed.length} members
          </button>
        ) : null}
      </div>
      {problem ? (
        <p class="error" role="alert">
          {problem}
        </p>
      ) : null}
      {result ? <p role="status">{result}</p> : null}
      <ErrorBox error={send.error} what="Importing members (PUT …/members)" />
    </form>
  );
}
