import { createInterface } from 'node:readline';

/**
 * Lets the benchmark measure memory at rest: on a `GC` line on stdin the
 * server collects garbage (node runs with --expose-gc) and answers `GCDONE`.
 */
export function answerGc(): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line !== 'GC') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    gc?.();
    process.stdout.write('GCDONE\n');
  });
}
