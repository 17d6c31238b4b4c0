import { useEffect, useState } from 'react';

/** Re-renders every `ms` with the current time (live-duration counters). */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Neon` : 'Neon';
  }, [title]);
}
