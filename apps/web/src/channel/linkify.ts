/** A piece of an "about" text: plain text, or an https link to render as one. */
export type Piece = { text: string } | { href: string; text: string };

// Candidates only: each is checked with the URL parser before it becomes a link.
const CANDIDATE = /https:\/\/[^\s<>"]+/gi;
// Sentence punctuation right after a link belongs to the sentence, not the link.
const TRAILING = `.,;:!?'")]}`;

/** The link as the browser would follow it, or null when it is not a plain https link to a site. */
export function safeHref(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || !url.hostname.includes('.')) return null;
  // Credentials in a link are a classic way to disguise where it goes.
  if (url.username || url.password) return null;
  return url.href;
}

/**
 * Splits plain text into text and https links. Anything else (http:,
 * javascript:, data:, markup) stays text: the caller renders text as text
 * nodes, so nothing in the input is ever parsed as HTML.
 */
export function linkify(text: string): Piece[] {
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const start = match.index;
    let candidate = match[0];
    for (let c = candidate.at(-1) ?? ''; TRAILING.includes(c); c = candidate.at(-1) ?? '') {
      // A closing bracket whose opening one is inside the link is part of it (Wikipedia-style).
      if (c === ')' && countOf(candidate, '(') >= countOf(candidate, ')')) break;
      candidate = candidate.slice(0, -1);
    }
    const href = safeHref(candidate);
    if (!href) continue;
    if (start > last) pieces.push({ text: text.slice(last, start) });
    pieces.push({ href, text: candidate });
    last = start + candidate.length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last) });
  return pieces;
}

function countOf(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}
