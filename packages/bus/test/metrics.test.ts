import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import {
  enqueueEvent,
  MemoryBus,
  OutboxRelay,
  outboxTableSql,
  registerBusMetrics,
} from '@neon/bus';
import { openPglite, waitFor } from '@neon/testing';

describe('bus_consumer_pending', () => {
  it("shows a service's own groups with their lag, once, on a bus every service shares", async () => {
    const bus = new MemoryBus({ producer: 'test' });
    const chat = new Registry();
    const live = new Registry();
    registerBusMetrics(chat, bus, 'chat');
    registerBusMetrics(live, bus, 'live');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await bus.subscribe({
      group: 'chat.users',
      types: ['live.viewers.updated.v1'],
      handler: () => gate,
    });
    await bus.subscribe({
      group: 'live.users',
      types: ['live.viewers.updated.v1'],
      handler: async () => undefined,
    });
    for (const viewers of [1, 2])
      await bus.publish('live.viewers.updated.v1', { channel: 'c', broadcastId: 'b', viewers });
    const value = async (r: Registry, group: string) =>
      (await r.getSingleMetric('bus_consumer_pending')!.get()).values.find(
        (v) => v.labels.group === group,
      )?.value;
    await waitFor(async () => (await value(live, 'live.users')) === 0, { what: 'live caught up' });
    assert.equal(await value(chat, 'chat.users'), 2);
    assert.equal(await value(chat, 'live.users'), undefined, "another service's group");
    assert.equal(await value(live, 'chat.users'), undefined);
    release();
    await waitFor(async () => (await value(chat, 'chat.users')) === 0, { what: 'chat caught up' });
    await bus.close();
  });

  it('counts an event waiting out its back-off after a failed delivery, until it is dropped', async () => {
    const bus = new MemoryBus({ producer: 'test' });
    let attempts = 0;
    await bus.subscribe({
      group: 'chat.failing',
      types: ['live.viewers.updated.v1'],
      maxAttempts: 3,
      handler: async () => {
        attempts++;
        throw new Error('always fails');
      },
    });
    await bus.publish('live.viewers.updated.v1', { channel: 'c', broadcastId: 'b', viewers: 1 });
    const samples: number[] = [];
    while (attempts < 3) {
      samples.push((await bus.pending()).get('chat.failing')!);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(samples.length > 5, `sampled through the back-off: ${samples.length}`);
    assert.deepEqual(new Set(samples), new Set([1]), 'one event behind, however it waits');
    await waitFor(async () => (await bus.pending()).get('chat.failing') === 0, {
      what: 'dropped after its last attempt',
    });
    await bus.close();
  });
});

describe('bus_outbox_pending and bus_outbox_oldest_seconds', () => {
  it('show what a schema recorded and could not publish yet, and how long it has waited', async () => {
    const db = await openPglite();
    const down = new MemoryBus({ producer: 'test' });
    await down.close();
    const up = new MemoryBus({ producer: 'test' });
    const logger = { warn: () => undefined, error: () => undefined };
    try {
      await db.query('CREATE SCHEMA shop');
      await db.query(outboxTableSql('shop'));
      const registry = new Registry();
      const stuck = new OutboxRelay(db, down, logger, { schema: 'shop' });
      stuck.registerMetrics(registry);
      const read = async () => {
        // Past the half second one scrape's query serves.
        await new Promise((resolve) => setTimeout(resolve, 600));
        const value = async (name: string) =>
          (await registry.getSingleMetric(name)!.get()).values.find(
            (v) => v.labels.schema === 'shop',
          )?.value;
        return {
          pending: await value('bus_outbox_pending'),
          oldest: await value('bus_outbox_oldest_seconds'),
        };
      };
      assert.deepEqual(await read(), { pending: 0, oldest: 0 });
      for (const viewers of [1, 2])
        await enqueueEvent(db, 'shop', 'live.viewers.updated.v1', {
          channel: 'c',
          broadcastId: 'b',
          viewers,
        });
      await stuck.flush().catch(() => undefined); // the bus is down: both stay
      const waiting = await read();
      assert.equal(waiting.pending, 2);
      assert.ok(waiting.oldest! > 0.5, `waited ${waiting.oldest} s`);
      await new OutboxRelay(db, up, logger, { schema: 'shop' }).flush();
      assert.deepEqual(await read(), { pending: 0, oldest: 0 });
    } finally {
      await up.close();
      await db.close();
    }
  });
});
