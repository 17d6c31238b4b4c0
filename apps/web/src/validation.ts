import {
  CHANNEL_MAX_ABOUT,
  CHANNEL_MAX_LINKS,
  CHANNEL_MAX_TAGS,
  CreateOAuthAppRequest,
  RedirectUri,
  RegisterRequest,
  UpdateChannelRequest,
  UpdateMeRequest,
  UpdateStreamRequest,
  CHAT_MAX_BODY,
} from '@neon/contracts';

/**
 * Client-side checks read their limits from the same TypeBox schemas the
 * services validate with, so the form and the server cannot drift apart.
 */
interface StringRules {
  minLength?: number;
  maxLength?: number;
  pattern?: string;
}

function rules(schema: unknown): StringRules {
  const s = (schema ?? {}) as StringRules & { anyOf?: unknown[] };
  // Nullable fields are a union: the string branch carries the rules.
  if (Array.isArray(s.anyOf)) {
    const str = s.anyOf.find((b) => (b as { type?: string }).type === 'string');
    return rules(str);
  }
  return { minLength: s.minLength, maxLength: s.maxLength, pattern: s.pattern };
}

const register = RegisterRequest.properties;
const me = UpdateMeRequest.properties;

export const limits = {
  username: rules(register.username),
  email: rules(register.email),
  password: rules(register.password),
  displayName: rules(me.displayName),
  bio: rules(me.bio),
  avatarUrl: rules(me.avatarUrl),
  title: rules(UpdateStreamRequest.properties.title),
  chatBody: { minLength: 1, maxLength: CHAT_MAX_BODY },
};

type Errors<K extends string> = Partial<Record<K, string>>;

function lengthError(label: string, value: string, r: StringRules): string | undefined {
  if (r.minLength !== undefined && value.length < r.minLength) {
    return r.minLength === 1
      ? `${label} is required.`
      : `${label} needs at least ${r.minLength} characters.`;
  }
  if (r.maxLength !== undefined && value.length > r.maxLength) {
    return `${label} can have at most ${r.maxLength} characters.`;
  }
  return undefined;
}

export function validateUsername(value: string): string | undefined {
  if (value.length === 0) return 'Choose a username.';
  const len = lengthError('Username', value, limits.username);
  if (len) return len;
  if (limits.username.pattern && !new RegExp(limits.username.pattern).test(value)) {
    return 'Use lower-case letters, digits and underscores only.';
  }
  return undefined;
}

// The server checks the "email" format; this is the same practical shape: something@domain.tld.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function validateEmail(value: string): string | undefined {
  if (value.length === 0) return 'Enter your email address.';
  if (!EMAIL.test(value)) return 'This does not look like an email address.';
  return lengthError('Email', value, limits.email);
}

export function validatePassword(value: string): string | undefined {
  if (value.length === 0) return 'Choose a password.';
  return lengthError('Password', value, limits.password);
}

export interface SignupForm {
  username: string;
  email: string;
  password: string;
}

export function validateSignup(form: SignupForm): Errors<keyof SignupForm> {
  const errors: Errors<keyof SignupForm> = {};
  const username = validateUsername(form.username);
  const email = validateEmail(form.email);
  const password = validatePassword(form.password);
  if (username) errors.username = username;
  if (email) errors.email = email;
  if (password) errors.password = password;
  return errors;
}

export interface LoginForm {
  login: string;
  password: string;
}

export function validateLogin(form: LoginForm): Errors<keyof LoginForm> {
  const errors: Errors<keyof LoginForm> = {};
  if (form.login.trim().length === 0) errors.login = 'Enter your username or email.';
  if (form.password.length === 0) errors.password = 'Enter your password.';
  return errors;
}

export interface ProfileForm {
  displayName: string;
  bio: string;
  avatarUrl: string;
}

export function validateProfile(form: ProfileForm): Errors<keyof ProfileForm> {
  const errors: Errors<keyof ProfileForm> = {};
  const name = form.displayName.trim();
  const nameErr =
    name.length === 0
      ? 'Display name is required.'
      : lengthError('Display name', name, limits.displayName);
  if (nameErr) errors.displayName = nameErr;
  const bioErr = lengthError('Bio', form.bio, limits.bio);
  if (bioErr) errors.bio = bioErr;
  const url = form.avatarUrl.trim();
  if (url) {
    if (limits.avatarUrl.pattern && !new RegExp(limits.avatarUrl.pattern).test(url)) {
      errors.avatarUrl = 'Use a link starting with http:// or https://.';
    } else {
      const urlErr = lengthError('Avatar URL', url, limits.avatarUrl);
      if (urlErr) errors.avatarUrl = urlErr;
    }
  }
  return errors;
}

export function validateTitle(value: string): string | undefined {
  if (value.trim().length === 0) return 'Give your stream a title.';
  return lengthError('Title', value.trim(), limits.title);
}

