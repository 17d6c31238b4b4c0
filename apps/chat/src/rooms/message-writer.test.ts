import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from '@neon/contracts';
import type { StoredMessage } from '../store/chat.repository.js';
import { MessageWriter } from './message-writer.js';

const msg = (id: string): ChatMessage => ({
  id,
  body: id,
  sender: { id: 'u', username: 'u', displayName: 'u', badges: [] },
  sentAt: new Date(0).toISOString(),
});

test('batches within the window, in order, and acknowledges after delivery', async () => {
  const written: string[][] = [];
  const delivered: string[][] = [];
  const w = new MessageWriter(
    async (batch: readonly StoredMessage[]) => {
      written.push(batch.map((m) => m.message.id));
    },
    async (batch) => {
      delivered.push(batch.map((m) => m.message.id));
    },
    20,
    3,
  );
  const acks: string[] = [];
  const add = (id: string) =>
    w.enqueue({ channel: 'c', message: msg(id), done: (err) => !err && acks.push(id) });
  ['a', 'b', 'c', 'd'].forEach(add);
  await w.drain();
  assert.deepEqual(written, [['a', 'b', 'c'], ['d']]);
  assert.deepEqual(delivered, written);
  assert.deepEqual(acks, ['a', 'b', 'c', 'd']);
});

test('a failed write refuses its batch and the writer carries on', async () => {
  let fail = true;
  const w = new MessageWriter(
    async () => {
      if (fail) {
        fail = false;
        throw new Error('db down');
      }
    },
    async () => undefined,
    5,
    10,
  );
  const outcome: string[] = [];
  w.enqueue({ channel: 'c', message: msg('x'), done: (e) => outcome.push(e ? 'x:err' : 'x:ok') });
  await new Promise((r) => setTimeout(r, 30));
  w.enqueue({ channel: 'c', message: msg('y'), done: (e) => outcome.push(e ? 'y:err' : 'y:ok') });
  await w.drain();
  assert.deepEqual(outcome, ['x:err', 'y:ok']);
});

test('the window counts from arrival: a message that waited long enough already is written at once', () => {
  const written: string[] = [];
  const w = new MessageWriter(
    async (batch: readonly StoredMessage[]) => {
      written.push(...batch.map((m) => m.message.id));
    },
    async () => undefined,
    60_000,
    10,
  );
  w.enqueue(
    { channel: 'c', message: msg('old'), done: () => undefined },
    performance.now() - 60_000,
  );
  assert.deepEqual(written, ['old']);
  return w.drain();
});
