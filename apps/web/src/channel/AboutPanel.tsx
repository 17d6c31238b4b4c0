import type { Channel } from '@neon/contracts';
import { linkify, safeHref } from './linkify';

// Links the channel owner wrote: no referrer, no window handle, and no search-ranking vote.
const REL = 'noopener noreferrer nofollow';

/** The host (and path, when short) a social link goes to, as its visible name. */
function linkLabel(href: string): string {
  const url = new URL(href);
  const host = url.hostname.replace(/^www\./, '');
  const path = url.pathname.replace(/\/$/, '');
  const label = `${host}${path}`;
  return label.length > 40 ? `${label.slice(0, 39)}…` : label;
}

/** The channel's "About": its text with https links made clickable, and its social links. */
export function AboutPanel({
  channel,
}: {
  channel: Pick<Channel, 'about' | 'links' | 'displayName' | 'username'>;
}) {
  const links = channel.links.flatMap((l) => {
    const href = safeHref(l);
    return href ? [href] : [];
  });
  const name = channel.displayName || channel.username;
  return (
    <section className="about panel" aria-labelledby="about-title">
      <h2 id="about-title">About {name}</h2>
      {channel.about ? (
        <p className="about-text">
          {linkify(channel.about).map((p, i) =>
            'href' in p ? (
              <a key={i} href={p.href} target="_blank" rel={REL}>
                {p.text}
              </a>
            ) : (
              <span key={i}>{p.text}</span>
            ),
          )}
        </p>
      ) : (
        <p className="muted">{name} has not written anything here yet.</p>
      )}
      {links.length > 0 && (
        <ul className="social-links" aria-label="Links">
          {links.map((href) => (
            <li key={href}>
              <a href={href} target="_blank" rel={REL}>
                {linkLabel(href)}
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
