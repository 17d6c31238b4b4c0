import { Link } from 'react-router';
import type { Channel, ChannelRole } from '@neon/contracts';

const roleText: Record<NonNullable<ChannelRole>, string> = {
  owner: 'Your channel',
  moderator: 'You moderate this channel',
  vip: 'You are a VIP here',
};

/** The caller's role on the channel, if any. */
export function RoleBadge({ role }: { role: ChannelRole }) {
  if (!role) return null;
  return (
    <span className={`chip ${role}`} data-testid="my-role">
      {roleText[role]}
    </span>
  );
}

/** Category and tags, each a way into the directory or search. */
export function ChannelMeta({
  channel,
}: {
  channel: Pick<Channel, 'category' | 'tags' | 'mature'>;
}) {
  if (!channel.category && channel.tags.length === 0 && !channel.mature) return null;
  return (
    <div className="row wrap channel-meta">
      {channel.category && (
        <Link className="category-link" to={`/directory/${channel.category.slug}`}>
          {channel.category.name}
        </Link>
      )}
      {channel.tags.map((t) => (
        <Link key={t} className="tag" to={`/search?q=${encodeURIComponent(t)}`}>
          {t}
        </Link>
      ))}
      {channel.mature && (
        <span className="tag mature" title="The streamer marked this channel for mature audiences">
          18+
        </span>
      )}
    </div>
  );
}
