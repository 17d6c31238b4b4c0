import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

describe('graceful shutdown', () => {
  it('finishes in-flight requests on SIGTERM, refuses new ones, then exits 0', async () => {
    const script = fileURLToPath(new URL('./fixtures/slow-service.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      while (!/listening (\S+)/.test(out)) await sleep(20);
      const base = /listening (\S+)/.exec(out)![1]!;
      const inflight = fetch(`${base}/slow`);
      await sleep(100);
      const exited = once(child, 'exit');
      const signalled = Date.now();
      child.kill('SIGTERM');
      const res = await inflight;
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { done: true });
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
      assert.ok(Date.now() - signalled < 10_000);
      await assert.rejects(fetch(`${base}/slow`), 'no longer accepting');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
