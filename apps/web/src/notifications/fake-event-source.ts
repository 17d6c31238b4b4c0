import { act } from '@testing-library/react';
import type { Notification } from '@neon/contracts';

/** jsdom has no EventSource: this one is driven by the test as the server would drive it. */
export class FakeEventSource {
  static all: FakeEventSource[] = [];
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readyState = 0;
  onopen: ((e: Event) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;
  private listeners = new Map<string, ((e: MessageEvent<string>) => void)[]>();
  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
  }
  addEventListener(type: string, fn: (e: MessageEvent<string>) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.readyState = 2;
  }
  token() {
    return new URL(this.url, location.href).searchParams.get('token');
  }
  open() {
    act(() => {
      this.readyState = 1;
      this.onopen?.(new Event('open'));
    });
  }
  push(n: Notification) {
    act(() => {
      for (const fn of this.listeners.get('notification') ?? [])
        fn(new MessageEvent('notification', { data: JSON.stringify(n), lastEventId: n.id }));
    });
  }
  /** A named event without an id (the public live topics). */
  emit(type: string, data: unknown) {
    act(() => {
      for (const fn of this.listeners.get(type) ?? [])
        fn(new MessageEvent(type, { data: JSON.stringify(data) }));
    });
  }
  fail() {
    act(() => {
      this.readyState = 2;
      this.onerror?.(new Event('error'));
    });
  }
}
