import { Pool } from 'undici';

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  /** Latencies in microseconds, sorted. */
  latencies: Float64Array;
}

/**
 * A closed-loop load generator: `connections` keep-alive connections, each
 * sending the next request as soon as the previous answer is read.
 */
export async function runLoad(
  origin: string,
  path: string,
  /** Fixed headers, or a function giving each request's (a token per request). */
  headers: Record<string, string> | (() => Record<string, string>),
  connections: number,
  durationMs: number,
): Promise<LoadResult> {
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const samples: number[] = [];
  let errors = 0;
  const start = performance.now();
  const deadline = start + durationMs;
  async function worker(): Promise<void> {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const res = await pool.request({
          method: 'GET',
          path,
          headers: typeof headers === 'function' ? headers() : headers,
        });
        await res.body.dump();
        if (res.statusCode !== 200) errors++;
        else samples.push((performance.now() - t0) * 1000);
      } catch {
        errors++;
      }
    }
  }
  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - start) / 1000;
  await pool.close();
  const latencies = Float64Array.from(samples).sort();
  return { requests: samples.length, errors, seconds, latencies };
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
