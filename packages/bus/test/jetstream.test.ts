import { JetStreamBus } from '@neon/bus';
import { deleteStream, engines, skipUnless, uniqueName } from '@neon/testing';
import { busConformance } from './conformance.js';

const { natsUrl } = engines();

busConformance('NATS JetStream', skipUnless(natsUrl, 'TEST_NATS_URL'), async () => {
  const namespace = uniqueName('T').toUpperCase();
  return {
    crossProcess: true,
    open: (producer) => JetStreamBus.connect({ url: natsUrl!, producer, namespace }),
    cleanup: () => deleteStream(natsUrl!, namespace),
  };
});
