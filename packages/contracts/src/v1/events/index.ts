import type { Static } from 'typebox';
import { identityEvents } from './identity.js';
import { channelsEvents } from './channels.js';
import { liveEvents } from './live.js';
import { chatEvents } from './chat.js';
import { paymentsEvents } from './payments.js';
import { notifyEvents } from './notify.js';
import type { Envelope } from './envelope.js';

export * from './envelope.js';

/** The catalogue of every event on the bus, by subject. */
export const eventSchemas = {
  ...identityEvents,
  ...channelsEvents,
  ...liveEvents,
  ...chatEvents,
  ...paymentsEvents,
  ...notifyEvents,
};

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = Static<(typeof eventSchemas)[T]>;
export type EventOf<T extends EventType> = Envelope<T, EventData<T>>;
export type AnyEvent = { [T in EventType]: EventOf<T> }[EventType];

export function isEventType(value: string): value is EventType {
  return Object.prototype.hasOwnProperty.call(eventSchemas, value);
}
