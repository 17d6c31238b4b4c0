import { amf0Encode, amfObject } from './amf0.js';
import { type RtmpErrorCode } from './errors.js';
import { RtmpServerSession } from './session.js';
import { defaultRtmpLimits, type RtmpLimits } from './session-types.js';
import { chunkMessage, publishScript, setChunkSize } from './client.js';

export interface FuzzOptions {
  iterations: number;
  seed?: number;
  /** Called every 10,000 inputs (progress for long runs). */
  progress?: (done: number) => void;
}

export interface FuzzReport {
  inputs: number;
  /** Inputs that made `feed` throw (must stay 0). */
  thrown: number;
  /** Inputs after which the session held more than its limits allow (must stay 0). */
  overLimit: number;
  /** Largest `bufferedBytes` seen after any feed. */
  maxBuffered: number;
  /** How inputs ended: an error code, or 'ok'. */
  outcomes: Partial<Record<RtmpErrorCode | 'ok', number>>;
  /** Inputs that got as far as an accepted publish / a media event. */
  published: number;
  withMedia: number;
  /** First input that broke a rule, for a reproducer. */
  firstFailure?: { input: Buffer; slices: number[]; reason: string };
}

/** xorshift32: fast, seedable, good enough to pick mutations. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const HS = 1 + 2 * 1536;

/** Small limits make the limit paths reachable with small inputs; one in ten uses the defaults. */
const tightLimits: Partial<RtmpLimits> = {
  maxMessageLength: 64 * 1024,
  maxBufferedBytes: 128 * 1024,
  maxChunkStreams: 16,
  maxChunkStreamsInFlight: 4,
  maxElements: 1000,
};

function deepAmf(depth: number, marker: number): Buffer {
  const parts: Buffer[] = [amf0Encode('connect', 1)];
  for (let i = 0; i < depth; i++) {
    parts.push(marker === 0x0a ? Buffer.of(0x0a, 0, 0, 0, 1) : Buffer.of(0x03, 0, 1, 0x61));
  }
  return Buffer.concat(parts);
}

/**
 * Feeds mutated publish streams to fresh sessions: bit flips, truncations,
 * splices, huge length fields, chunk size storms, deep AMF, garbage, all in
 * random read slices. Reports what broke a rule instead of throwing.
 */
