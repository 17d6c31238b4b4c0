import { randomFillSync } from 'node:crypto';
import {
  AmfEcmaArray,
  amf0DecodeAll,
  amf0Encode,
  amfObject,
  type AmfObject,
  type AmfValue,
} from './amf0.js';
import {
  ChunkDecoder,
  DEFAULT_CHUNK_SIZE,
  RECOMMENDED_PRE_PUBLISH_LIMITS,
  encodeChunks,
  type RtmpMessage,
} from './chunk.js';
import { RtmpProtocolError } from './errors.js';
import { FlvTagType, parseAudioTag, parseVideoTag } from './flv.js';
import {
  MessageType,
  UserControlEvent,
  RECOMMENDED_HANDSHAKE_TIMEOUT_MS,
  RECOMMENDED_IDLE_TIMEOUT_MS,
  RECOMMENDED_PUBLISH_TIMEOUT_MS,
  type RtmpTimeouts,
  type RtmpLimits,
  defaultRtmpLimits,
  type RtmpSessionOptions,
  type RtmpConnectEvent,
  type PublishRejectStatus,
  type RtmpPublishRequest,
  type UnpublishReason,
  type RtmpSessionEventMap,
  type RtmpSessionPhase,
} from './session-types.js';
import { isAmfObject, normaliseMetadata } from './metadata.js';

type Listeners = { [K in keyof RtmpSessionEventMap]?: ((e: RtmpSessionEventMap[K]) => void)[] };

const HANDSHAKE_SIZE = 1536;
const RTMP_VERSION = 3;
const CSID_CONTROL = 2;
const CSID_COMMAND = 3;
const CSID_STATUS = 5;
const MIN_ACK_WINDOW = 4096;
/** App and publish names (the stream key) longer than this are not from an encoder. */
const MAX_NAME_LENGTH = 1024;
/** Encoders send each of these a handful of times per connection; keep-alive pings come every few seconds. */
const MAX_REPEATABLE_REPLIES = 1024;

interface PublishState {
  streamId: number;
  status: 'pending' | 'active';
}

class PublishRequest implements RtmpPublishRequest {
  constructor(
    private readonly session: RtmpServerSession,
    private readonly token: object,
    readonly app: string,
    readonly streamKey: string,
    readonly query: string,
    readonly publishType: string,
    readonly streamId: number,
  ) {}
  accept(): boolean {
    return this.session.decide(this.token, true);
  }
  reject(options?: { status?: PublishRejectStatus; description?: string }): boolean {
    return this.session.decide(this.token, false, options);
  }
  /** console.log and util.inspect: the key stays out of those too. */
  [Symbol.for('nodejs.util.inspect.custom')](): object {
    return this.toJSON();
  }
  /** Loggers serialise with JSON: the key stays out of every log line. */
  toJSON(): object {
    return {
      app: this.app,
      streamKey: '[redacted]',
      publishType: this.publishType,
      streamId: this.streamId,
    };
  }
}

/**
 * The server side of one RTMP connection, without I/O: `feed` it the bytes
 * read from the socket; it answers through `send` and reports through events.
 * Nothing thrown by the parser escapes `feed`: a malformed or hostile peer
 * ends in one `error` event, after which the session ignores further input
 * and the host closes that connection.
 */
export class RtmpServerSession {
  private readonly limits: RtmpLimits;
  private readonly listeners: Listeners = {};
  private readonly decoder: ChunkDecoder;
  private readonly sendBytes: (bytes: Buffer) => void;
  private readonly outChunkSizeWanted: number;
  private readonly windowAckSize: number;
  private readonly peerBandwidth: number;
  private readonly randomFill: (buf: Buffer) => void;
  private readonly timeouts: RtmpTimeouts;
  private readonly apps: readonly string[] | null;
  private readonly now: () => number;
  private readonly startedAt: number;
  private lastInputAt: number;

