import { Counter, Gauge, type Registry } from '@neon/kit';
import type { ChatService } from './rooms/chat.service.js';
import type { SocketServer } from './socket/socket-server.js';

/** Sockets open and messages stored or refused on this replica, read at scrape time. */
export function registerChatMetrics(
  registry: Registry,
  sockets: Pick<SocketServer, 'size' | 'refusedMessages'>,
  chat: Pick<ChatService, 'storedMessages'>,
): void {
  new Gauge({
    name: 'chat_connections',
    help: 'Chat sockets open on this replica (signed in or anonymous)',
    registers: [registry],
    collect() {
      this.set(sockets.size);
    },
  });
  new Counter({
    name: 'chat_messages_total',
    help: 'Chat messages stored since start from senders on this replica',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(chat.storedMessages);
    },
  });
  new Counter({
    name: 'chat_messages_refused_total',
    help: 'Chat messages refused since start, by code (CHAT_RATE_LIMITED, CHAT_SLOW_MODE, CHAT_BANNED, …)',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, n] of sockets.refusedMessages) this.inc({ code }, n);
    },
  });
}
