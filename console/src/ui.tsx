// Small shared pieces: labelled fields, the busy/error state of one action, notices.
import type { ComponentChildren } from 'preact';
import { useCallback, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

let nextId = 0;
/** A stable id for label/for pairs. */
export function useId(prefix: string): string {
  const ref = useRef<string | undefined>(undefined);
  ref.current ??= `${prefix}-${++nextId}`;
  return ref.current;
}

export interface Action<A extends unknown[]> {
  run: (...args: A) => Promise<void>;
  busy: boolean;
  error: ApiError | null;
  setError: (e: ApiError | null) => void;
}

/**
 * One async action: while it runs its button is disabled; its result is applied only on
 * success (by the function itself), so a failure leaves the page as it was, plus the message.
 */
export function useAction<A extends unknown[]>(fn: (...args: A) => Promise<void>): Action<A> {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(
    async (...args: A) => {
      setBusy(true);
      setError(null);
      try {
        await fn(...args);
      } catch (err) {
        setError(err instanceof ApiError ? err : new ApiError(0, err instanceof Error ? err.message : String(err)));
      } finally {
        setBusy(false);
      }
    },
    [fn],
  );
  return { run, busy, error, setError };
}

/** The API's message, verbatim; a missing route becomes a plain "not available" notice. */
export function ErrorBox({ error, what }: { error: ApiError | null; what?: string }) {
  if (!error) return null;
  if (error.unavailable) return <Unavailable what={what ?? 'This call'} />;
  return (
    <p class="error" role="alert">
      {error.status ? <span class="status">HTTP {error.status}</span> : null} {error.message}
    </p>
  );
}

export function Unavailable({ what }: { what: string }) {
  return (
    <p class="notice" role="status">
      {what} is not available on this Ferry (its API answered 404: the server is older than this console or lacks that part).
    </p>
  );
}

export function Field(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  type?: 'text' | 'password';
  placeholder?: string;
  hint?: string;
  required?: boolean;
  name?: string;
  autoComplete?: string;
  inputMode?: 'numeric' | 'text' | 'url';
}) {
  const id = useId(props.name ?? 'f');
  const common = {
    id,
    name: props.name,
    value: props.value,
    placeholder: props.placeholder,
    required: props.required,
    autoComplete: props.autoComplete ?? 'off',
    inputMode: props.inputMode,
    'aria-describedby': props.hint ? `${id}-hint` : undefined,
    onInput: (e: Event) => props.onInput((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.type === 'password' ? <input type="password" {...common} /> : <input type="text" {...common} />}
      {props.hint ? (
        <small id={`${id}-hint`} class="hint">
          {props.hint}
        </small>
      ) : null}
    </div>
  );
}

export function Select<T extends string>(props: { label: string; value: T; options: [T, string][]; onChange: (v: T) => void; name?: string }) {
  const id = useId(props.name ?? 's');
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} value={props.value} onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value as T)}>
        {props.options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Checkbox(props: { label: string; checked: boolean; onChange: (v: boolean) => void; name?: string }) {
  const id = useId(props.name ?? 'c');
  return (
    <div class="field check">
      <input id={id} type="checkbox" checked={props.checked} onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)} />
      <label for={id}>{props.label}</label>
    </div>
  );
}

/** A form that validates before sending: `validate` returns a message, or null to go ahead. */
export function Form(props: {
  label: string;
  action: Action<[]>;
  submit: string;
  validate?: () => string | null;
  children: ComponentChildren;
  what?: string;
}) {
  const [invalid, setInvalid] = useState<string | null>(null);
  return (
    <form
      class="card"
      aria-label={props.label}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const problem = props.validate?.() ?? null;
        setInvalid(problem);
        if (problem === null) void props.action.run();
      }}
    >
      <h3>{props.label}</h3>
      {props.children}
      <div class="actions">
        <button type="submit" disabled={props.action.busy}>
          {props.action.busy ? 'Working…' : props.submit}
        </button>
      </div>
      {invalid ? (
        <p class="error" role="alert">
          {invalid}
        </p>
      ) : null}
      <ErrorBox error={props.action.error} what={props.what} />
    </form>
  );
}

/** A dangerous button that asks once more in the page (no window.confirm: keyboard and tests). */
export function Confirm(props: { label: string; confirm: string; question: string; onConfirm: () => void; busy?: boolean }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class="danger" disabled={props.busy} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={props.question}>
      <span>{props.question}</span>
      <button
        type="button"
        class="danger"
        autoFocus
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        {props.confirm}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** A secret or token shown once, selectable, with a copy button. */
export function Secret({ label, value, note }: { label: string; value: string; note?: string }) {
  const id = useId('secret');
  const [copied, setCopied] = useState(false);
  return (
    <div class="secret" role="status">
      <label for={id}>{label}</label>
      <textarea id={id} readOnly rows={2} value={value} onFocus={(e) => (e.currentTarget as HTMLTextAreaElement).select()} />
      {note ? <small class="hint">{note}</small> : null}
      <button
        type="button"
        onClick={() => {
          void navigator.clipboard?.writeText(value).then(
            () => setCopied(true),
            () => setCopied(false),
          );
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </div>
  );
}