  private phaseValue: RtmpSessionPhase = 'handshake';
  /** Handshake bytes seen so far (C0 + C1 + C2 = 3073). */
  private hsReceived = 0;
  private c1: Buffer | null = Buffer.allocUnsafe(HANDSHAKE_SIZE);

  private outChunkSize = DEFAULT_CHUNK_SIZE;
  private received = 0;
  private lastAck = 0;
  private ackWindow: number;

  private connected = false;
  private appName = '';
  private nextStreamId = 1;
  private streamsCreated = 0;
  private publishing: PublishState | null = null;
  /** Identifies the publish request a host's accept/reject belongs to. */
  private decisionToken: object | null = null;
  private repliesLeft = MAX_REPEATABLE_REPLIES;

  constructor(options: RtmpSessionOptions) {
    this.limits = { ...defaultRtmpLimits, ...options.limits };
    this.sendBytes = options.send;
    this.outChunkSizeWanted = options.chunkSize ?? 4096;
    if (this.outChunkSizeWanted < 128 || this.outChunkSizeWanted > 0x7fffffff) {
      throw new RangeError('chunkSize must be at least 128');
    }
    this.windowAckSize = options.windowAckSize ?? 2_500_000;
    this.peerBandwidth = options.peerBandwidth ?? this.windowAckSize;
    this.ackWindow = this.windowAckSize;
    this.randomFill = options.randomFill ?? ((b) => void randomFillSync(b));
    // Until a publish is accepted the peer has proved nothing: it gets the small budget.
    const pre =
      options.prePublishLimits === undefined
        ? RECOMMENDED_PRE_PUBLISH_LIMITS
        : options.prePublishLimits;
    this.decoder = new ChunkDecoder(pre ? { ...this.limits, ...pre } : this.limits, (m) =>
      this.onMessage(m),
    );
    this.timeouts = {
      handshakeMs: RECOMMENDED_HANDSHAKE_TIMEOUT_MS,
      publishMs: RECOMMENDED_PUBLISH_TIMEOUT_MS,
      idleMs: RECOMMENDED_IDLE_TIMEOUT_MS,
      ...options.timeouts,
    };
    this.now = options.now ?? Date.now;
    this.apps = options.apps ?? null;
    this.startedAt = this.now();
    this.lastInputAt = this.startedAt;
  }

  /**
   * The session has no timer of its own: the host calls this every second or
   * so. A missed deadline (handshake not done `handshakeMs` after the start,
   * no accepted publish `publishMs` after the start, nothing received for
   * `idleMs`) stops the session like a protocol error (`error` event, code
   * RTMP_*_TIMEOUT), and the host closes the connection. Both deadlines count
   * from the start: a peer that is slow at every step still has to be done in time.
   */
  checkTimeouts(): RtmpProtocolError | undefined {
    const phase = this.phaseValue;
    if (phase !== 'handshake' && phase !== 'open') return undefined;
    const now = this.now();
    const t = this.timeouts;
    if (phase === 'handshake' && now - this.startedAt >= t.handshakeMs) {
      return this.fail(new RtmpProtocolError('RTMP_HANDSHAKE_TIMEOUT', 'handshake too slow'));
    }
    // A publish waiting for the host's decision is not published yet.
    if (!this.isPublishing && now - this.startedAt >= t.publishMs) {
      return this.fail(new RtmpProtocolError('RTMP_PUBLISH_TIMEOUT', 'no publish in time'));
    }
    if (now - this.lastInputAt >= t.idleMs) {
      return this.fail(new RtmpProtocolError('RTMP_IDLE_TIMEOUT', 'peer silent too long'));
    }
    return undefined;
  }

  on<K extends keyof RtmpSessionEventMap>(
    type: K,
    listener: (event: RtmpSessionEventMap[K]) => void,
  ): this {
    const list = (this.listeners[type] ??= []) as ((e: RtmpSessionEventMap[K]) => void)[];
    list.push(listener);
    return this;
  }

