// The lean load generator: raw TCP WebSocket clients with a hand-rolled frame
// reader, so the generator (pinned to its own core) is not what limits a run.
// Driven by the parent over stdin/stdout, one line per step.
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

type Kind = 'neon' | 'socketio' | 'ws';
interface Options {
  kind: Kind;
  port: number;
  clients: number;
  senders: number;
  secret: string;
  bodyBytes: number;
}
interface Phase {
  rate: number;
  seconds: number;
}

const opts = JSON.parse(process.env.GEN_OPTIONS!) as Options;
const MARK = 0x40; // '@'
const CONNECT_TIMEOUT_MS = 120_000;
const DRAIN_MS = 3000;

// Latency histogram: 100 µs buckets up to 30 s.
const BUCKET_US = 100;
const hist = new Uint32Array(300_000);
let delivered = 0;
let phaseNo = 0;
/** A letter per phase, written right after the send time. */
let phaseTag = 0x41;

function now(): number {
  return Math.round(performance.now() * 1000);
}

class Client {
  private buf: Buffer | null = null;
  ready = false;
  onReady: (() => void) | null = null;
  private upgraded = false;
  constructor(
    readonly socket: Socket,
    readonly receiver: boolean,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.data(chunk));
    socket.on('error', () => undefined);
  }

  private data(chunk: Buffer): void {
    let b = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    this.buf = null;
    if (!this.upgraded) {
      const end = b.indexOf('\r\n\r\n');
      if (end < 0) {
        this.buf = b;
        return;
      }
      if (!b.subarray(0, 12).toString().includes('101')) {
        this.socket.destroy();
        return;
      }
      this.upgraded = true;
      b = b.subarray(end + 4);
      this.opened();
    }
    let off = 0;
    while (b.length - off >= 2) {
      const op = b[off]! & 0x0f;
      let len = b[off + 1]! & 0x7f;
      let head = 2;
      if (len === 126) {
        if (b.length - off < 4) break;
        len = b.readUInt16BE(off + 2);
        head = 4;
      } else if (len === 127) {
        if (b.length - off < 10) break;
        len = b.readUInt32BE(off + 6);
        head = 10;
      }
      if (b.length - off < head + len) break;
      const start = off + head;
      const end = start + len;
      if (op === 1) this.frame(b, start, end);
      else if (op === 9) this.send(b.subarray(start, end), 0x8a);
      off = end;
    }
    if (off < b.length) this.buf = b.subarray(off);
  }

  private frame(b: Buffer, start: number, end: number): void {
    if (!this.ready) {
      const text = b.toString('utf8', start, end);
      if (
        (opts.kind === 'neon' && text.includes('phx_reply')) ||
        (opts.kind === 'socketio' && text.startsWith('40'))
      ) {
        this.markReady();
      } else if (opts.kind === 'socketio' && text.startsWith('0')) {
        this.text('40');
      }
      return;
    }
    if (opts.kind === 'socketio' && end - start === 1 && b[start] === 0x32) {
      this.text('3');
      return;
    }
    if (!this.receiver) return;
    const at = b.indexOf(MARK, start);
    if (at < 0 || at >= end || b[at + 1] !== MARK) return;
    let t = 0;
    for (let i = at + 2; i < at + 14; i++) t = t * 10 + (b[i]! - 48);
    // Late arrivals from an earlier phase do not count toward this one.
    if (b[at + 14] !== phaseTag) return;
    delivered++;
    const bucket = Math.min(hist.length - 1, Math.max(0, Math.floor((now() - t) / BUCKET_US)));
    hist[bucket]!++;
  }

  private opened(): void {
    if (opts.kind === 'neon') this.text('["1","1","room:bench","phx_join",{}]');
    else if (opts.kind === 'ws') this.markReady();
  }

  private markReady(): void {
    this.ready = true;
    this.onReady?.();
  }

  /** A client frame: masked, with an all-zero key so the payload goes as is. */
  send(payload: Buffer, first = 0x81): void {
    const len = payload.length;
    const head = len < 126 ? Buffer.alloc(6) : Buffer.alloc(8);
    head[0] = first;
    if (len < 126) head[1] = 0x80 | len;
    else {
      head[1] = 0x80 | 126;
      head.writeUInt16BE(len, 2);
    }
    this.socket.write(Buffer.concat([head, payload]));
  }

  text(s: string): void {
    this.send(Buffer.from(s));
  }
}

