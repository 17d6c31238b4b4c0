/** A channel as the channels repository reads it, with its live state when it is live. */
export interface ChannelRow {
  user_id: string;
  username: string;
  display_name: string;
  avatar_url: string | null;
  category_slug: string | null;
  category_name: string | null;
  tags: string[];
  about: string;
  links: string[];
  language: string;
  mature: boolean;
  followers: number;
  title: string;
  live_broadcast: string | null;
  viewers: number | null;
  started_at: Date | null;
}

export const SELECT_CHANNEL = `
  SELECT c.user_id, c.username, c.display_name, c.avatar_url, c.category_slug,
         cat.name AS category_name, c.tags, c.about, c.links, c.language, c.mature,
         c.followers, COALESCE(l.title, c.title) AS title, l.broadcast_id AS live_broadcast,
         l.viewers, l.started_at
    FROM channels.channels c
    LEFT JOIN channels.categories cat ON cat.slug = c.category_slug
    LEFT JOIN channels.live l ON l.user_id = c.user_id`;

/**
 * What search matches a channel on, lower-cased: its names, title, tags and
 * category, kept up to date by every write that changes one of them.
 */
export const REFRESH_SEARCH_TEXT = `
  UPDATE channels.channels c
     SET search_text = lower(c.username || ' ' || c.display_name || ' ' || c.title || ' ' ||
           array_to_string(c.tags, ' ') || ' ' ||
           COALESCE((SELECT name FROM channels.categories WHERE slug = c.category_slug), ''))
   WHERE c.user_id = $1`;