  private emit<K extends keyof RtmpSessionEventMap>(type: K, event: RtmpSessionEventMap[K]): void {
    const list = this.listeners[type];
    if (list) for (const l of list) l(event);
  }

  get phase(): RtmpSessionPhase {
    return this.phaseValue;
  }

  get handshakeComplete(): boolean {
    return this.phaseValue !== 'handshake' && this.hsReceived === 1 + 2 * HANDSHAKE_SIZE;
  }

  /** True while a stream is accepted and media flows. */
  get isPublishing(): boolean {
    return this.publishing?.status === 'active';
  }

  /** Total bytes fed. */
  get bytesReceived(): number {
    return this.received;
  }

  /** Bytes the session holds for incomplete input (bounded by `maxBufferedBytes` + a header). */
  get bufferedBytes(): number {
    return this.decoder.bufferedBytes + (this.c1 && this.hsReceived > 0 ? HANDSHAKE_SIZE : 0);
  }

  /**
   * Consumes bytes read from the socket. Never throws: a protocol error is
   * emitted as `error` and returned; the session then ignores further input.
   */
  feed(chunk: Buffer): RtmpProtocolError | undefined {
    if (this.phaseValue !== 'handshake' && this.phaseValue !== 'open') return undefined;
    this.received += chunk.length;
    this.lastInputAt = this.now();
    try {
      let data = chunk;
      if (this.phaseValue === 'handshake') {
        const used = this.handshake(data);
        data = data.subarray(used);
      }
      if (this.phaseValue === 'open' && data.length > 0) this.decoder.push(data);
      if (this.phaseValue === 'open' && this.received - this.lastAck >= this.ackWindow) {
        this.lastAck = this.received;
        this.sendControl(MessageType.Acknowledgement, u32(this.received >>> 0));
      }
      return undefined;
    } catch (err) {
      return this.fail(err);
    }
  }

  /** The connection is gone (socket closed by either side). Emits `unpublish` for a live stream. */
  end(): void {
    if (this.phaseValue === 'closed') return;
    const wasPublishing = this.publishing?.status === 'active' ? this.publishing : null;
    this.phaseValue = 'closed';
    this.c1 = null;
    this.decoder.reset();
    this.publishing = null;
    this.decisionToken = null;
    if (wasPublishing) {
      this.safeEmit('unpublish', { streamId: wasPublishing.streamId, reason: 'disconnect' });
    }
  }

  /** Sends a PingRequest; the peer's answer arrives as `pong`. Keeps NAT mappings warm too. */
  ping(timestamp: number): void {
    if (this.phaseValue !== 'open') return;
    const b = Buffer.allocUnsafe(6);
    b.writeUInt16BE(UserControlEvent.PingRequest, 0);
    b.writeUInt32BE(timestamp >>> 0, 2);
    this.sendControl(MessageType.UserControl, b);
  }

  /** Called by a PublishRequest. */
  decide(
    token: object,
    accept: boolean,
    options?: { status?: PublishRejectStatus; description?: string },
  ): boolean {
    if (token !== this.decisionToken || this.phaseValue !== 'open' || !this.publishing) {
      return false;
    }
    this.decisionToken = null;
    const streamId = this.publishing.streamId;
    if (accept) {
      this.publishing.status = 'active';
      this.decoder.setLimits(this.limits);
      this.sendUserControl(UserControlEvent.StreamBegin, streamId);
      this.sendStatus(streamId, 'status', 'NetStream.Publish.Start', 'Publishing started.');
    } else {
      this.publishing = null;
      this.sendStatus(
        streamId,
        'error',
        options?.status ?? 'NetStream.Publish.BadName',
        options?.description ?? 'Stream key rejected.',
      );
      this.phaseValue = 'rejected';
      // Nothing more from this peer matters: stop parsing and free what was buffered.
      this.decoder.reset();
    }
    return true;
  }

