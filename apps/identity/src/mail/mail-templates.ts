import { EMAIL_VERIFICATION_TTL_SECONDS, PASSWORD_RESET_TTL_SECONDS } from '@neon/contracts';
import type { LockCause } from './mail.repository.js';

/** A written mail, before it is addressed. */
export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One paragraph per entry; a `{ link }` entry is a button-like link (its URL also shown as text). */
type Part = string | { link: string; label: string };

function write(subject: string, parts: Part[]): MailContent {
  const text = parts
    .map((p) => (typeof p === 'string' ? p : `${p.label}:\n${p.link}`))
    .join('\n\n');
  const html = [
    '<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5">',
    ...parts.map((p) =>
      typeof p === 'string'
        ? `<p>${escape(p)}</p>`
        : `<p><a href="${escape(p.link)}">${escape(p.label)}</a></p><p style="font-size:12px;color:#666">${escape(p.link)}</p>`,
    ),
    '</body></html>',
  ].join('\n');
  return { subject, text: `${text}\n`, html };
}

const minutes = (seconds: number) => Math.round(seconds / 60);
const hours = (seconds: number) => Math.round(seconds / 3600);

/** `base`: the web app's address (PUBLIC_URL without its trailing slash). */
export function passwordResetMail(base: string, username: string, token: string): MailContent {
  return write('Reset your Neon password', [
    `Hi ${username},`,
    'Someone (hopefully you) asked to reset the password of your Neon account.',
    {
      label: 'Choose a new password',
      link: `${base}/reset-password?token=${encodeURIComponent(token)}`,
    },
    `The link works once, within ${minutes(PASSWORD_RESET_TTL_SECONDS)} minutes. Setting a new password signs you out everywhere.`,
    'If you did not ask for this, ignore this mail: your password stays as it is.',
  ]);
}

export function passwordChangedMail(base: string, username: string): MailContent {
  return write('Your Neon password was changed', [
    `Hi ${username},`,
    'The password of your Neon account was just reset, and every device signed in to it was signed out.',
    'If this was not you, reset your password again at once and turn on two-factor authentication:',
    { label: 'Reset your password', link: `${base}/forgot-password` },
  ]);
}

export function verifyEmailMail(base: string, username: string, token: string): MailContent {
  return write('Confirm your email address for Neon', [
    `Hi ${username},`,
    'Confirm that this address belongs to your Neon account:',
    {
      label: 'Confirm my address',
      link: `${base}/verify-email?token=${encodeURIComponent(token)}`,
    },
    `The link works once, within ${hours(EMAIL_VERIFICATION_TTL_SECONDS)} hours.`,
    'If you did not create a Neon account, ignore this mail.',
  ]);
}

/** `at`: when, as an ISO time, said in UTC (the mail does not know the reader's zone). */
export function newDeviceMail(
  base: string,
  username: string,
  device: string,
  at: string,
): MailContent {
  const when = new Date(at).toUTCString().replace('GMT', 'UTC');
  return write('New sign-in to your Neon account', [
    `Hi ${username},`,
    `Your Neon account was signed in to from a browser it had not been used from: ${device}, on ${when}.`,
    'If this was you, there is nothing to do.',
    'If it was not, sign that session out and change your password at once, then turn on two-factor authentication:',
    { label: 'Review your sessions', link: `${base}/settings/security` },
  ]);
}

/** Sent when wrong passwords locked the account: someone may be guessing it. */
export function accountLockedMail(
  base: string,
  username: string,
  until: string,
  lockedBy: LockCause = 'password',
): MailContent {
  const when = new Date(until).toUTCString().replace('GMT', 'UTC');
  if (lockedBy === 'second-factor')
    return write('Your Neon account is locked for a while', [
      `Hi ${username},`,
      `Someone who got past your Neon password (at sign-in, or holding one of your sessions) entered too many wrong two-factor codes, so codes, recovery codes included, are refused until ${when}.`,
      'If that was not you, your password is known to someone else: choose a new one now.',
      { label: 'Reset your password', link: `${base}/forgot-password` },
      'Then review where your account is signed in, and sign out the sessions you do not know.',
      { label: 'Security settings', link: `${base}/settings/security` },
    ]);
  return write('Your Neon account is locked for a while', [
    `Hi ${username},`,
    `Your Neon account had too many wrong passwords in a short time, so it refuses every password, the right one included, until ${when}.`,
    'If that was you, wait until then, or reset your password now:',
    { label: 'Reset your password', link: `${base}/forgot-password` },
    'If it was not, someone is guessing your password: once you are back in, choose a new one and turn on two-factor authentication.',
    { label: 'Security settings', link: `${base}/settings/security` },
  ]);
}

/** Sent to the new address: the change happens only once its owner follows the link. */
export function changeEmailMail(base: string, username: string, token: string): MailContent {
  return write('Confirm your new email address for Neon', [
    `Hi ${username},`,
    'You asked to use this address for your Neon account. Confirm it to make the change:',
    {
      label: 'Use this address',
      link: `${base}/verify-email?token=${encodeURIComponent(token)}`,
    },
    `The link works once, within ${hours(EMAIL_VERIFICATION_TTL_SECONDS)} hours. Until then your account keeps its current address.`,
    'If you did not ask for this, ignore this mail: nothing changes.',
  ]);
}

/** Sent to the old address when a change is asked for; the new one is shown masked. */
export function emailChangeNoticeMail(base: string, username: string, masked: string): MailContent {
  return write('A new email address was asked for your Neon account', [
    `Hi ${username},`,
    `Someone signed in to your Neon account asked to use ${masked} instead of this address. The change happens only if that address confirms it.`,
    'If this was not you, change your password at once and sign out the sessions you do not know:',
    { label: 'Review your account security', link: `${base}/settings/security` },
  ]);
}

/** "s****@example.com": enough for the owner to recognise, not enough to learn it. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  const local = at > 0 ? address.slice(0, at) : address;
  return `${local.slice(0, 1)}${'*'.repeat(Math.max(3, local.length - 1))}${at > 0 ? address.slice(at) : ''}`;
}