export function fuzzRtmp(options: FuzzOptions): FuzzReport {
  const rand = prng(options.seed ?? 0x5eed);
  const pick = (n: number): number => rand() % n;
  // Building mutation messages costs more than parsing them: build each once.
  const memo = new Map<string, Buffer>();
  const cached = (key: string, make: () => Buffer): Buffer => {
    let b = memo.get(key);
    if (!b) memo.set(key, (b = make()));
    return b;
  };
  const seeds = [
    publishScript({ frames: 3, chunkSize: 128 }).segments,
    publishScript({ frames: 3, chunkSize: 4096 }).segments,
    publishScript({ frames: 2, chunkSize: 128, baseTimestamp: 0xfffff0, extendedDeltas: true })
      .segments,
    publishScript({ frames: 2, chunkSize: 300, baseTimestamp: 0x12345678 }).segments,
  ];
  const report: FuzzReport = {
    inputs: 0,
    thrown: 0,
    overLimit: 0,
    maxBuffered: 0,
    outcomes: {},
    published: 0,
    withMedia: 0,
  };
  const fail = (input: Buffer, slices: number[], reason: string): void => {
    report.firstFailure ??= { input, slices, reason };
  };

  for (let i = 0; i < options.iterations; i++) {
    const segs = [...seeds[pick(seeds.length)]!];
    // Segment-level mutations keep the rest well-formed, so the damage reaches deep states.
    const rounds = 1 + pick(3);
    for (let r = 0; r < rounds; r++) {
      const at = 1 + pick(Math.max(1, segs.length - 1));
      switch (pick(10)) {
        case 0: // chunk size storm
          for (let k = pick(20); k >= 0; k--) {
            const sizes = [1, 2, 127, 128, 4096, 65536, 65537, 0, 0x7fffffff, 0x80000000, rand()];
            segs.splice(at, 0, setChunkSize(sizes[pick(sizes.length)]!, 128));
          }
          break;
        case 1: {
          // deep AMF
          const depth = 1 + pick(200);
          const marker = pick(2) ? 0x0a : 0x03;
          segs.splice(
            at,
            0,
            cached(`deep:${depth}:${marker}`, () =>
              chunkMessage({
                csid: 3,
                fmt: 0,
                typeId: 20,
                payload: deepAmf(depth, marker),
                chunkSize: 128,
              }),
            ),
          );
          break;
        }
        case 2: // drop a message
          segs.splice(at, 1);
          break;
        case 3: // duplicate one
          if (segs[at]) segs.splice(at, 0, segs[at]);
          break;
        case 4: // splice from another seed
          segs.splice(at, segs.length, ...seeds[pick(seeds.length)]!.slice(1 + pick(10)));
          break;
        case 5: // garbage
          segs.splice(at, 0, Buffer.from(Array.from({ length: 1 + pick(64) }, () => pick(256))));
          break;
        case 6: // a huge AMF count or string length in a command
          segs.splice(
            at,
            0,
            chunkMessage({
              csid: 3,
              fmt: 0,
              typeId: pick(2) ? 20 : 18,
              payload: Buffer.concat([
                amf0Encode('publish', 5, null),
                Buffer.of(pick(2) ? 0x0a : 0x0c, 0xff, 0xff, 0xff, pick(256)),
              ]),
              chunkSize: 128,
            }),
          );
          break;
        case 7: {
          // Many chunk streams, each with a message left unfinished after its first chunk
          // (at a chunk size set here, so the cut lands on a chunk boundary).
          const batch: Buffer[] = [cached('cs128', () => setChunkSize(128, 128))];
          for (let k = 5 + pick(80), csid = 3 + pick(300); k > 0; k--, csid++) {
            const basic = csid < 64 ? 1 : csid < 320 ? 2 : 3;
            const first = cached(`part:${csid}`, () =>
              chunkMessage({
                csid,
                fmt: 0,
                typeId: 9,
                streamId: 1,
                payload: Buffer.alloc(300, 0x27),
                chunkSize: 128,
              }).subarray(0, basic + 11 + 128),
            );
            batch.push(first);
          }
          segs.splice(at, 0, ...batch);
          break;
        }
        case 8: // a wide AMF value: many elements in few bytes
          segs.splice(
            at,
            0,
            cached('wide', () =>
              chunkMessage({
                csid: 3,
                fmt: 0,
                typeId: 20,
                payload: Buffer.concat([
                  amf0Encode('connect', 1),
                  Buffer.of(0x0a, 0, 0, 0x07, 0xd0), // 2000 values
                  Buffer.alloc(2000, 0x05),
                ]),
                chunkSize: 4096,
              }),
            ),
          );
          break;
        default: // an unexpected command
          segs.splice(
            at,
            0,
            chunkMessage({
              csid: 3,
              fmt: 0,
              typeId: 20,
              payload: amf0Encode(
                ['connect', 'publish', 'createStream', 'deleteStream'][pick(4)],
                pick(5),
                amfObject({ app: 'live' }),
                'k',
              ),
              chunkSize: 128,
            }),
          );
      }
    }
    let input = Buffer.concat(segs);
    // Byte-level mutations, mostly after the handshake where the parser is.
    const byteOps = pick(4);
    if (byteOps > 0) input = Buffer.from(input);
    for (let b = 0; b < byteOps; b++) {
      const pos = pick(8) === 0 ? pick(input.length) : HS + pick(Math.max(1, input.length - HS));
      if (pos >= input.length) continue;
      switch (pick(4)) {
        case 0: // bit flips
          input[pos]! ^= 1 << pick(8);
          break;
        case 1: // huge length field
          if (pos + 3 <= input.length)
            input.writeUIntBE(pick(2) ? 0xffffff : rand() & 0xffffff, pos, 3);
          break;
        case 2: // random byte
          input[pos] = pick(256);
          break;
        default: // truncation
          input = input.subarray(0, pos);
      }
    }

    const limits: RtmpLimits =
      pick(10) === 0 ? defaultRtmpLimits : { ...defaultRtmpLimits, ...tightLimits };
    const session = new RtmpServerSession({
      send: () => undefined,
      randomFill: (b) => b.fill(0),
      limits,
    });
    let published = false;
    let media = false;
    let code: RtmpErrorCode | undefined;
    session.on('publish', (req) => {
      published = true;
      if (pick(8) === 0) req.reject();
      else req.accept();
    });
    session.on('video', () => (media = true));
    session.on('audio', () => (media = true));
    session.on('error', (e) => (code = e.code));

    const slices: number[] = [];
    const mode = pick(4);
    try {
      for (let pos = 0; pos < input.length;) {
        const n =
          mode === 0
            ? input.length
            : mode === 1
              ? 1 + pick(16)
              : mode === 2
                ? 1 + pick(2000)
                : 1 + pick(200);
        slices.push(n);
        session.feed(input.subarray(pos, pos + n));
        pos += n;
        const held = session.bufferedBytes;
        if (held > report.maxBuffered) report.maxBuffered = held;
        if (held > limits.maxBufferedBytes + 1536 + 18) {
          report.overLimit++;
          fail(input, slices, `bufferedBytes ${held}`);
          break;
        }
      }
      session.end();
    } catch (err) {
      report.thrown++;
      fail(input, slices, err instanceof Error ? (err.stack ?? err.message) : String(err));
    }
    report.inputs++;
    const outcome = code ?? 'ok';
    report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
    if (published) report.published++;
    if (media) report.withMedia++;
    if (options.progress && (i + 1) % 10_000 === 0) options.progress(i + 1);
  }
  return report;
}