  private fail(err: unknown): RtmpProtocolError {
    const error =
      err instanceof RtmpProtocolError
        ? err
        : new RtmpProtocolError('RTMP_INTERNAL', 'session stopped by an unexpected error', {
            cause: err,
          });
    this.phaseValue = 'failed';
    this.c1 = null;
    this.decoder.reset();
    this.safeEmit('error', error);
    return error;
  }

  private safeEmit<K extends keyof RtmpSessionEventMap>(
    type: K,
    event: RtmpSessionEventMap[K],
  ): void {
    try {
      this.emit(type, event);
    } catch {
      // A host listener failing while we report the end must not turn into a throw from feed.
    }
  }

  // ---- handshake ---------------------------------------------------------

  /** Consumes handshake bytes; returns how many of `data` it used. */
  private handshake(data: Buffer): number {
    let pos = 0;
    if (this.hsReceived === 0 && data.length > 0) {
      if (data[0] !== RTMP_VERSION) {
        // 6 would be RTMPE (encrypted); anything else is not RTMP at all.
        throw new RtmpProtocolError(
          'RTMP_HANDSHAKE_VERSION_UNSUPPORTED',
          'unsupported RTMP version in C0',
        );
      }
      this.hsReceived = 1;
      pos = 1;
    }
    const c1End = 1 + HANDSHAKE_SIZE;
    if (this.hsReceived < c1End && pos < data.length) {
      const n = Math.min(c1End - this.hsReceived, data.length - pos);
      data.copy(this.c1!, this.hsReceived - 1, pos, pos + n);
      this.hsReceived += n;
      pos += n;
      if (this.hsReceived === c1End) this.sendS0S1S2();
    }
    const c2End = c1End + HANDSHAKE_SIZE;
    if (this.hsReceived >= c1End && pos < data.length) {
      // C2 echoes our S1; encoders differ in what exactly they echo, so it is not checked.
      const n = Math.min(c2End - this.hsReceived, data.length - pos);
      this.hsReceived += n;
      pos += n;
      if (this.hsReceived === c2End) {
        this.phaseValue = 'open';
      }
    }
    return pos;
  }

