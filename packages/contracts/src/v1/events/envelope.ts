import Type, { type Static, type TSchema } from 'typebox';

/** Subjects read `<domain>.<entity>.<verb>.v<N>`. */
export const EVENT_SUBJECT_PATTERN =
  /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[1-9][0-9]*$/;

export const EnvelopeBase = Type.Object({
  id: Type.String({ description: 'UUIDv7; consumers are idempotent on it' }),
  type: Type.String({ pattern: EVENT_SUBJECT_PATTERN.source }),
  occurredAt: Type.String({ format: 'date-time' }),
  producer: Type.String(),
});

export interface Envelope<TType extends string = string, TData = unknown> {
  id: string;
  type: TType;
  occurredAt: string;
  producer: string;
  data: TData;
}

export type EventSchemas = Record<string, TSchema>;
export type DataOf<S extends TSchema> = Static<S>;
