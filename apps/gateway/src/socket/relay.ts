import type { Duplex } from 'node:stream';
import { CLOSE_OPCODE, FrameBoundaries, closeFrame } from './frames.js';

/** Close code 1012: the service is restarting; the client reconnects (RFC 6455 §7.4, IANA registry). */
export const SERVICE_RESTART = 1012;
/** How long a stopping relay waits for the frame in progress to end and the client to answer its close. */
const STOP_GRACE_MS = 2000;

/**
 * One relayed WebSocket: the client's connection and the upstream's, bytes
 * copied both ways as they come, with each direction's frame boundaries
 * followed so the gateway can end the socket itself with a close frame of its
 * own, between frames, when it stops.
 */
export class Relay {
  /** Resolves once both connections are gone. */
  readonly closed: Promise<void>;
  private readonly down: FrameBoundaries;
  private readonly up: FrameBoundaries;
  /** The upstream has sent its close frame: the close handshake is under way already. */
  private upstreamClosing = false;
  private stopping = false;
  private closeSent = false;

  /** `clientHead` and `upstreamHead`: bytes each side sent along with the upgrade. */
  constructor(
    private readonly client: Duplex,
    private readonly upstream: Duplex,
    clientHead: Buffer,
    upstreamHead: Buffer,
  ) {
    this.down = new FrameBoundaries((opcode) => {
      if (opcode === CLOSE_OPCODE) this.upstreamClosing = true;
    });
    this.up = new FrameBoundaries((opcode) => {
      // The client answered the gateway's close: the handshake is complete.
      if (opcode === CLOSE_OPCODE && this.closeSent) this.client.end();
    });
    this.closed = new Promise((resolve) => {
      let open = 2;
      const gone = () => {
        if (--open === 0) resolve();
      };
      client.once('close', gone);
      upstream.once('close', gone);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    if (upstreamHead.length > 0) this.fromUpstream(upstreamHead);
    if (clientHead.length > 0) this.fromClient(clientHead);
    upstream.on('data', (chunk: Buffer) => this.fromUpstream(chunk));
    client.on('data', (chunk: Buffer) => this.fromClient(chunk));
  }

  private fromUpstream(chunk: Buffer): void {
    if (this.closeSent) return;
    if (!this.stopping || this.upstreamClosing) {
      this.down.consume(chunk);
      this.forward(chunk, this.upstream, this.client);
      return;
    }
    const n = this.down.consume(chunk, true);
    if (n > 0) this.forward(chunk.subarray(0, n), this.upstream, this.client);
    if (this.down.atBoundary && !this.upstreamClosing) this.sendClose();
  }

  private fromClient(chunk: Buffer): void {
    this.up.consume(chunk);
    if (!this.closeSent) this.forward(chunk, this.client, this.upstream);
  }

  private forward(chunk: Buffer, from: Duplex, to: Duplex): void {
    if (!to.writable) return;
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  }

  private sendClose(): void {
    this.closeSent = true;
    this.upstream.destroy();
    if (this.client.writable) this.client.write(closeFrame(SERVICE_RESTART, 'service restart'));
    this.client.resume();
  }

  /**
   * Ends the socket with 1012 at the next frame boundary of what the
   * upstream sends (at once when between frames). Resolves once both
   * connections are gone; a client that does not answer, or an upstream that
   * stalls mid-frame, is cut off after a short grace.
   */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      // A close handshake the upstream started runs its course: the client gets the upstream's code.
      if (!this.upstreamClosing && this.down.atBoundary) this.sendClose();
      const cut = setTimeout(() => {
        this.client.destroy();
        this.upstream.destroy();
      }, STOP_GRACE_MS);
      cut.unref();
      void this.closed.then(() => clearTimeout(cut));
    }
    return this.closed;
  }
}

/** Every live relay of one gateway, and whether it has stopped taking new ones. */
export class Relays {
  private readonly live = new Set<Relay>();
  stopping = false;

  add(client: Duplex, upstream: Duplex, clientHead: Buffer, upstreamHead: Buffer): Relay {
    const relay = new Relay(client, upstream, clientHead, upstreamHead);
    this.live.add(relay);
    void relay.closed.then(() => this.live.delete(relay));
    if (this.stopping) void relay.stop();
    return relay;
  }

  get size(): number {
    return this.live.size;
  }

  /** Stops taking sockets and ends every relayed one with 1012; resolves once all are gone. */
  async drain(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.live].map((r) => r.stop()));
  }
}
