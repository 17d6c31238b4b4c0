// npm run bench:rtmp-memory — how much memory unauthenticated RTMP peers can make
// the ingest hold, and whether it comes back when they close.
// 48 connections (BENCH_CONNECTIONS) each complete the handshake and connect, then
// declare two ~7.8 MiB video messages and send BENCH_BYTES_PER_CONNECTION (4 MiB) of
// their payload without finishing them. The server's RSS (/proc/<pid>/status) is
// read before, while they hold, after they closed, and after a forced full GC
// (the child runs with --expose-gc; SIGUSR2 asks it to collect). Three rounds per
// target (BENCH_ROUNDS); medians are printed. Targets:
//   live            the embedded live service (bench/live/server.ts), caps raised so
//                   all 48 get in: what the pre-publish budget leaves
//   session-budget  the bare RTMP session with its default pre-publish budget
//   session-open    the bare RTMP session without it: how ingest behaved before
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { amfObject } from '@neon/rtmp';
import { basicHeader, command, handshake } from '@neon/rtmp/testing';
import { startChild, type Child } from './lib/proc.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 48);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BYTES = Number(process.env.BENCH_BYTES_PER_CONNECTION ?? 4 * 1024 * 1024);
const DECLARED = 8_178_892; // ~7.8 MiB, just under the 8 MiB message limit

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function header(csid: number, length: number): Buffer {
  const h = Buffer.alloc(11);
  h.writeUIntBE(length, 3, 3);
  h[6] = 9;
  h.writeUInt32LE(1, 7);
  return Buffer.concat([basicHeader(0, csid), h]);
}

/** One hostile peer: handshake, connect, a chunk size of 64 KiB, two unfinished big messages. */
async function hold(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  const chunk = 65_536;
  const setChunk = Buffer.alloc(16);
  basicHeader(0, 2).copy(setChunk, 0);
  setChunk.writeUIntBE(4, 4, 3);
  setChunk[7] = 1;
  setChunk.writeUInt32BE(chunk, 12);
  socket.write(
    Buffer.concat([
      handshake(),
      command(3, 0, 128, 'connect', 1, amfObject({ app: 'live' })),
      setChunk,
    ]),
  );
  const fill = randomBytes(chunk);
  let sent = 0;
  // Alternate two chunk streams, one whole chunk at a time, so both messages stay unfinished.
  for (let i = 0; sent < BYTES && !socket.destroyed; i++) {
    const csid = 6 + (i % 2);
    const first = i < 2;
    const part = first
      ? Buffer.concat([header(csid, DECLARED), fill])
      : Buffer.concat([basicHeader(3, csid), fill]);
    if (!socket.write(part)) {
      await new Promise<void>((resolve) => {
        socket.once('drain', resolve);
        socket.once('close', resolve);
      });
    }
    sent += chunk;
  }
  return socket;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function startTarget(target: string, dataDir: string): Promise<Child> {
  const secret = randomBytes(24).toString('base64url');
  if (target === 'live') {
    return startChild(
      join(import.meta.dirname, 'live', 'server.ts'),
      {
        DATA_DIR: dataDir,
        INTERNAL_SECRET: secret + secret,
        RTMP_HOST: '127.0.0.1',
        RTMP_PORT: '0',
        RTMP_MAX_PENDING_PER_ADDRESS: '1000',
        RTMP_MAX_PENDING_CONNECTIONS: '1000',
        LOG_LEVEL: 'error',
      },
      ['--expose-gc'],
    );
  }
  return startChild(
    join(import.meta.dirname, 'rtmp-memory', 'bare-server.ts'),
    { BENCH_PRE_PUBLISH: target === 'session-open' ? 'off' : 'on' },
    ['--expose-gc'],
  );
}

async function round(child: Child): Promise<Record<string, number>> {
  const port = Number(child.ready.rtmpPort);
  await sleep(500);
  const before = rssMiB(child.pid);
  const sockets = await Promise.all(Array.from({ length: CONNECTIONS }, () => hold(port)));
  await sleep(1000);
  const holding = rssMiB(child.pid);
  const open = sockets.filter((s) => !s.destroyed).length;
  for (const s of sockets) s.destroy();
  await sleep(1500);
  const closed = rssMiB(child.pid);
  child.process.kill('SIGUSR2');
  await sleep(1500);
  const collected = rssMiB(child.pid);
  return { before, holding, closed, collected, open };
}

const results: Record<string, Record<string, number>> = {};
for (const target of ['live', 'session-budget', 'session-open']) {
  const dataDir = mkdtempSync(join(tmpdir(), 'neon-bench-rtmp-memory-'));
  const child = await startTarget(target, dataDir);
  try {
    const rounds: Record<string, number>[] = [];
    for (let i = 0; i < ROUNDS; i++) rounds.push(await round(child));
    const keys = Object.keys(rounds[0]!);
    results[target] = Object.fromEntries(keys.map((k) => [k, median(rounds.map((r) => r[k]!))]));
  } finally {
    await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
console.log(
  `RSS in MiB, medians of ${ROUNDS} rounds; ${CONNECTIONS} connections, ${BYTES / 1048576} MiB sent each`,
);
console.log('target          before  holding  closed  after GC  still open while holding');
for (const [target, r] of Object.entries(results)) {
  const f = (n: number) => n.toFixed(0).padStart(7);
  console.log(
    `${target.padEnd(15)}${f(r.before!)}  ${f(r.holding!)} ${f(r.closed!)}  ${f(r.collected!)}   ${r.open}`,
  );
}