  private sendS0S1S2(): void {
    const out = Buffer.allocUnsafe(1 + 2 * HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    // S1: time 0, then four zero bytes (no server version), then random bytes.
    // Without a version a client that sent a digest C1 (ffmpeg does) does not
    // look for a server digest, so the simple reply serves both variants.
    out.fill(0, 1, 9);
    this.randomFill(out.subarray(9, 1 + HANDSHAKE_SIZE));
    // S2 echoes C1 whole, as the simple handshake asks.
    this.c1!.copy(out, 1 + HANDSHAKE_SIZE);
    this.c1 = null;
    this.sendBytes(out);
  }

  // ---- messages ----------------------------------------------------------

  private onMessage(m: RtmpMessage): void {
    // A decision (reject) or failure inside this same feed stops everything after it.
    if (this.phaseValue !== 'open') return;
    switch (m.typeId) {
      case MessageType.SetChunkSize: {
        const size = readU32(m.payload);
        if (size > 0x7fffffff) {
          throw new RtmpProtocolError('RTMP_CHUNK_SIZE_INVALID', 'chunk size has its top bit set');
        }
        this.decoder.setChunkSize(size);
        return;
      }
      case MessageType.Abort:
        this.decoder.abort(readU32(m.payload));
        return;
      case MessageType.Acknowledgement:
        readU32(m.payload);
        return;
      case MessageType.WindowAckSize:
        this.ackWindow = Math.max(MIN_ACK_WINDOW, readU32(m.payload));
        return;
      case MessageType.SetPeerBandwidth:
        if (m.payload.length < 5) throw invalidMessage('Set Peer Bandwidth too short');
        return;
      case MessageType.UserControl:
        this.onUserControl(m.payload);
        return;
      case MessageType.CommandAmf0:
        this.onCommand(m, amf0DecodeAll(m.payload, 0, this.limits));
        return;
      case MessageType.CommandAmf3:
        // AMF3 command messages start with a format byte, then AMF0 values.
        this.onCommand(m, amf0DecodeAll(m.payload, m.payload.length > 0 ? 1 : 0, this.limits));
        return;
      case MessageType.DataAmf0:
        this.onData(m, amf0DecodeAll(m.payload, 0, this.limits));
        return;
      case MessageType.DataAmf3:
        this.onData(m, amf0DecodeAll(m.payload, m.payload.length > 0 ? 1 : 0, this.limits));
        return;
      case MessageType.Audio:
      case MessageType.Video:
        this.onMedia(m.typeId, m.streamId, m.timestamp, m.payload);
        return;
      case MessageType.Aggregate:
        this.onAggregate(m);
        return;
      default:
        // Shared objects and unknown types: nothing a publisher needs from us.
        return;
    }
  }

  private onUserControl(p: Buffer): void {
    if (p.length < 2) throw invalidMessage('User Control message too short');
    const event = p.readUInt16BE(0);
    if (event === UserControlEvent.PingRequest) {
      if (p.length < 6) throw invalidMessage('PingRequest too short');
      const b = Buffer.allocUnsafe(6);
      b.writeUInt16BE(UserControlEvent.PingResponse, 0);
      p.copy(b, 2, 2, 6);
      if (this.takeReply()) this.sendControl(MessageType.UserControl, b);
    } else if (event === UserControlEvent.PingResponse) {
      if (p.length < 6) throw invalidMessage('PingResponse too short');
      this.emit('pong', { timestamp: p.readUInt32BE(2) });
    }
  }

  private onCommand(m: RtmpMessage, values: AmfValue[]): void {
    const name = values[0];
    if (typeof name !== 'string') {
      throw new RtmpProtocolError('RTMP_COMMAND_INVALID', 'command without a name');
    }
    const txn = typeof values[1] === 'number' ? values[1] : 0;
    switch (name) {
      case 'connect':
        return this.onConnect(txn, values[2]);
      case 'releaseStream':
        if (txn > 0 && this.takeReply()) this.sendCommand(0, '_result', txn, null, undefined);
        return;
      case 'FCPublish':
        if (!this.takeReply()) return;
        this.sendCommand(
          0,
          'onFCPublish',
          0,
          null,
          status('status', 'NetStream.Publish.Start', ''),
        );
        return;
      case 'createStream':
        return this.onCreateStream(txn);
      case 'publish':
        return this.onPublish(m.streamId, values);
      case 'FCUnpublish':
        if (this.takeReply())
          this.sendCommand(
            0,
            'onFCUnpublish',
            0,
            null,
            status('status', 'NetStream.Unpublish.Success', ''),
          );
        return this.stopPublishing(this.publishing?.streamId ?? 0, 'FCUnpublish');
      case 'deleteStream':
        return this.stopPublishing(typeof values[3] === 'number' ? values[3] : -1, 'deleteStream');
      case 'closeStream':
        return this.stopPublishing(m.streamId, 'closeStream');
      default:
        // _checkbw, getStreamLength, _result of our pings...: answering is optional.
        return;
    }
  }

  private onConnect(txn: number, cmd: AmfValue): void {
    if (this.connected) throw new RtmpProtocolError('RTMP_COMMAND_INVALID', 'connect sent twice');
    if (!isAmfObject(cmd) || typeof cmd.app !== 'string' || cmd.app.length > MAX_NAME_LENGTH) {
      throw new RtmpProtocolError('RTMP_COMMAND_INVALID', 'connect without a usable app');
    }
    this.connected = true;
    // OBS may append the query of the server URL to the app; the trailing slash is ffmpeg's.
    this.appName = cmd.app.split('?')[0]!.replace(/\/+$/, '');
    if (this.apps && !this.apps.includes(this.appName)) {
      // The peer's own name is not echoed: the description is the same for every miss.
      this.sendCommand(
        0,
        '_error',
        txn,
        null,
        status(
          'error',
          'NetConnection.Connect.Rejected',
          `Unknown application. Publish to /${this.apps[0] ?? ''}/<stream key>.`,
        ),
      );
      throw new RtmpProtocolError('RTMP_APP_REJECTED', 'connect to an application not served');
    }
    const event: RtmpConnectEvent = { app: this.appName, properties: cmd };
    if (typeof cmd.tcUrl === 'string') event.tcUrl = cmd.tcUrl;
    if (typeof cmd.flashVer === 'string') event.flashVer = cmd.flashVer;
    this.emit('connect', event);
    if (this.phaseValue !== 'open') return;
    this.sendControl(MessageType.WindowAckSize, u32(this.windowAckSize));
    const bw = Buffer.allocUnsafe(5);
    bw.writeUInt32BE(this.peerBandwidth, 0);
    bw[4] = 2; // dynamic
    this.sendControl(MessageType.SetPeerBandwidth, bw);
    this.sendControl(MessageType.SetChunkSize, u32(this.outChunkSizeWanted));
    this.outChunkSize = this.outChunkSizeWanted;
    this.sendCommand(
      0,
      '_result',
      txn,
      amfObject({ fmsVer: 'FMS/3,5,7,7009', capabilities: 31, mode: 1 }),
      amfObject({
        level: 'status',
        code: 'NetConnection.Connect.Success',
        description: 'Connection succeeded.',
        objectEncoding: 0,
      }),
    );
  }

  private onCreateStream(txn: number): void {
    if (!this.connected) {
      throw new RtmpProtocolError('RTMP_COMMAND_INVALID', 'createStream before connect');
    }
    if (this.streamsCreated >= this.limits.maxStreams) {
      throw new RtmpProtocolError('RTMP_COMMAND_INVALID', 'too many streams created');
    }
    this.streamsCreated++;
    const id = this.nextStreamId++;
    this.sendCommand(0, '_result', txn, null, id);
  }

  private onPublish(streamId: number, values: AmfValue[]): void {
    const name = values[3];
    if (!this.connected)
      throw new RtmpProtocolError('RTMP_COMMAND_INVALID', 'publish before connect');
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
      throw new RtmpProtocolError('RTMP_COMMAND_INVALID', 'publish without a usable name');
    }
    if (this.publishing) {
      // One publish per connection; the first one stands.
      if (this.takeReply()) {
        this.sendStatus(streamId, 'error', 'NetStream.Publish.BadName', 'Already publishing.');
      }
      return;
    }
    const q = name.indexOf('?');
    const streamKey = q < 0 ? name : name.slice(0, q);
    const query = q < 0 ? '' : name.slice(q + 1);
    const publishType = typeof values[4] === 'string' ? values[4] : 'live';
    this.publishing = { streamId, status: 'pending' };
    const token = {};
    this.decisionToken = token;
    this.emit(
      'publish',
      new PublishRequest(this, token, this.appName, streamKey, query, publishType, streamId),
    );
  }

