import { useEffect, useId, useRef, useState } from 'react';
import type { ClientType } from '@neon/contracts';
import { errorText, fieldsByRow, isApiError } from '../api/errors';
import { Field } from '../components/Field';
import { oauthAppLimits, validateOAuthApp } from '../validation';

export interface AppDraft {
  name: string;
  redirectUris: string[];
  type: ClientType;
}

const TYPES: { value: ClientType; label: string; hint: string }[] = [
  {
    value: 'confidential',
    label: 'Confidential',
    hint: 'Runs on a server that can keep a secret, such as a website with a back end. It gets a client secret and sends it with every token request.',
  },
  {
    value: 'public',
    label: 'Public',
    hint: 'Runs where a secret cannot be kept: a browser-only, mobile or desktop app. It has no client secret and proves each sign-in with PKCE alone.',
  },
];

/** "must be https" from the server becomes "Redirect URI 2 must be https." */
function sentence(label: string, message: string): string {
  const text = /^[a-z]/.test(message) ? `${label} ${message}` : message;
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/**
 * Register or edit an application: its name, its redirect URIs (one row
 * each; blank rows are left out) and, when registering, the client type.
 * `onSave` rejects with the server's ApiError, whose field errors are shown
 * at their fields.
 */
export function AppForm({
  initial,
  register,
  focusFirst = false,
  submitLabel,
  onSave,
  onCancel,
}: {
  initial: AppDraft;
  register: boolean;
  /** Focus the name field on opening (editing in place, where no heading announces the form). */
  focusFirst?: boolean;
  submitLabel: string;
  onSave: (draft: AppDraft) => Promise<unknown>;
  onCancel: () => void;
}) {
  const id = useId();
  const [draft, setDraft] = useState<AppDraft>(() => ({
    ...initial,
    redirectUris: initial.redirectUris.length > 0 ? [...initial.redirectUris] : [''],
  }));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const added = useRef(false);
  const rowsRef = useRef<HTMLFieldSetElement>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const focusError = useRef(false);

  useEffect(() => {
    if (focusFirst) formRef.current?.querySelector<HTMLElement>('input')?.focus();
  }, [focusFirst]);

  // After a refused save, focus goes to the first field with a problem, so it is heard and fixed.
  useEffect(() => {
    if (!focusError.current) return;
    focusError.current = false;
    const field =
      formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]') ??
      (errors.redirectUris ? rowsRef.current?.querySelector<HTMLElement>('input') : null);
    field?.focus();
  }, [errors]);

  // A row added with the button gets the focus, so the user types straight into it.
  useEffect(() => {
    if (!added.current) return;
    added.current = false;
    const inputs = rowsRef.current?.querySelectorAll<HTMLInputElement>('input');
    inputs?.[inputs.length - 1]?.focus();
  }, [draft.redirectUris.length]);

  const change = (patch: Partial<AppDraft>, cleared: string) => {
    setDraft((d) => ({ ...d, ...patch }));
    setErrors((e) => {
      const next = { ...e };
      for (const key of Object.keys(next))
        if (key === cleared || key.startsWith(`${cleared}.`)) delete next[key];
      // An error about one row is also about the list as a whole.
      if (cleared.startsWith('redirectUris.')) delete next.redirectUris;
      return next;
    });
    setFailure(null);
  };

  async function save(e: React.FormEvent) {
    e.preventDefault();
    const local = validateOAuthApp(draft);
    setErrors(local);
    setFailure(null);
    if (Object.keys(local).length > 0) {
      focusError.current = true;
      return;
    }
    const rows = draft.redirectUris.flatMap((uri, row) => (uri.trim() ? [row] : []));
    setBusy(true);
    try {
      await onSave({
        name: draft.name.trim(),
        redirectUris: rows.map((row) => draft.redirectUris[row]?.trim() ?? ''),
        type: draft.type,
      });
    } catch (err) {
      if (isApiError(err) && Object.keys(err.fields).length > 0) {
        const fields = fieldsByRow(err.fields, 'redirectUris', rows);
        const shown: Record<string, string> = {};
        for (const [key, message] of Object.entries(fields)) {
          const row = /^redirectUris\.(\d+)$/.exec(key);
          if (row) shown[key] = sentence(`Redirect URI ${Number(row[1]) + 1}`, message);
          else if (key === 'name') shown.name = sentence('Name', message);
          else if (key === 'redirectUris') shown.redirectUris = sentence('Redirect URIs', message);
          else if (key === 'type') shown.type = 'Choose confidential or public.';
        }
        // The list's own message repeats its rows' ones: it is shown only on its own.
        if (Object.keys(shown).some((k) => k.startsWith('redirectUris.')))
          delete shown.redirectUris;
        if (Object.keys(shown).length > 0) {
          focusError.current = true;
          setErrors(shown);
        } else setFailure(err.message);
      } else setFailure(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  const uris = draft.redirectUris;
  return (
    <form ref={formRef} className="settings app-form" noValidate onSubmit={(e) => void save(e)}>
      <Field
        label="Name"
        name="name"
        value={draft.name}
        maxLength={(oauthAppLimits.name.maxLength ?? 60) * 2}
        hint="Users see this name when your app asks for access."
        error={errors.name}
        onValue={(name) => change({ name }, 'name')}
      />
      <fieldset
        className="links-fieldset"
        ref={rowsRef}
        aria-describedby={`${id}-uris-hint${errors.redirectUris ? ` ${id}-uris-err` : ''}`}
      >
        <legend>Redirect URIs</legend>
        <p className="hint" id={`${id}-uris-hint`}>
          Where Neon sends users back after they answer. Use https://, or http:// to 127.0.0.1,
          [::1] or localhost while developing. Your app must send one of these exactly, character
          for character.
        </p>
        {uris.map((uri, i) => (
          <div className="row link-row" key={i}>
            <div className="grow">
              <Field
                label={`Redirect URI ${i + 1}`}
                name={`redirect-uri-${i}`}
                type="url"
                inputMode="url"
                autoCapitalize="none"
                spellCheck={false}
                placeholder="https://example.com/callback"
                value={uri}
                error={errors[`redirectUris.${i}`]}
                onValue={(v) =>
                  change(
                    { redirectUris: uris.map((u, j) => (j === i ? v : u)) },
                    `redirectUris.${i}`,
                  )
                }
              />
            </div>
            {uris.length > 1 && (
              <button
                type="button"
                className="btn ghost sm"
                aria-label={`Remove redirect URI ${i + 1}`}
                onClick={() =>
                  change({ redirectUris: uris.filter((_, j) => j !== i) }, 'redirectUris')
                }
              >
                Remove
              </button>
            )}
          </div>
        ))}
        {errors.redirectUris && (
          <p className="field-error" id={`${id}-uris-err`} role="alert">
            {errors.redirectUris}
          </p>
        )}
        {uris.length < oauthAppLimits.redirectUris && (
          <button
            type="button"
            className="btn ghost sm"
            onClick={() => {
              added.current = true;
              change({ redirectUris: [...uris, ''] }, 'redirectUris');
            }}
          >
            Add a redirect URI
          </button>
        )}
      </fieldset>
      {register && (
        <fieldset className="links-fieldset client-type">
          <legend>Client type</legend>
          {TYPES.map((t) => (
            <div className="choice" key={t.value}>
              <label className="check">
                <input
                  type="radio"
                  name={`${id}-type`}
                  value={t.value}
                  checked={draft.type === t.value}
                  aria-describedby={`${id}-${t.value}-hint`}
                  onChange={() => change({ type: t.value }, 'type')}
                />
                {t.label}
              </label>
              <p className="hint" id={`${id}-${t.value}-hint`}>
                {t.hint}
              </p>
            </div>
          ))}
          {errors.type && (
            <p className="field-error" role="alert">
              {errors.type}
            </p>
          )}
        </fieldset>
      )}
      {failure && (
        <p className="field-error" role="alert">
          {failure}
        </p>
      )}
      <div className="row wrap">
        <button className="btn" type="submit" disabled={busy}>
          {submitLabel}
        </button>
        <button className="btn ghost" type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
