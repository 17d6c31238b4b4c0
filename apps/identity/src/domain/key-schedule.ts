/**
 * The signing-key schedule, as pure rules over the keys' activation times.
 * A key signs from its activation until the next key's activation; it is
 * published from its creation (so verifiers learn it before it signs) until
 * every token it could have signed has expired.
 */
export interface ScheduledKey {
  kid: string;
  activatesAt: number;
}

export interface ScheduleRules {
  rotationMs: number;
  /** The longest life of anything signed (access tokens; socket tickets are shorter). */
  tokenTtlMs: number;
  /** Clock skew between replicas and verifiers. */
  leewayMs: number;
}

function byActivation(keys: readonly ScheduledKey[]): ScheduledKey[] {
  return [...keys].sort((a, b) => a.activatesAt - b.activatesAt);
}

/** The key that signs at `now`: the latest one already active. */
export function currentKey<K extends ScheduledKey>(keys: readonly K[], now: number): K | null {
  let best: K | null = null;
  for (const k of keys)
    if (k.activatesAt <= now && (!best || k.activatesAt > best.activatesAt)) best = k;
  return best;
}

/** When a key stops signing: its successor's activation, or never (null). */
export function retiredAt(keys: readonly ScheduledKey[], kid: string): number | null {
  const sorted = byActivation(keys);
  const i = sorted.findIndex((k) => k.kid === kid);
  const next = i >= 0 ? sorted[i + 1] : undefined;
  return next ? next.activatesAt : null;
}

/** Whether JWKS must still carry a key: not retired, or retired too recently for its tokens to have expired. */
export function isPublished(
  keys: readonly ScheduledKey[],
  kid: string,
  now: number,
  rules: ScheduleRules,
): boolean {
  const retired = retiredAt(keys, kid);
  return retired === null || retired > now || now < retired + rules.tokenTtlMs + rules.leewayMs;
}

/**
 * What the schedule lacks at `now`: the activation time of a key to create,
 * or null when a signer and a published successor both exist.
 */
export function nextActivation(
  keys: readonly ScheduledKey[],
  now: number,
  rules: ScheduleRules,
): number | null {
  const current = currentKey(keys, now);
  // A fresh deployment has signed nothing yet, so its first key may sign at once.
  if (!current) return now;
  if (keys.some((k) => k.activatesAt > now)) return null;
  // After a long stop the successor still gets published ahead of signing.
  const lead = Math.min(rules.rotationMs / 2, 60_000);
  return Math.max(current.activatesAt + rules.rotationMs, now + lead);
}
