import { useEffect, useId, useState } from 'react';
import type { Channel, UpdateChannelRequest } from '@neon/contracts';
import { useCategoriesQuery, useMyChannelQuery, useUpdateMyChannelMutation } from '../api/api';
import { errorText, isApiError } from '../api/errors';
import { ErrorState, Spinner } from '../components/ErrorState';
import { Field } from '../components/Field';
import {
  channelLimits,
  linkError,
  parseTags,
  tagError,
  validateChannel,
  type ChannelErrors,
} from '../validation';

/** Languages offered in the picker; a channel's current one is kept even if not listed. */
export const LANGUAGES: [code: string, name: string][] = [
  ['en', 'English'],
  ['es', 'Spanish'],
  ['pt-BR', 'Portuguese (Brazil)'],
  ['fr', 'French'],
  ['de', 'German'],
  ['it', 'Italian'],
  ['nl', 'Dutch'],
  ['pl', 'Polish'],
  ['sv', 'Swedish'],
  ['tr', 'Turkish'],
  ['ru', 'Russian'],
  ['uk', 'Ukrainian'],
  ['ar', 'Arabic'],
  ['hi', 'Hindi'],
  ['ja', 'Japanese'],
  ['ko', 'Korean'],
  ['zh', 'Chinese'],
];

interface Draft {
  category: string;
  tags: string;
  about: string;
  links: string[];
  language: string;
  mature: boolean;
}

function draftOf(c: Channel): Draft {
  return {
    category: c.category?.slug ?? '',
    tags: c.tags.join(', '),
    about: c.about,
    links: c.links.length > 0 ? [...c.links] : [''],
    language: c.language,
    mature: c.mature,
  };
}

/**
 * The server names a bad field ("tags.3", "links.0", "category"); the form
 * says it in words, next to that field.
 */
function serverErrors(fields: Record<string, string>, tags: string[]): ChannelErrors {
  const out: ChannelErrors = {};
  for (const [key, message] of Object.entries(fields)) {
    const [name, index] = key.split('.');
    const i = Number(index);
    if (name === 'tags') out[key] = index ? tagError(tags[i] ?? '') : message;
    else if (name === 'links') out[key] = index ? linkError(i) : message;
    else if (name === 'category') out.category = 'Pick a category from the list.';
    else if (name === 'language') out.language = 'Pick a language from the list.';
    else if (name === 'about')
      out.about = `About can have at most ${channelLimits.about.toLocaleString('en')} characters.`;
    else out[name ?? key] = message;
  }
  // Tags are one box: an error about any of them is shown under it.
  const firstTag = Object.keys(out).find((k) => k.startsWith('tags.'));
  if (firstTag && !out.tags) out.tags = out[firstTag] ?? '';
  return out;
}

