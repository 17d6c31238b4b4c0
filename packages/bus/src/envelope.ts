import Value from 'typebox/value';
import {
  eventSchemas,
  isEventType,
  type EventData,
  type EventOf,
  type EventType,
  uuidv7,
} from '@neon/contracts';
import type { PublishOptions } from './types.js';

export class EventValidationError extends Error {
  constructor(type: string, detail: string) {
    super(`event ${type} does not match its contract: ${detail}`);
    this.name = 'EventValidationError';
  }
}

/** Builds the envelope and checks the data against the contract before anything leaves. */
export function makeEnvelope<T extends EventType>(
  type: T,
  data: EventData<T>,
  producer: string,
  options: PublishOptions = {},
): EventOf<T> {
  if (!isEventType(type)) throw new EventValidationError(type, 'unknown event type');
  const schema = eventSchemas[type];
  if (!Value.Check(schema, data)) {
    const first = Value.Errors(schema, data)[0];
    throw new EventValidationError(
      type,
      first ? `${first.instancePath || '/'} ${first.message}` : 'invalid',
    );
  }
  const at = options.occurredAt ?? new Date();
  return {
    id: options.id ?? uuidv7(at.getTime()),
    type,
    occurredAt: at.toISOString(),
    producer,
    data,
  };
}

/** Parses an envelope received from the wire; null when it is not one. */
export function parseEnvelope(raw: unknown): EventOf<EventType> | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const e = raw as Record<string, unknown>;
  if (typeof e.id !== 'string' || typeof e.type !== 'string' || typeof e.occurredAt !== 'string')
    return null;
  if (typeof e.producer !== 'string' || !('data' in e) || !isEventType(e.type)) return null;
  return e as unknown as EventOf<EventType>;
}
