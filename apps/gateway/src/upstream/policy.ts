import type { IncomingHttpHeaders } from 'node:http';
import type { ServiceName } from '@neon/contracts';

export type DeviceClass = 'mobile' | 'tablet' | 'tv' | 'desktop' | 'unknown';

/** What a policy may look at to choose a replica. */
export interface RouteContext {
  service: ServiceName;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The verified caller's username, when signed in. */
  username?: string | undefined;
}

/** A replica as a policy sees it. */
export interface ReplicaView {
  readonly url: string;
  /** From the replica URL's fragment: `http://10.0.0.5:3000#region=eu&device=mobile`. */
  readonly tags: Readonly<Record<string, string>>;
  readonly healthy: boolean;
}

/**
 * Chooses the replica for one request, like an ELB listener rule. `candidates`
 * holds the healthy replicas not yet tried for this request (never empty).
 */
export interface UpstreamPolicy {
  choose<R extends ReplicaView>(candidates: readonly R[], context: RouteContext): R;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The viewer's device class: our own `X-Device-Class` (set by an edge in
 * front), else CloudFront's viewer headers.
 */
export function deviceClass(headers: IncomingHttpHeaders): DeviceClass {
  const own = header(headers, 'x-device-class')?.toLowerCase();
  if (own === 'mobile' || own === 'tablet' || own === 'tv' || own === 'desktop') return own;
  if (header(headers, 'cloudfront-is-mobile-viewer') === 'true') return 'mobile';
  if (header(headers, 'cloudfront-is-tablet-viewer') === 'true') return 'tablet';
  if (header(headers, 'cloudfront-is-smarttv-viewer') === 'true') return 'tv';
  if (header(headers, 'cloudfront-is-desktop-viewer') === 'true') return 'desktop';
  return 'unknown';
}

/** The viewer's region: `X-Region`, else CloudFront's viewer country; lower-case. */
export function region(headers: IncomingHttpHeaders): string | null {
  const v = header(headers, 'x-region') ?? header(headers, 'cloudfront-viewer-country');
  return v ? v.trim().toLowerCase() || null : null;
}

/** The default: each service's healthy replicas in turn. */
export function roundRobinPolicy(): UpstreamPolicy {
  const next = new Map<ServiceName, number>();
  return {
    choose(candidates, context) {
      const i = next.get(context.service) ?? 0;
      next.set(context.service, (i + 1) % 1_000_000_007);
      return candidates[i % candidates.length]!;
    },
  };
}

/**
 * Prefers replicas whose `region`/`device` tags match the request (a replica
 * without a tag matches any value), round-robin among the best matches; the
 * others are the fallback when no match is healthy.
 */
export function attributePolicy(): UpstreamPolicy {
  const rr = roundRobinPolicy();
  return {
    choose(candidates, context) {
      const want = { region: region(context.headers), device: deviceClass(context.headers) };
      let bestScore = -1;
      let best: (typeof candidates)[number][] = [];
      for (const c of candidates) {
        const score = matchScore(c.tags, want);
        if (score > bestScore) {
          bestScore = score;
          best = [c];
        } else if (score === bestScore) best.push(c);
      }
      return rr.choose(best, context);
    },
  };
}

function matchScore(
  tags: Readonly<Record<string, string>>,
  want: { region: string | null; device: DeviceClass },
): number {
  let score = 0;
  for (const [key, value] of [
    ['region', want.region],
    ['device', want.device],
  ] as const) {
    const tag = tags[key];
    if (tag === undefined) continue;
    if (value !== null && tag.toLowerCase() === value) score += 2;
    else score -= 1;
  }
  return score;
}
