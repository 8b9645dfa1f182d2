// The operator console: a login gate, then one page per area, chosen by the URL's hash so the
// browser's back button and bookmarks work without any server-side routing.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Api, ApiError, session } from './api.ts';
import { ErrorBox, Field, useAction } from './ui.tsx';
import { AppsPage } from './pages/apps.tsx';
import { GroupsPage } from './pages/groups.tsx';
import { FilesPage } from './pages/files.tsx';
import { HealthPage } from './pages/health.tsx';
import { TryPage } from './pages/try.tsx';

const PAGES = [
  ['apps', 'Apps'],
  ['groups', 'Groups'],
  ['files', 'Files'],
  ['health', 'Usage and health'],
  ['try', 'Try it'],
] as const;
type Page = (typeof PAGES)[number][0];

export interface PageProps {
  api: Api;
  appId: string;
  setAppId: (id: string) => void;
}

const pageOf = (hash: string): Page => (PAGES.find(([p]) => `#/${p}` === hash)?.[0] ?? 'apps');
const APP_KEY = 'ferry.console.appId';

/** The key is checked with a harmless admin call (list one app) before anything is shown. */
function Login({ onLogin }: { onLogin: (api: Api) => void }) {
  const [key, setKey] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const check = useAction(async () => {
    const api = new Api(key);
    await api.admin('GET', '/admin/apps?limit=1');
    session.save(key);
    onLogin(api);
  });
  return (
    <main id="main" class="login">
      <h1>Ferry console</h1>
      <form
        class="card"
        aria-label="Log in"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const problem = key.trim() === '' ? 'Enter the admin key (FERRY_ADMIN_KEY, or the admin.key file in the data folder).' : null;
          setInvalid(problem);
          if (!problem) void check.run();
        }}
      >
        <Field label="Admin key" name="admin-key" type="password" value={key} onInput={setKey} autoComplete="current-password" hint="Kept in this tab only (session storage), sent as x-admin-key." />
        <div class="actions">
          <button type="submit" disabled={check.busy}>
            {check.busy ? 'Checking…' : 'Log in'}
          </button>
        </div>
        {invalid ? (
          <p class="error" role="alert">
            {invalid}
          </p>
        ) : null}
        <ErrorBox error={check.error} />
      </form>
    </main>
  );
}

function Shell({ api, onLogout }: { api: Api; onLogout: () => void }) {
  const [page, setPage] = useState<Page>(pageOf(location.hash));
  const [appId, setAppIdState] = useState(sessionStorage.getItem(APP_KEY) ?? '');
  const setAppId = (id: string) => {
    sessionStorage.setItem(APP_KEY, id);
    setAppIdState(id);
  };
  useEffect(() => {
    const onHash = () => setPage(pageOf(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const shown = useRef(false);
  useEffect(() => {
    const title = PAGES.find(([p]) => p === page)?.[1] ?? '';
    document.title = `${title} · Ferry console`;
    // A page chosen from the menu takes the focus (a screen reader starts reading it); the first
    // page of a load does not, so Tab starts at the skip link.
    if (shown.current) document.getElementById('main')?.focus();
    shown.current = true;
  }, [page]);

  const props: PageProps = { api, appId, setAppId };
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span class="brand">Ferry console</span>
        <nav aria-label="Pages">
          {PAGES.map(([p, label]) => (
            <a key={p} href={`#/${p}`} aria-current={p === page ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="current">{appId ? <>app <code>{appId}</code></> : 'no app chosen'}</span>
        <button type="button" onClick={onLogout}>
          Log out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {page === 'apps' ? <AppsPage {...props} /> : null}
        {page === 'groups' ? <GroupsPage {...props} /> : null}
        {page === 'files' ? <FilesPage {...props} /> : null}
        {page === 'health' ? <HealthPage {...props} /> : null}
        {page === 'try' ? <TryPage {...props} /> : null}
      </main>
    </>
  );
}

function Root() {
  const [api, setApi] = useState<Api | null>(null);
  const [restoring, setRestoring] = useState(() => session.load() !== null);
  // A key kept from earlier in this tab is checked again before any page shows data.
  useEffect(() => {
    const saved = session.load();
    if (saved === null) return;
    const candidate = new Api(saved);
    candidate
      .admin('GET', '/admin/apps?limit=1')
      .then(() => setApi(candidate))
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 401) session.clear();
      })
      .finally(() => setRestoring(false));
  }, []);
  if (restoring) return <p role="status">Checking the saved key…</p>;
  if (!api) return <Login onLogin={setApi} />;
  return (
    <Shell
      api={api}
      onLogout={() => {
        session.clear();
        setApi(null);
      }}
    />
  );
}

render(<Root />, document.getElementById('root')!);
