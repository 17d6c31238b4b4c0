// The reference peer: Socket.IO doing room broadcast. Prints `PORT <n>`.
import { answerGc } from './gc-hook.js';
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer();
const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false });
io.on('connection', (socket) => {
  void socket.join('room');
  socket.on('shout', (body: string) => {
    io.to('room').emit('shout', body);
  });
});
http.listen(0, '127.0.0.1', () => {
  const a = http.address();
  process.stdout.write(`PORT ${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.once('SIGTERM', () => {
  void io.close();
  process.exit(0);
});
answerGc();
