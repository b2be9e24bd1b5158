import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, getToken, setToken, whenUnauthorized } from './api.js';
import { Exports } from './exports.js';
import { Jobs } from './jobs.js';
import { Notifications } from './notifications.js';
import { Plans } from './plans.js';
import { ProtectedInstances } from './protected.js';
import { Rules } from './rules.js';
import { ErrorText, operatorZone } from './ui.js';
import { Wizard } from './wizard.js';

const SCREENS = [
  { id: 'add', label: 'Add ECS Instance' },
  { id: 'protected', label: 'Protected ECS Instances' },
  { id: 'plans', label: 'Protection Plans' },
  { id: 'jobs', label: 'Jobs' },
  { id: 'exports', label: 'Export Records' },
  { id: 'rules', label: 'Protection Rules' },
  { id: 'notifications', label: 'Notifications' },
] as const;
type ScreenId = (typeof SCREENS)[number]['id'];

/** The screen lives in the URL fragment (`#/jobs`), so reload and Back keep it; the token never does. */
function screenFromHash(): ScreenId {
  const id = location.hash.replace(/^#\/?/, '');
  return SCREENS.some((s) => s.id === id) ? (id as ScreenId) : 'protected';
}

export function App() {
  const [signedIn, setSignedIn] = useState(getToken() !== null);
  const [notice, setNotice] = useState<string | null>(null);
  const [screen, setScreen] = useState<ScreenId>(screenFromHash);
  useEffect(() => {
    whenUnauthorized(() => {
      setToken(null);
      setSignedIn(false);
      setNotice('The API refused the token. Sign in again.');
    });
    const onHash = () => setScreen(screenFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  const go = (id: string) => {
    location.hash = `#/${id}`;
  };
  if (!signedIn) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={() => {
          setNotice(null);
          setSignedIn(true);
        }}
      />
    );
  }
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span class="brand">ecs-backup</span>
        <nav aria-label="Screens">
          <ul>
            {SCREENS.map((s) => (
              <li key={s.id}>
                <a href={`#/${s.id}`} aria-current={screen === s.id ? 'page' : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="zone" title="Times are shown in this zone; hover a time for UTC">
          {operatorZone}
        </span>
        <button
          type="button"
          onClick={() => {
            setToken(null);
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {screen === 'add' ? <Wizard go={go} /> : null}
        {screen === 'protected' ? <ProtectedInstances /> : null}
        {screen === 'plans' ? <Plans /> : null}
        {screen === 'jobs' ? <Jobs /> : null}
        {screen === 'exports' ? <Exports /> : null}
        {screen === 'rules' ? <Rules /> : null}
        {screen === 'notifications' ? <Notifications /> : null}
      </main>
    </>
  );
}

function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn(): void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const token = value.trim();
    try {
      // Checked against the API before it is kept; a wrong one never reaches sessionStorage.
      await api('GET', '/protected-instances?limit=1', undefined, token);
      setToken(token);
      onSignedIn();
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? new Error('That token was refused. Check it and try again.')
          : err,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <h1>Sign in to ecs-backup</h1>
      {notice ? (
        <p role="status" class="notice">
          {notice}
        </p>
      ) : null}
      <form onSubmit={submit}>
        <label for="token">API token</label>
        <input
          ref={input}
          id="token"
          type="password"
          autocomplete="off"
          value={value}
          onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
          aria-describedby="token-hint"
        />
        <p class="hint" id="token-hint">
          Paste the token <code>npm start</code> printed (or API_TOKEN). It is kept in this tab only and sent
          only in the Authorization header.
        </p>
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={busy || value.trim() === ''}>
          Sign in
        </button>
      </form>
    </main>
  );
}