function SettingsForm({ channel }: { channel: Channel }) {
  const id = useId();
  const categories = useCategoriesQuery();
  const [update, { isLoading, isSuccess, reset }] = useUpdateMyChannelMutation();
  const [draft, setDraft] = useState<Draft>(() => draftOf(channel));
  const [errors, setErrors] = useState<ChannelErrors>({});
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => setDraft(draftOf(channel)), [channel]);

  const change = (patch: Partial<Draft>, ...cleared: string[]) => {
    setDraft((d) => ({ ...d, ...patch }));
    setErrors((e) => {
      const next = { ...e };
      for (const key of Object.keys(next))
        if (cleared.some((c) => key === c || key.startsWith(`${c}.`))) delete next[key];
      return next;
    });
    setFailure(null);
    reset();
  };

  async function save(e: React.FormEvent) {
    e.preventDefault();
    const tags = parseTags(draft.tags);
    const links = draft.links.map((l) => l.trim()).filter(Boolean);
    // Links are checked without the blank rows: report each by the row the user sees.
    const rows = draft.links.flatMap((l, i) => (l.trim() ? [i] : []));
    const byRow = (errs: ChannelErrors): ChannelErrors =>
      Object.fromEntries(
        Object.entries(errs).map(([k, v]) => {
          const m = /^links\.(\d+)$/.exec(k);
          if (!m) return [k, v];
          const row = rows[Number(m[1])] ?? Number(m[1]);
          return [`links.${row}`, linkError(row)];
        }),
      );
    const local = byRow(validateChannel({ tags, about: draft.about, links }));
    setErrors(local);
    if (Object.keys(local).length > 0) return;
    const body: UpdateChannelRequest = {
      category: draft.category || null,
      tags,
      about: draft.about,
      links,
      language: draft.language,
      mature: draft.mature,
    };
    try {
      await update(body).unwrap();
    } catch (err) {
      if (isApiError(err) && Object.keys(err.fields).length > 0)
        setErrors(byRow(serverErrors(err.fields, tags)));
      else setFailure(errorText(err));
    }
  }

  const languages = LANGUAGES.some(([code]) => code === draft.language)
    ? LANGUAGES
    : [[draft.language, draft.language] as [string, string], ...LANGUAGES];
  const sortedCategories = [...(categories.data?.items ?? [])].sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  const selectError = (name: string) =>
    errors[name] ? (
      <p className="field-error" id={`${id}-${name}-err`} role="alert">
        {errors[name]}
      </p>
    ) : null;

  return (
    <form className="settings" noValidate onSubmit={(e) => void save(e)}>
      <div className="field">
        <label htmlFor={`${id}-category`}>Category</label>
        <select
          id={`${id}-category`}
          className={`input${errors.category ? ' invalid' : ''}`}
          value={draft.category}
          aria-invalid={Boolean(errors.category)}
          aria-describedby={errors.category ? `${id}-category-err` : undefined}
          onChange={(e) => change({ category: e.target.value }, 'category')}
        >
          <option value="">No category</option>
          {/* The current category stays selectable while the list loads or if it was retired. */}
          {channel.category && !sortedCategories.some((c) => c.slug === channel.category?.slug) && (
            <option value={channel.category.slug}>{channel.category.name}</option>
          )}
          {sortedCategories.map((c) => (
            <option key={c.slug} value={c.slug}>
              {c.name}
            </option>
          ))}
        </select>
        {selectError('category')}
      </div>
      <Field
        label="Tags"
        name="tags"
        value={draft.tags}
        hint={`Up to ${channelLimits.tags}, separated by commas: letters, digits and dashes.`}
        error={errors.tags}
        onValue={(tags) => change({ tags }, 'tags')}
      />
      <Field
        label="About"
        name="about"
        multiline
        value={draft.about}
        hint={`${draft.about.length.toLocaleString('en')} / ${channelLimits.about.toLocaleString('en')} characters. https:// links become clickable.`}
        error={errors.about}
        onValue={(about) => change({ about }, 'about')}
      />
      <fieldset className="links-fieldset">
        <legend>Links</legend>
        {draft.links.map((link, i) => (
          <div className="row link-row" key={i}>
            <div className="grow">
              <Field
                label={`Link ${i + 1}`}
                name={`link-${i}`}
                type="url"
                placeholder="https://"
                value={link}
                error={errors[`links.${i}`]}
                onValue={(v) =>
                  change({ links: draft.links.map((l, j) => (j === i ? v : l)) }, `links.${i}`)
                }
              />
            </div>
            <button
              type="button"
              className="btn ghost sm"
              aria-label={`Remove link ${i + 1}`}
              onClick={() =>
                change(
                  {
                    links: draft.links.length > 1 ? draft.links.filter((_, j) => j !== i) : [''],
                  },
                  'links',
                )
              }
            >
              ×
            </button>
          </div>
        ))}
        {errors.links && (
          <p className="field-error" role="alert">
            {errors.links}
          </p>
        )}
        {draft.links.length < channelLimits.links && (
          <button
            type="button"
            className="btn ghost sm"
            onClick={() => change({ links: [...draft.links, ''] })}
          >
            Add a link
          </button>
        )}
      </fieldset>
      <div className="field">
        <label htmlFor={`${id}-language`}>Language</label>
        <select
          id={`${id}-language`}
          className={`input${errors.language ? ' invalid' : ''}`}
          value={draft.language}
          aria-invalid={Boolean(errors.language)}
          aria-describedby={errors.language ? `${id}-language-err` : undefined}
          onChange={(e) => change({ language: e.target.value }, 'language')}
        >
          {languages.map(([code, name]) => (
            <option key={code} value={code}>
              {name}
            </option>
          ))}
        </select>
        {selectError('language')}
      </div>
      <label className="check">
        <input
          type="checkbox"
          checked={draft.mature}
          onChange={(e) => change({ mature: e.target.checked }, 'mature')}
        />
        Mature content (viewers are told before they watch)
      </label>
      {selectError('mature')}
      <div className="row">
        <button className="btn" type="submit" disabled={isLoading}>
          Save channel settings
        </button>
        {isSuccess && <span className="hint">Saved.</span>}
      </div>
      {failure && (
        <p className="field-error" role="alert">
          {failure}
        </p>
      )}
    </form>
  );
}

/** The creator dashboard's channel settings: category, tags, about, links, language, mature. */
export function ChannelSettings() {
  const { data, error, isLoading, refetch } = useMyChannelQuery();
  return (
    <section className="panel" aria-labelledby="settings-title">
      <h2 id="settings-title">Channel settings</h2>
      {isLoading ? (
        <Spinner />
      ) : !data ? (
        <ErrorState
          title="Could not load your channel"
          error={error}
          onRetry={() => void refetch()}
        />
      ) : (
        <SettingsForm channel={data} />
      )}
    </section>
  );
}
