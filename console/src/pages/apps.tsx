// Apps: list (paged), create, settings (see and change), rotate the secret, mint a test token.
import { useEffect, useState } from 'preact/hooks';
import { APP_ID, ID, formatBytes, formatTime, type ApiError } from '../api.ts';
import { Confirm, ErrorBox, Field, Form, Secret, Select, useAction } from '../ui.tsx';
import type { PageProps } from '../main.tsx';

interface AppRow {
  app_id: string;
  created_at: number;
}

export function AppsPage({ api, appId, setAppId }: PageProps) {
  const [apps, setApps] = useState<AppRow[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const load = useAction(async (after?: string) => {
    const page = await api.admin<{ apps: AppRow[]; next: string | null }>('GET', `/admin/apps?limit=50${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    setApps((old) => (after ? [...old, ...page.apps] : page.apps));
    setNext(page.next);
  });
  useEffect(() => {
    void load.run();
  }, []);

  const [newId, setNewId] = useState('');
  const [created, setCreated] = useState<{ app_id: string; secret: string } | null>(null);
  const create = useAction(async () => {
    const r = await api.admin<{ app_id: string; secret: string }>('POST', '/admin/apps', newId.trim() ? { app_id: newId.trim() } : {});
    setCreated(r);
    setNewId('');
    setAppId(r.app_id);
    await load.run();
  });

  return (
    <>
      <h1>Apps</h1>
      <div class="grid">
        <section class="card" aria-labelledby="apps-list">
          <h2 id="apps-list">All apps</h2>
          <ErrorBox error={load.error} what="Listing apps" />
          {apps.length === 0 && !load.busy && !load.error ? <p>No apps yet: create one.</p> : null}
          <ul class="list" aria-label="Apps">
            {apps.map((a) => (
              <li key={a.app_id}>
                <button type="button" class={a.app_id === appId ? 'chosen' : ''} aria-pressed={a.app_id === appId} onClick={() => setAppId(a.app_id)}>
                  {a.app_id}
                </button>
                <small>{formatTime(a.created_at)}</small>
              </li>
            ))}
          </ul>
          {next ? (
            <button type="button" disabled={load.busy} onClick={() => void load.run(next)}>
              More apps
            </button>
          ) : null}
        </section>
        <Form
          label="Create an app"
          action={create}
          submit="Create app"
          validate={() => (newId.trim() && !APP_ID.test(newId.trim()) ? 'app_id must be 1–64 letters, digits, "_" or "-" (or empty for a random one).' : null)}
        >
          <Field label="app_id (optional)" name="new-app-id" value={newId} onInput={setNewId} hint="Empty: Ferry picks a random one." />
          {created ? <Secret label={`Secret of ${created.app_id}`} value={created.secret} note="Shown once: give it to the IM server, which signs access tokens with it." /> : null}
        </Form>
      </div>
      {appId ? <AppDetail key={appId} {...{ api, appId, setAppId }} /> : <p class="notice">Choose an app above to see its settings.</p>}
    </>
  );
}

const KINDS = ['chat', 'voice', 'image', 'video', 'shared', 'avatar'] as const;
interface Settings {
  retention_days?: Partial<Record<(typeof KINDS)[number], number>>;
  quota?: { app_bytes?: number; user_daily_bytes?: number };
  membership_url?: string;
  direct_uploads?: boolean;
}

function AppDetail({ api, appId }: PageProps) {
  const [settings, setSettings] = useState<Settings | null>(null);
  const [createdAt, setCreatedAt] = useState<number | null>(null);
  const [form, setForm] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const fill = (s: Settings) => {
    const f: Record<string, string> = {};
    for (const k of KINDS) f[`ret_${k}`] = String(s.retention_days?.[k] ?? 0);
    f.app_bytes = s.quota?.app_bytes === undefined ? '' : String(s.quota.app_bytes);
    f.user_daily_bytes = s.quota?.user_daily_bytes === undefined ? '' : String(s.quota.user_daily_bytes);
    f.membership_url = s.membership_url ?? '';
    setForm(f);
  };
  const load = useAction(async () => {
    const r = await api.admin<{ app_id: string; created_at: number; settings: Settings }>('GET', `/admin/apps/${encodeURIComponent(appId)}`);
    setSettings(r.settings);
    setCreatedAt(r.created_at);
    fill(r.settings);
  });
  useEffect(() => {
    void load.run();
  }, []);
  const save = useAction(async () => {
    const retention: Record<string, number> = {};
    for (const k of KINDS) retention[k] = Number(form[`ret_${k}`] || 0);
    const num = (v: string | undefined) => (v === undefined || v.trim() === '' ? null : Number(v));
    const body = {
      retention_days: retention,
      quota: { app_bytes: num(form.app_bytes), user_daily_bytes: num(form.user_daily_bytes) },
      membership_url: form.membership_url?.trim() ? form.membership_url.trim() : null,
    };
    setSaved(false);
    const r = await api.admin<{ settings: Settings }>('PATCH', `/admin/apps/${encodeURIComponent(appId)}`, body);
    setSettings(r.settings);
    fill(r.settings);
    setSaved(true);
  });
  const validateSettings = () => {
    for (const k of KINDS) {
      const v = form[`ret_${k}`] ?? '';
      if (!/^\d{1,5}$/.test(v) || Number(v) > 36500) return `Retention for ${k} must be a whole number of days from 0 to 36500 (0 keeps files).`;
    }
    for (const k of ['app_bytes', 'user_daily_bytes']) if ((form[k] ?? '') !== '' && !/^\d{1,16}$/.test(form[k] ?? '')) return `${k} must be a whole number of bytes, or empty for no quota.`;
    const url = form.membership_url?.trim();
    if (url && !/^https?:\/\/\S+$/.test(url)) return 'The membership URL must start with http:// or https://.';
    return null;
  };

  const [secret, setSecret] = useState<{ secret: string; until: number } | null>(null);
  const [grace, setGrace] = useState('3600');
  const [graceProblem, setGraceProblem] = useState<string | null>(null);
  const rotate = useAction(async () => {
    setSecret(null);
    const r = await api.admin<{ secret: string; previous_secret_valid_until: number }>('POST', `/admin/apps/${encodeURIComponent(appId)}/secret/rotate`, { grace_s: Number(grace) });
    setSecret({ secret: r.secret, until: r.previous_secret_valid_until });
  });

  const [user, setUser] = useState('');
  const [role, setRole] = useState<'user' | 'admin'>('user');
  const [ttl, setTtl] = useState('3600');
  const [token, setToken] = useState<string | null>(null);
  const mint = useAction(async () => {
    const r = await api.admin<{ token: string }>('POST', `/admin/apps/${encodeURIComponent(appId)}/tokens`, { user_id: user.trim(), role, ttl_s: Number(ttl) });
    setToken(r.token);
  });

  const unavailable = (e: ApiError | null) => e?.unavailable === true;
  return (
    <section aria-labelledby="app-detail">
      <h2 id="app-detail">
        App <code>{appId}</code>
      </h2>
      <div class="grid">
        <div class="card">
          <h3>Settings</h3>
          {createdAt !== null ? <p>Created {formatTime(createdAt)}</p> : null}
          <ErrorBox error={load.error} what="App settings" />
          {settings ? (
            <dl class="facts">
              <dt>Retention (days; 0 keeps)</dt>
              <dd>{KINDS.map((k) => `${k} ${settings.retention_days?.[k] ?? 0}`).join(', ')}</dd>
              <dt>App quota</dt>
              <dd>{settings.quota?.app_bytes === undefined ? 'none' : formatBytes(settings.quota.app_bytes)}</dd>
              <dt>Per user per day</dt>
              <dd>{settings.quota?.user_daily_bytes === undefined ? 'none' : formatBytes(settings.quota.user_daily_bytes)}</dd>
              <dt>Membership URL</dt>
              <dd>{settings.membership_url ?? 'none'}</dd>
              <dt>Direct uploads</dt>
              <dd>{settings.direct_uploads === undefined ? 'set by FERRY_S3_DIRECT_UPLOAD_APPS' : settings.direct_uploads ? 'yes' : 'no'}</dd>
            </dl>
          ) : null}
        </div>
        {settings && !unavailable(load.error) ? (
          <Form label="Change settings" action={save} submit="Save settings" validate={validateSettings} what="Changing settings">
            <fieldset>
              <legend>Retention in days (0 keeps)</legend>
              <div class="row">
                {KINDS.map((k) => (
                  <Field key={k} label={k} name={`ret-${k}`} inputMode="numeric" value={form[`ret_${k}`] ?? ''} onInput={(v) => setForm({ ...form, [`ret_${k}`]: v })} />
                ))}
              </div>
            </fieldset>
            <Field label="App quota (bytes, empty for none)" name="app-bytes" inputMode="numeric" value={form.app_bytes ?? ''} onInput={(v) => setForm({ ...form, app_bytes: v })} />
            <Field label="Per user per day (bytes, empty for none)" name="user-daily" inputMode="numeric" value={form.user_daily_bytes ?? ''} onInput={(v) => setForm({ ...form, user_daily_bytes: v })} />
            <Field label="Membership URL (empty for none)" name="membership-url" inputMode="url" value={form.membership_url ?? ''} onInput={(v) => setForm({ ...form, membership_url: v })} />
            {saved && !save.busy ? <p role="status">Saved.</p> : null}
          </Form>
        ) : null}
        <div class="card">
          <h3>Secret</h3>
          <p>Rotating gives the app a new secret and a new file-sign key. The old secret keeps working for the grace period (so the IM server can switch); signs already handed out keep working.</p>
          <Field label="Grace for the old secret (seconds)" name="rotate-grace" inputMode="numeric" value={grace} onInput={setGrace} hint="0 to 2592000 (30 days); default 3600." />
          <Confirm
            label="Rotate secret"
            confirm="Yes, rotate"
            question="Rotate the secret now?"
            busy={rotate.busy}
            onConfirm={() => {
              const problem = !/^\d{1,7}$/.test(grace.trim()) || Number(grace) > 2592000 ? 'The grace period must be a whole number of seconds from 0 to 2592000.' : null;
              setGraceProblem(problem);
              if (!problem) void rotate.run();
            }}
          />
          {graceProblem ? (
            <p class="error" role="alert">
              {graceProblem}
            </p>
          ) : null}
          <ErrorBox error={rotate.error} what="Secret rotation" />
          {secret ? (
            <Secret label="New secret" value={secret.secret} note={`Shown once: Ferry does not answer it again. The old secret works until ${formatTime(secret.until)}.`} />
          ) : null}
        </div>
        <Form
          label="Mint a token for testing"
          action={mint}
          submit="Mint token"
          validate={() => (!ID.test(user.trim()) ? 'user_id must be a positive whole number.' : !/^\d{1,9}$/.test(ttl) || Number(ttl) < 1 ? 'Lifetime must be a whole number of seconds, at least 1.' : null)}
        >
          <Field label="user_id" name="token-user" inputMode="numeric" value={user} onInput={setUser} />
          <Select label="Role" name="token-role" value={role} options={[['user', 'user'], ['admin', 'admin (reads everything in the app)']]} onChange={setRole} />
          <Field label="Lifetime (seconds)" name="token-ttl" inputMode="numeric" value={ttl} onInput={setTtl} />
          {token ? <Secret label="Access token" value={token} /> : null}
        </Form>
      </div>
    </section>
  );
}
