/**
 * Which service answers which public path. The gateway routes by the longest
 * matching prefix; services register their routes under the same paths.
 */
export type ServiceName = 'identity' | 'channels' | 'live' | 'chat' | 'notify' | 'payments';

export const routeTable: readonly (readonly [prefix: string, service: ServiceName])[] = [
  ['/.well-known/jwks.json', 'identity'],
  ['/api/v1/auth/', 'identity'],
  ['/api/v1/oauth/', 'identity'], // the developer console, consent, connected apps
  ['/oauth2/', 'identity'], // token and revocation endpoints (RFC 6749, 7009)
  ['/.well-known/oauth-authorization-server', 'identity'], // RFC 8414 metadata
  ['/api/v1/me/stream', 'live'], // /api/v1/me/stream-key and /api/v1/me/stream
  ['/api/v1/me/channel', 'channels'], // /api/v1/me/channel and its roles
  ['/api/v1/me/follows', 'channels'],
  ['/api/v1/me/subscriptions', 'payments'],
  ['/api/v1/me/revenue', 'payments'],
  ['/api/v1/me', 'identity'],
  ['/api/v1/users/', 'identity'],
  ['/api/v1/streams', 'live'],
  ['/api/v1/videos', 'live'],
  ['/api/v1/channels/', 'channels'],
  ['/api/v1/categories', 'channels'],
  ['/api/v1/search', 'channels'],
  ['/api/v1/eventsub/', 'channels'], // an app's webhooks in the developer console
  ['/api/v1/chat/', 'chat'],
  ['/api/v1/notifications', 'notify'],
  ['/admin/v1/', 'identity'],
  ['/admin/v1/categories', 'channels'],
  ['/admin/v1/channels/', 'channels'], // roles of any channel
  ['/admin/v1/payments/', 'payments'],
  ['/public/v1/', 'channels'], // channels, followers, live streams and the OpenAPI document
  ['/public/v1/users', 'identity'],
  ['/public/v1/streams/key', 'live'],
  ['/public/v1/streams/title', 'live'],
  ['/public/v1/videos', 'live'],
  ['/public/v1/chat/', 'chat'],
  ['/public/v1/moderation/', 'chat'],
  ['/socket/', 'chat'],
  ['/hls/', 'live'],
  ['/dash/', 'live'],
  ['/vod/', 'live'],
  ['/thumbnails/', 'live'],
  ['/webhooks/', 'payments'],
];

/** Per-channel routes answered by another service than channels. */
export const channelSubroutes: readonly (readonly [suffix: RegExp, service: ServiceName])[] = [
  [/^\/api\/v1\/channels\/[^/]+\/videos(\/|$|\?)/, 'live'],
  [/^\/api\/v1\/channels\/[^/]+\/stream(\/|$|\?)/, 'live'],
  [/^\/api\/v1\/channels\/[^/]+\/chat(\/|$|\?)/, 'chat'],
  [/^\/api\/v1\/channels\/[^/]+\/subscription(\/|$|\?)/, 'payments'],
];

export function routeFor(path: string): ServiceName | null {
  for (const [pattern, service] of channelSubroutes) if (pattern.test(path)) return service;
  let best: ServiceName | null = null;
  let len = -1;
  for (const [prefix, service] of routeTable) {
    if (path.startsWith(prefix) && prefix.length > len) {
      best = service;
      len = prefix.length;
    }
  }
  return best;
}
