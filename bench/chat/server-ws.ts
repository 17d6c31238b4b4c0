// The floor: a bare `ws` server relaying every message to every client. Prints `PORT <n>`.
import { answerGc } from './gc-hook.js';
import { WebSocket, WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    for (const c of wss.clients)
      if (c.readyState === WebSocket.OPEN) c.send(data, { binary: isBinary });
  });
});
wss.on('listening', () => {
  const a = wss.address();
  process.stdout.write(`PORT ${a && typeof a === 'object' ? a.port : 0}\n`);
});
process.once('SIGTERM', () => {
  wss.close();
  process.exit(0);
});
answerGc();