function open(index: number, receiver: boolean): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect(opts.port, '127.0.0.1');
    const client = new Client(socket, receiver);
    const timer = setTimeout(() => reject(new Error('connect timeout')), 30_000);
    client.onReady = () => {
      clearTimeout(timer);
      resolve(client);
    };
    socket.once('error', reject);
    socket.once('connect', () => {
      let path = '/';
      const headers: string[] = [];
      if (opts.kind === 'neon') {
        path = '/socket/websocket?vsn=2.0.0';
        if (!receiver) {
          path += `&id=bench-sender-${index}&username=sender_${index}`;
          headers.push(`x-neon-internal: ${opts.secret}`);
        }
      } else if (opts.kind === 'socketio') path = '/socket.io/?EIO=4&transport=websocket';
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${opts.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
          headers.map((h) => `${h}\r\n`).join('') +
          '\r\n',
      );
    });
  });
}

async function openAll(): Promise<{ receivers: Client[]; senders: Client[] }> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  const receivers: Client[] = [];
  for (let i = 0; i < opts.clients && Date.now() < deadline; i += 100) {
    const n = Math.min(100, opts.clients - i);
    receivers.push(...(await Promise.all(Array.from({ length: n }, (_, k) => open(i + k, true)))));
  }
  const senders = await Promise.all(Array.from({ length: opts.senders }, (_, i) => open(i, false)));
  return { receivers, senders };
}

function body(sender: number, seq: number): string {
  const t = String(now()).padStart(12, '0');
  const head = `@@${t}${String.fromCharCode(phaseTag)} s${sender} n${seq} `;
  return head + 'x'.repeat(Math.max(0, opts.bodyBytes - head.length));
}

let ref = 1;
function shout(c: Client, sender: number, seq: number): void {
  const b = body(sender, seq);
  if (opts.kind === 'neon') c.text(`["1","${++ref}","room:bench","shout",{"body":"${b}"}]`);
  else if (opts.kind === 'socketio') c.text(`42["shout","${b}"]`);
  else c.text(b);
}

function percentile(p: number, total: number): number {
  if (total === 0) return NaN;
  const want = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= want) return ((i + 1) * BUCKET_US) / 1000;
  }
  return NaN;
}

async function runPhase(
  p: Phase,
  senders: Client[],
  receivers: Client[],
  say: (s: string) => void,
) {
  hist.fill(0);
  delivered = 0;
  phaseTag = 0x41 + (phaseNo++ % 26);
  say(`PHASE_START ${JSON.stringify(p)}`);
  const t0 = performance.now();
  const total = Math.round(p.rate * p.seconds);
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * p.rate));
      while (sent < due) {
        shout(senders[sent % senders.length]!, sent % senders.length, sent);
        sent++;
      }
      if (sent >= total || performance.now() - t0 > p.seconds * 1000 + 5000) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  const live = receivers.filter((r) => !r.socket.destroyed).length;
  const expected = sent * receivers.length;
  const drainEnd = performance.now() + DRAIN_MS;
  while (performance.now() < drainEnd && delivered < expected) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const result = {
    ...p,
    sent,
    expected,
    delivered,
    loss: expected === 0 ? 0 : 1 - delivered / expected,
    p50ms: percentile(0.5, delivered),
    p99ms: percentile(0.99, delivered),
    receiversConnected: live,
  };
  say(`PHASE_END ${JSON.stringify(result)}`);
  return result;
}

async function main() {
  const say = (s: string) => process.stdout.write(`${s}\n`);
  const { receivers, senders } = await openAll();
  say(`READY ${receivers.length}`);
  // Neon heartbeats (Socket.IO answers the server's pings instead).
  const hb = setInterval(() => {
    if (opts.kind !== 'neon') return;
    for (const c of [...receivers, ...senders]) c.text(`[null,"hb","phoenix","heartbeat",{}]`);
  }, 25_000);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line === 'QUIT') break;
    if (line.startsWith('PHASE ')) {
      const [rate = 0, seconds = 0] = line.slice(6).split(' ').map(Number);
      await runPhase({ rate, seconds }, senders, receivers, say);
    }
  }
  clearInterval(hb);
  for (const c of [...receivers, ...senders]) c.socket.destroy();
  process.exit(0);
}

void main();
