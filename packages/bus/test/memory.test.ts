import { MemoryBus } from '@neon/bus';
import { busConformance } from './conformance.js';

// One process: every "instance" is the same in-process bus.
busConformance('in-process', false, async () => {
  const shared = new MemoryBus({ producer: 'test' });
  return {
    crossProcess: false,
    open: async () => ({
      kind: shared.kind,
      publish: shared.publish.bind(shared),
      subscribe: shared.subscribe.bind(shared),
      ping: shared.ping.bind(shared),
      pending: shared.pending.bind(shared),
      close: async () => undefined,
    }),
    cleanup: () => shared.close(),
  };
});
