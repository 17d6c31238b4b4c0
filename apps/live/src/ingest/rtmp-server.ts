import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '@neon/kit';
import type { BroadcastManager } from '../broadcasts/broadcast-manager.js';
import type { StreamKeyService } from '../stream-keys/stream-key.service.js';

export interface RtmpIngestOptions {
  logger: Logger;
  keys: StreamKeyService;
  broadcasts: BroadcastManager;
}

export class RtmpIngestServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  constructor(private readonly o: RtmpIngestOptions) {}

  port(): number | null {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : null;
  }

  async listen(host: string, port: number): Promise<void> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