  private stopPublishing(streamId: number, reason: UnpublishReason): void {
    const p = this.publishing;
    if (!p || p.streamId !== streamId) return;
    this.publishing = null;
    this.decisionToken = null;
    if (p.status === 'active') this.emit('unpublish', { streamId, reason });
  }

  private onData(m: RtmpMessage, values: AmfValue[]): void {
    const p = this.publishing;
    if (!p || p.status !== 'active') return;
    let i = 0;
    if (values[0] === '@setDataFrame') i = 1;
    if (values[i] !== 'onMetaData') return;
    const raw = values[i + 1];
    const props = raw instanceof AmfEcmaArray ? raw.properties : isAmfObject(raw) ? raw : null;
    if (!props) return;
    const payload = amf0Encode('onMetaData', new AmfEcmaArray(props));
    this.emit('metadata', {
      streamId: m.streamId,
      metadata: normaliseMetadata(props),
      tag: { type: FlvTagType.Script, timestamp: m.timestamp, payload },
    });
  }

  private onMedia(typeId: number, streamId: number, timestamp: number, payload: Buffer): void {
    const p = this.publishing;
    // Media before accept (or after a stop) has nowhere to go.
    if (!p || p.status !== 'active' || payload.length === 0) return;
    if (typeId === MessageType.Video) {
      const info = parseVideoTag(payload)!;
      this.emit('video', { streamId, tag: { type: FlvTagType.Video, timestamp, payload }, info });
    } else {
      const info = parseAudioTag(payload)!;
      this.emit('audio', { streamId, tag: { type: FlvTagType.Audio, timestamp, payload }, info });
    }
  }

