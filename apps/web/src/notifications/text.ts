import type { Notification } from '@neon/contracts';

/** What one notification says, in a sentence. */
export function describe(n: Notification): string {
  if (n.kind === 'went_live')
    return n.title ? `${n.channel} went live: ${n.title}` : `${n.channel} went live`;
  return `${n.channel} made you ${n.role === 'vip' ? 'a VIP' : 'a moderator'}`;
}

/** The channel it is about; built here so a stored link can never lead off the site. */
export function channelPath(n: Notification): string {
  return `/${encodeURIComponent(n.channel)}`;
}
