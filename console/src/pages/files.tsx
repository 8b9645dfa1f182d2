// Files: look a file up by download_url, file_sign or object_name; its record, references and
// derivatives with previews; delete, quarantine, release; the quarantine queue; the audit log.
import { useEffect, useState } from 'preact/hooks';
import { formatBytes, formatTime, type Api } from '../api.ts';
import { Checkbox, Confirm, ErrorBox, Field, Form, Select, useAction, useId } from '../ui.tsx';
import type { PageProps } from '../main.tsx';
import { NoApp } from './groups.tsx';

interface OtherUrl {
  url: string;
  state: string;
  sender?: string;
  conversation?: unknown;
  created_at?: number;
}
interface Derivative {
  variant: string;
  size: number;
  type: string;
  created_at: number;
}
interface FileInfo {
  url: string;
  /** the URL a client fetches (the lookup may have been by a bare file_sign) */
  download_url?: string;
  file_id?: string;
  kind?: string;
  file_type?: number;
  size?: number;
  type?: string;
  sha256?: string;
  file_name?: string | null;
  sender?: string;
  conversation?: unknown;
  created_at?: number;
  uploaded_at?: number;
  state?: string;
  quarantine?: unknown;
  other_urls?: OtherUrl[];
  derivatives?: Derivative[];
}
interface Result {
  url: string;
  result: string;
  error?: string;
}
interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: unknown;
}

export function FilesPage({ api, appId }: PageProps) {
  if (!appId) return <NoApp />;
  return <Files key={appId} api={api} appId={appId} />;
}

const conversationText = (c: unknown) => (c && typeof c === 'object' ? Object.entries(c as Record<string, unknown>).map(([k, v]) => `${k} ${String(v)}`).join(', ') : c === undefined || c === null ? '—' : String(c));

/** A download URL extended the way Lanying clients do it: by appending query parameters. */
export function withParams(url: string, params: Record<string, string>): string {
  const q = Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return `${url}${url.includes('?') ? '&' : '?'}${q}`;
}

function Files({ api, appId }: { api: Api; appId: string }) {
  const base = `/admin/apps/${encodeURIComponent(appId)}`;
  const [query, setQuery] = useState('');
  const [info, setInfo] = useState<FileInfo | null>(null);
  const [results, setResults] = useState<Result[] | null>(null);
  const [auditKey, setAuditKey] = useState(0);
  const lookupUrl = async (url: string) => {
    const r = await api.admin<FileInfo>('GET', `${base}/files?url=${encodeURIComponent(url)}`);
    setInfo(r);
  };
  // After an action elsewhere on the page: the queue, the log and the record shown are read again.
  const refresh = async () => {
    setAuditKey((k) => k + 1);
    if (info) await lookupUrl(info.url).catch(() => setInfo(null));
  };
  const lookup = useAction(async () => {
    setResults(null);
    await lookupUrl(query.trim());
  });

  return (
    <>
      <h1>
        Files of <code>{appId}</code>
      </h1>
      <Form label="Find a file" action={lookup} submit="Look up" what="File lookup" validate={() => (query.trim() ? null : 'Paste a download_url, a file_sign or an avatar object_name.')}>
        <Field label="download_url, file_sign or object_name" name="file-url" value={query} onInput={setQuery} />
      </Form>
      {info ? (
        <FileDetail
          key={info.url}
          api={api}
          appId={appId}
          base={base}
          info={info}
          results={results}
          onChanged={async (r) => {
            setResults(r);
            setAuditKey((k) => k + 1);
            await lookupUrl(info.url);
          }}
        />
      ) : null}
      <BulkForm api={api} base={base} onDone={refresh} />
      <Quarantine key={`q${auditKey}`} api={api} base={base} onDone={refresh} />
      <Audit key={`a${auditKey}`} api={api} base={base} />
    </>
  );
}