/** The chat send box: same trimming and limits the chat service applies. */
export function validateChatBody(value: string): string | undefined {
  const body = value.trim();
  if (body.length === 0) return undefined;
  if (body.length > limits.chatBody.maxLength) {
    return `Messages can have at most ${limits.chatBody.maxLength} characters.`;
  }
  return undefined;
}

const channelSchema = UpdateChannelRequest.properties;
const tagRules = rules((channelSchema.tags as unknown as { items?: unknown }).items);
const linkRules = rules((channelSchema.links as unknown as { items?: unknown }).items);

export const channelLimits = {
  tags: CHANNEL_MAX_TAGS,
  tag: tagRules,
  links: CHANNEL_MAX_LINKS,
  link: linkRules,
  about: CHANNEL_MAX_ABOUT,
};

/** Tags as typed in one box: separated by commas or spaces, a leading # dropped. */
export function parseTags(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((t) => t.replace(/^#/, ''))
    .filter(Boolean);
}

export interface ChannelForm {
  tags: string[];
  about: string;
  links: string[];
}

/** Field keys as the API names them: `tags`, `tags.2`, `about`, `links`, `links.0`. */
export type ChannelErrors = Record<string, string>;

export const tagError = (tag: string) =>
  `“${tag}” is not a tag: use letters, digits and dashes (at most ${tagRules.maxLength ?? 25}).`;
export const linkError = (i: number) => `Link ${i + 1} must be an https:// link to a website.`;

export function validateChannel(form: ChannelForm): ChannelErrors {
  const errors: ChannelErrors = {};
  if (form.tags.length > CHANNEL_MAX_TAGS) errors.tags = `Use at most ${CHANNEL_MAX_TAGS} tags.`;
  const tagPattern = tagRules.pattern ? new RegExp(tagRules.pattern) : null;
  form.tags.forEach((t, i) => {
    if ((tagPattern && !tagPattern.test(t)) || lengthError('Tag', t, tagRules)) {
      errors[`tags.${i}`] = tagError(t);
      errors.tags ??= tagError(t);
    }
  });
  if (form.about.length > CHANNEL_MAX_ABOUT)
    errors.about = `About can have at most ${CHANNEL_MAX_ABOUT.toLocaleString('en')} characters.`;
  if (form.links.length > CHANNEL_MAX_LINKS)
    errors.links = `Use at most ${CHANNEL_MAX_LINKS} links.`;
  const linkPattern = linkRules.pattern ? new RegExp(linkRules.pattern) : null;
  form.links.forEach((l, i) => {
    if ((linkPattern && !linkPattern.test(l)) || lengthError('Link', l, linkRules)) {
      errors[`links.${i}`] = linkError(i);
    }
  });
  return errors;
}

const oauthApp = CreateOAuthAppRequest.properties;

export const oauthAppLimits = {
  name: rules(oauthApp.name),
  redirectUri: rules(RedirectUri),
  redirectUris: (oauthApp.redirectUris as unknown as { maxItems?: number }).maxItems ?? 10,
};

/**
 * The form of one redirect URI, as far as the page can tell: an absolute
 * http(s) URL without a fragment, within the schema's length. Which hosts may
 * use plain http is the server's rule; its answer is shown at the same row.
 */
export function redirectUriError(row: number, value: string): string | undefined {
  const label = `Redirect URI ${row + 1}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${label} must be a full address, like https://example.com/callback.`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return `${label} must start with https:// (or http:// for 127.0.0.1, [::1] or localhost).`;
  if (value.includes('#')) return `${label} must not have a #fragment.`;
  return lengthError(label, value, oauthAppLimits.redirectUri);
}

/**
 * An application's name and redirect URI rows (blank rows are left out when
 * sending). Errors are keyed `name`, `redirectUris` and `redirectUris.<row>`.
 */
export function validateOAuthApp(form: { name: string; redirectUris: string[] }) {
  const errors: Record<string, string> = {};
  const name = form.name.trim();
  const nameErr =
    name.length === 0
      ? 'Give the application a name.'
      : lengthError('Name', name, oauthAppLimits.name);
  if (nameErr) errors.name = nameErr;
  const filled = form.redirectUris.flatMap((uri, row) => (uri.trim() ? [row] : []));
  if (filled.length === 0) errors.redirectUris = 'Add at least one redirect URI.';
  else if (filled.length > oauthAppLimits.redirectUris)
    errors.redirectUris = `Use at most ${oauthAppLimits.redirectUris} redirect URIs.`;
  for (const row of filled) {
    const err = redirectUriError(row, form.redirectUris[row]?.trim() ?? '');
    if (err) errors[`redirectUris.${row}`] = err;
  }
  return errors;
}