  /** Aggregate messages hold FLV tags back to back; their times are relative to the first. */
  private onAggregate(m: RtmpMessage): void {
    const b = m.payload;
    let pos = 0;
    let base: number | null = null;
    while (pos + 11 <= b.length && this.phaseValue === 'open') {
      const type = b[pos]!;
      const size = b.readUIntBE(pos + 1, 3);
      const ts = (b.readUIntBE(pos + 4, 3) | (b[pos + 7]! << 24)) >>> 0;
      if (pos + 11 + size > b.length) throw invalidMessage('aggregate sub-message truncated');
      base ??= ts;
      const payload = b.subarray(pos + 11, pos + 11 + size);
      const t = (m.timestamp + ts - base) >>> 0;
      if (type === MessageType.Audio || type === MessageType.Video) {
        this.onMedia(type, m.streamId, t, payload);
      } else if (type === MessageType.DataAmf0) {
        this.onData({ ...m, timestamp: t }, amf0DecodeAll(payload, 0, this.limits));
      }
      pos += 11 + size + 4; // the back pointer after each sub-message
    }
  }

  // ---- output ------------------------------------------------------------

  /**
   * Replies a peer can ask for again and again (pings, releaseStream...) are
   * capped: a peer that writes requests and never reads must not grow the
   * host's socket buffer with our answers.
   */
  private takeReply(): boolean {
    if (this.repliesLeft === 0) return false;
    this.repliesLeft--;
    return true;
  }

  private sendControl(typeId: number, payload: Buffer): void {
    this.sendBytes(encodeChunks(CSID_CONTROL, typeId, 0, 0, payload, this.outChunkSize));
  }

  private sendUserControl(event: number, value: number): void {
    const b = Buffer.allocUnsafe(6);
    b.writeUInt16BE(event, 0);
    b.writeUInt32BE(value >>> 0, 2);
    this.sendControl(MessageType.UserControl, b);
  }

  private sendCommand(streamId: number, ...values: AmfValue[]): void {
    const csid = streamId === 0 ? CSID_COMMAND : CSID_STATUS;
    this.sendBytes(
      encodeChunks(
        csid,
        MessageType.CommandAmf0,
        streamId,
        0,
        amf0Encode(...values),
        this.outChunkSize,
      ),
    );
  }

  private sendStatus(
    streamId: number,
    level: 'status' | 'error',
    code: string,
    description: string,
  ): void {
    this.sendCommand(streamId, 'onStatus', 0, null, status(level, code, description));
  }
}

function status(level: string, code: string, description: string): AmfObject {
  return amfObject({ level, code, description });
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function readU32(p: Buffer): number {
  if (p.length < 4) throw invalidMessage('control message too short');
  return p.readUInt32BE(0);
}

function invalidMessage(message: string): RtmpProtocolError {
  return new RtmpProtocolError('RTMP_MESSAGE_INVALID', message);
}