function FileDetail(props: { api: Api; appId: string; base: string; info: FileInfo; results: Result[] | null; onChanged: (r: Result[]) => Promise<void> }) {
  const { api, appId, base, info } = props;
  const [allCopies, setAllCopies] = useState(false);
  const [reason, setReason] = useState('');
  const [reasonProblem, setReasonProblem] = useState<string | null>(null);
  const act = useAction(async (op: 'delete' | 'quarantine' | 'release') => {
    const body = op === 'delete' ? { urls: [info.url], all_copies: allCopies } : op === 'quarantine' ? { urls: [info.url], reason: reason.trim() } : { urls: [info.url] };
    const r = await api.admin<{ results: Result[] }>('POST', `${base}/files/${op}`, body);
    await props.onChanged(r.results);
  });
  const quarantined = info.state === 'quarantined' || (info.quarantine !== undefined && info.quarantine !== null);

  return (
    <section aria-labelledby="file-record">
      <h2 id="file-record">File record</h2>
      {props.results ? <ResultList results={props.results} label="Results" /> : null}
      <div class="grid">
        <div class="card">
          <dl class="facts">
            <dt>State</dt>
            <dd>
              <strong class={`state state-${info.state ?? 'unknown'}`}>{info.state ?? '—'}</strong>
              {quarantined ? <strong class="state state-quarantined"> quarantined</strong> : null}
              {quarantined && info.quarantine && typeof info.quarantine === 'object' && 'reason' in info.quarantine ? `: ${String((info.quarantine as { reason: unknown }).reason)}` : ''}
            </dd>
            <dt>Name</dt>
            <dd>{info.file_name ?? '—'}</dd>
            <dt>Type</dt>
            <dd>
              {info.type ?? '—'} (file_type {info.file_type ?? '—'}, {info.kind ?? '—'})
            </dd>
            <dt>Size</dt>
            <dd>{formatBytes(info.size)}</dd>
            <dt>SHA-256</dt>
            <dd class="mono">{info.sha256 ?? '—'}</dd>
            <dt>Sender</dt>
            <dd>{info.sender ?? '—'}</dd>
            <dt>Conversation</dt>
            <dd>{conversationText(info.conversation)}</dd>
            <dt>Uploaded</dt>
            <dd>{formatTime(info.uploaded_at ?? info.created_at)}</dd>
            <dt>Looked up by</dt>
            <dd class="mono">{info.url}</dd>
            {info.download_url && info.download_url !== info.url ? (
              <>
                <dt>download_url</dt>
                <dd class="mono">{info.download_url}</dd>
              </>
            ) : null}
          </dl>
        </div>
        <div class="card">
          <h3>Actions</h3>
          <Checkbox label="Delete every copy (forwards too)" name="all-copies" checked={allCopies} onChange={setAllCopies} />
          <div class="actions">
            <Confirm label="Delete" confirm="Yes, delete" question="Delete this file?" busy={act.busy} onConfirm={() => void act.run('delete')} />
          </div>
          <Field label="Quarantine reason" name="quarantine-reason" value={reason} onInput={setReason} />
          <div class="actions">
            <button
              type="button"
              disabled={act.busy}
              onClick={() => {
                if (!reason.trim()) return setReasonProblem('Give a reason for the quarantine (it goes into the audit log).');
                setReasonProblem(null);
                void act.run('quarantine');
              }}
            >
              Quarantine
            </button>
            <button type="button" disabled={act.busy} onClick={() => void act.run('release')}>
              Release
            </button>
          </div>
          {reasonProblem ? (
            <p class="error" role="alert">
              {reasonProblem}
            </p>
          ) : null}
          <ErrorBox error={act.error} what="This action" />
        </div>
        <Preview key={`${info.state}-${JSON.stringify(info.quarantine ?? null)}`} api={api} appId={appId} info={info} />
      </div>
      <div class="card">
        <h3>References</h3>
        {info.other_urls && info.other_urls.length > 0 ? (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">URL</th>
                  <th scope="col">state</th>
                  <th scope="col">sender</th>
                  <th scope="col">conversation</th>
                  <th scope="col">created</th>
                </tr>
              </thead>
              <tbody>
                {info.other_urls.map((o) => (
                  <tr key={o.url}>
                    <td class="mono">{o.url}</td>
                    <td>{o.state}</td>
                    <td>{o.sender ?? '—'}</td>
                    <td>{conversationText(o.conversation)}</td>
                    <td>{formatTime(o.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>No other URL refers to these bytes.</p>
        )}
        <h3>Derivatives</h3>
        {info.derivatives && info.derivatives.length > 0 ? (
          <ul>
            {info.derivatives.map((d) => (
              <li key={d.variant}>
                {d.variant}: {d.type}, {formatBytes(d.size)}, {formatTime(d.created_at)}
              </li>
            ))}
          </ul>
        ) : (
          <p>None made yet (they are made on the first request).</p>
        )}
      </div>
    </section>
  );
}

/** Previews read the file the way a client does, with a short-lived admin token of the app. */
function Preview({ api, appId, info }: { api: Api; appId: string; info: FileInfo }) {
  const [token, setToken] = useState<string | null>(null);
  const mint = useAction(async () => {
    const r = await api.admin<{ token: string }>('POST', `/admin/apps/${encodeURIComponent(appId)}/tokens`, { user_id: info.sender ?? '1', role: 'admin', ttl_s: 600 });
    setToken(r.token);
  });
  const quarantined = info.state === 'quarantined' || (info.quarantine !== undefined && info.quarantine !== null);
  const live = (info.state === undefined || info.state === 'live') && !quarantined;
  useEffect(() => {
    if (live) void mint.run();
  }, []);
  if (!live) return <div class="card"><h3>Preview</h3><p>No preview: the file is {quarantined ? 'quarantined' : info.state}.</p></div>;
  const url = (extra: Record<string, string> = {}) => (token ? withParams(info.download_url ?? info.url, { 'access-token': token, app_id: appId, ...extra }) : '');
  const t = info.file_type ?? 0;
  const isImage = t === 102 || info.kind === 'avatar' || (info.type ?? '').startsWith('image/');
  const isVideo = t === 103 || (info.type ?? '').startsWith('video/');
  const isVoice = t === 101 || t === 104 || t === 201;
  return (
    <div class="card">
      <h3>Preview</h3>
      <ErrorBox error={mint.error} what="Preview token" />
      {token ? (
        <>
          {isImage ? (
            <figure>
              <img src={url({ image_type: '2' })} alt={`Thumbnail of ${info.file_name ?? 'the file'}`} class="preview" />
              <figcaption>Thumbnail</figcaption>
            </figure>
          ) : null}
          {isVideo || isImage ? (
            <figure>
              <img src={url({ image_type: '3' })} alt={`Cover of ${info.file_name ?? 'the file'}`} class="preview" />
              <figcaption>Cover</figcaption>
            </figure>
          ) : null}
          {isVoice ? (
            <figure>
              <audio controls preload="none" src={url({ format: 'mp3' })} aria-label="Voice message as MP3" />
              <figcaption>Voice (MP3)</figcaption>
            </figure>
          ) : null}
          <p>
            <a href={url()} target="_blank" rel="noopener noreferrer">
              Download the original
            </a>
          </p>
        </>
      ) : null}
    </div>
  );
}

/** Delete, quarantine or release many URLs at once (one per line); a result per URL. */
function BulkForm({ api, base, onDone }: { api: Api; base: string; onDone: () => Promise<void> }) {
  const [text, setText] = useState('');
  const [op, setOp] = useState<'delete' | 'quarantine' | 'release'>('delete');
  const [reason, setReason] = useState('');
  const [allCopies, setAllCopies] = useState(false);
  const [results, setResults] = useState<Result[] | null>(null);
  const textId = useId('bulk-urls');
  const urls = () => text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const act = useAction(async () => {
    setResults(null);
    const list = urls();
    const body = op === 'delete' ? { urls: list, all_copies: allCopies } : op === 'quarantine' ? { urls: list, reason: reason.trim() } : { urls: list };
    const r = await api.admin<{ results: Result[] }>('POST', `${base}/files/${op}`, body);
    setResults(r.results);
    await onDone();
  });
  return (
    <Form
      label="Act on several URLs"
      action={act}
      submit="Apply"
      validate={() => {
        const n = urls().length;
        if (n === 0) return 'Paste at least one download_url, file_sign or object_name, one per line.';
        if (n > 1000) return `${n} lines: at most 1000 per request.`;
        if (op === 'quarantine' && !reason.trim()) return 'Give a reason for the quarantine (it goes into the audit log).';
        return null;
      }}
    >
      <div class="field">
        <label for={textId}>URLs, one per line</label>
        <textarea id={textId} rows={4} value={text} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
      </div>
      <Select label="Action" name="bulk-op" value={op} options={[['delete', 'delete'], ['quarantine', 'quarantine'], ['release', 'release']]} onChange={setOp} />
      {op === 'delete' ? <Checkbox label="Every copy (forwards too)" name="bulk-all-copies" checked={allCopies} onChange={setAllCopies} /> : null}
      {op === 'quarantine' ? <Field label="Reason" name="bulk-reason" value={reason} onInput={setReason} /> : null}
      {results ? <ResultList results={results} label="Results of the URLs" /> : null}
    </Form>
  );
}

/** The API's answer per URL, verbatim: its result and, when it names one, its error. */
function ResultList({ results, label }: { results: Result[]; label: string }) {
  return (
    <div role="status">
      <ul class="results" aria-label={label}>
        {results.map((r, i) => (
          <li key={`${i}-${r.url}`}>
            <span class="mono">{r.url}</span>: <strong>{r.result}</strong>
            {r.error ? ` (${r.error})` : ''}
          </li>
        ))}
      </ul>
    </div>
  );
}

async function auditPages(api: Api, base: string, pages: number): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  let before: string | null = null;
  for (let i = 0; i < pages; i++) {
    const r: { entries: AuditEntry[]; next: string | null } = await api.admin('GET', `${base}/audit?limit=500${before ? `&before=${encodeURIComponent(before)}` : ''}`);
    out.push(...r.entries);
    if (!r.next) break;
    before = r.next;
  }
  return out;
}

const sha = (d: unknown) => (d && typeof d === 'object' && typeof (d as { sha256?: unknown }).sha256 === 'string' ? (d as { sha256: string }).sha256 : null);

/**
 * The quarantine queue, read from the audit log (newest 2,000 entries): content whose last
 * quarantine is not followed by a release.
 */
function Quarantine({ api, base, onDone }: { api: Api; base: string; onDone: () => Promise<void> }) {
  const [queue, setQueue] = useState<AuditEntry[] | null>(null);
  const load = useAction(async () => {
    const entries = await auditPages(api, base, 4);
    const seen = new Set<string>();
    const open: AuditEntry[] = [];
    for (const e of entries) {
      if (e.action !== 'file.quarantine' && e.action !== 'file.release') continue;
      const key = sha(e.detail) ?? e.target;
      if (seen.has(key)) continue;
      seen.add(key);
      if (e.action === 'file.quarantine') open.push(e);
    }
    setQueue(open);
  });
  const release = useAction(async (url: string) => {
    await api.admin('POST', `${base}/files/release`, { urls: [url] });
    await onDone();
  });
  useEffect(() => {
    void load.run();
  }, []);
  return (
    <section class="card" aria-labelledby="quarantine-queue">
      <h2 id="quarantine-queue">Quarantine queue</h2>
      <ErrorBox error={load.error} what="The quarantine queue (it reads the audit log)" />
      <ErrorBox error={release.error} what="Release" />
      {queue && queue.length === 0 ? <p>Nothing is in quarantine.</p> : null}
      {queue && queue.length > 0 ? (
        <ul class="list" aria-label="Quarantined files">
          {queue.map((e) => (
            <li key={e.id}>
              <span class="mono">{e.target}</span>
              <small>
                {formatTime(e.at)} by {e.actor}
                {e.detail && typeof e.detail === 'object' && 'reason' in e.detail ? `: ${String((e.detail as { reason: unknown }).reason)}` : ''}
              </small>
              <button type="button" disabled={release.busy} onClick={() => void release.run(e.target)}>
                Release
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function Audit({ api, base }: { api: Api; base: string }) {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const load = useAction(async (before?: string) => {
    const r = await api.admin<{ entries: AuditEntry[]; next: string | null }>('GET', `${base}/audit?limit=50${before ? `&before=${encodeURIComponent(before)}` : ''}`);
    setEntries((old) => (before ? [...old, ...r.entries] : r.entries));
    setNext(r.next);
  });
  useEffect(() => {
    void load.run();
  }, []);
  return (
    <section class="card" aria-labelledby="audit-log">
      <h2 id="audit-log">Audit log</h2>
      <ErrorBox error={load.error} what="The audit log" />
      {!load.error && entries.length === 0 && !load.busy ? <p>No entries yet.</p> : null}
      {entries.length > 0 ? (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">when</th>
                <th scope="col">who</th>
                <th scope="col">what</th>
                <th scope="col">target</th>
                <th scope="col">detail</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td>{formatTime(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                  <td class="mono">{e.target}</td>
                  <td class="mono">{e.detail === null ? '' : JSON.stringify(e.detail)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {next ? (
        <button type="button" disabled={load.busy} onClick={() => void load.run(next)}>
          Older entries
        </button>
      ) : null}
    </section>
  );
}
