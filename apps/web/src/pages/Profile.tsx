import { useState } from 'react';
import { Link, useParams } from 'react-router';
import type { PublicProfile } from '@neon/contracts';
import { useProfileQuery, useUpdateMeMutation } from '../api/api';
import { isApiError, messageFor } from '../api/errors';
import { Avatar } from '../components/Avatar';
import { ErrorState, Spinner } from '../components/ErrorState';
import { Field } from '../components/Field';
import { date } from '../format';
import { NotificationSettings } from '../notifications/NotificationSettings';
import { useDialogFocus, useTitle } from '../hooks';
import { useSession } from '../store';
import { limits, validateProfile, type ProfileForm } from '../validation';
import { NotFound } from './NotFound';

function EditProfile({ profile, onDone }: { profile: PublicProfile; onDone: () => void }) {
  const [update, { isLoading }] = useUpdateMeMutation();
  const [form, setForm] = useState<ProfileForm>({
    displayName: profile.displayName,
    bio: profile.bio,
    avatarUrl: profile.avatarUrl ?? '',
  });
  const [errors, setErrors] = useState<Partial<Record<keyof ProfileForm, string>>>({});
  const [formError, setFormError] = useState<string | null>(null);

  async function save(e: React.FormEvent) {
    e.preventDefault();
    const found = validateProfile(form);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    try {
      await update({
        displayName: form.displayName.trim(),
        bio: form.bio,
        avatarUrl: form.avatarUrl.trim() || null,
      }).unwrap();
      onDone();
    } catch (err) {
      if (isApiError(err) && Object.keys(err.fields).length > 0) setErrors(err.fields);
      else setFormError(isApiError(err) ? err.message : messageFor('INTERNAL'));
    }
  }

  const set = (k: keyof ProfileForm) => (v: string) => {
    setForm((f) => ({ ...f, [k]: v }));
    setErrors((e) => ({ ...e, [k]: undefined }));
  };

  return (
    <form
      className="edit-profile"
      onSubmit={(e) => void save(e)}
      noValidate
      aria-label="Edit profile"
    >
      {formError && (
        <div className="alert" role="alert">
          {formError}
        </div>
      )}
      <Field
        label="Display name"
        name="displayName"
        value={form.displayName}
        error={errors.displayName}
        onValue={set('displayName')}
      />
      <Field
        label="Bio"
        name="bio"
        multiline
        value={form.bio}
        error={errors.bio}
        hint={`${form.bio.length} / ${limits.bio.maxLength}`}
        onValue={set('bio')}
      />
      <Field
        label="Avatar URL"
        name="avatarUrl"
        type="url"
        placeholder="https://…"
        value={form.avatarUrl}
        error={errors.avatarUrl}
        onValue={set('avatarUrl')}
      />
      <div className="row">
        <button className="btn" type="submit" disabled={isLoading}>
          {isLoading ? 'Saving…' : 'Save profile'}
        </button>
        <button className="btn ghost" type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export default function Profile() {
  const { username = '' } = useParams();
  const { user } = useSession();
  const { data, error, isLoading, refetch } = useProfileQuery(username.toLowerCase());
  const [editing, setEditing] = useState(false);
  // The form takes focus when it opens; Save, Cancel or Escape give it back to Edit profile.
  const { dialog, opener } = useDialogFocus<HTMLDivElement, HTMLButtonElement>(editing, () =>
    setEditing(false),
  );
  useTitle(data?.displayName ?? username);

  if (isLoading) return <Spinner />;
  if (isApiError(error) && error.status === 404) {
    return (
      <NotFound title="User not found" message={`There is nobody called “${username}” on Neon.`} />
    );
  }
  if (error || !data)
    return (
      <ErrorState
        title="Could not load this profile"
        error={error}
        onRetry={() => void refetch()}
      />
    );
  const own = user?.id === data.id;
  // The owner sees their own saved values immediately, before the public profile refetches.
  const shown =
    own && user
      ? { ...data, displayName: user.displayName, bio: user.bio, avatarUrl: user.avatarUrl }
      : data;

  return (
    <div className="page narrow">
      <div className="panel profile">
        <div className="profile-head">
          <Avatar name={shown.displayName || shown.username} url={shown.avatarUrl} size={96} />
          <div className="grow">
            <h1 data-testid="profile-name">{shown.displayName || shown.username}</h1>
            <div className="muted">
              @{shown.username} · joined {date(shown.createdAt)}
            </div>
          </div>
          {own && !editing && (
            <button
              ref={opener}
              type="button"
              className="btn ghost"
              onClick={() => setEditing(true)}
            >
              Edit profile
            </button>
          )}
        </div>
        {editing && own ? (
          <div ref={dialog} className="edit-profile">
            <EditProfile profile={shown} onDone={() => setEditing(false)} />
          </div>
        ) : (
          <p className="bio">{shown.bio || <span className="muted">No bio yet.</span>}</p>
        )}
        <Link className="btn" to={`/${shown.username}`}>
          Go to channel
        </Link>
      </div>
      {own && <NotificationSettings />}
    </div>
  );
}
