import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}`, { cause: lastError });
    }
    await sleep(options.intervalMs ?? 50);
  }
}

export { sleep };

/**
 * A TCP port free on loopback right now, for processes that must be told
 * their port up front. It is drawn at random from below the kernel's
 * ephemeral range: a port from `listen(0)` is handed straight back to the
 * next `listen(0)`, so between this call and the caller's own listen any
 * server binding port 0 (the platform's own services, a parallel test) could
 * take it.
 */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const { readFileSync } = await import('node:fs');
  let ephemeralLow = 32_768;
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    if (Number.isInteger(low) && low > 12_000) ephemeralLow = low;
  } catch {
    // not Linux: keep the IANA default
  }
  const tryPort = (port: number): Promise<boolean> =>
    new Promise((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = 10_000 + Math.floor(Math.random() * (ephemeralLow - 10_000));
    if (await tryPort(port)) return port;
  }
  throw new Error('no free loopback port below the ephemeral range after 50 tries');
}
