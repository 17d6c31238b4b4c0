import { useEffect, useSyncExternalStore } from 'react';
import type { LiveStatusEvent, ViewersEvent } from '@neon/contracts';
import { api } from '../api/api';
import { useAppDispatch, type AppDispatch, type RootState } from '../store';
import { STREAM_RETRY_MS } from './stream';

/** The stream answers at most this many channel topics; a page showing more hears the first ones. */
export const MAX_PRESENCE_CHANNELS = 100;
/** Topic changes within this window (a page mounting several widgets) open one stream, not several. */
const SETTLE_MS = 50;

interface Want {
  channels: readonly string[];
  directory: boolean;
  dispatch: AppDispatch;
}

/**
 * One anonymous notification stream for every live badge, viewer count and
 * live list on the page (browsers allow few connections per host): its topics
 * are the union of what the mounted components watch, and it is reopened when
 * that union changes. What it hears is written into the cached API answers, so
 * the components show it without asking the server again.
 */
const wants = new Set<Want>();
let source: EventSource | null = null;
let openKey = '';
let connected = false;
const listeners = new Set<() => void>();
let settle: ReturnType<typeof setTimeout> | undefined;
let retry: ReturnType<typeof setTimeout> | undefined;

function topics(): { channels: string[]; directory: boolean } {
  const channels = new Set<string>();
  let directory = false;
  for (const w of wants) {
    for (const c of w.channels) channels.add(c.toLowerCase());
    directory ||= w.directory;
  }
  return { channels: [...channels].sort().slice(0, MAX_PRESENCE_CHANNELS), directory };
}

function setConnected(on: boolean): void {
  connected = on;
  for (const l of listeners) l();
}

function dispatches(): Set<AppDispatch> {
  return new Set([...wants].map((w) => w.dispatch));
}

function reconcile(): void {
  clearTimeout(settle);
  settle = setTimeout(() => {
    const { channels, directory } = topics();
    const key = channels.length === 0 && !directory ? '' : `${channels.join(',')}|${directory}`;
    if (key === openKey && (source || retry)) return;
    close();
    openKey = key;
    if (key !== '') open(channels, directory, false);
  }, SETTLE_MS);
}

function close(): void {
  clearTimeout(retry);
  retry = undefined;
  source?.close();
  source = null;
  if (connected) setConnected(false);
}

function open(channels: string[], directory: boolean, catchUp: boolean): void {
  const q = new URLSearchParams();
  if (channels.length > 0) q.set('channels', channels.join(','));
  if (directory) q.set('directory', 'true');
  const es = new EventSource(`/api/v1/notifications/stream?${q.toString()}`);
  source = es;
  es.onopen = () => {
    setConnected(true);
    // What changed while the stream was away is fetched once; from now on it is pushed.
    if (catchUp) for (const d of dispatches()) d(api.util.invalidateTags(['Streams', 'Stream']));
  };
  es.addEventListener('viewers', (e: MessageEvent<string>) => {
    const v = parse<ViewersEvent>(e.data);
    if (v) for (const d of dispatches()) d(viewersChanged(v));
  });
  es.addEventListener('live', (e: MessageEvent<string>) => {
    const s = parse<LiveStatusEvent>(e.data);
    if (s) for (const d of dispatches()) d(statusChanged(s));
  });
  es.onerror = () => {
    if (source !== es) return;
    // EventSource would retry by itself, but a closed one (an error status) would not: reopen.
    es.close();
    source = null;
    setConnected(false);
    retry = setTimeout(() => {
      retry = undefined;
      if (openKey !== '') open(channels, directory, true);
    }, STREAM_RETRY_MS);
  };
}

function parse<T>(data: string): T | null {
  try {
    return JSON.parse(data) as T;
  } catch {
    return null;
  }
}

/** A pushed viewer count, written into every cached answer that shows the channel. */
export const viewersChanged =
  ({ channel, viewers }: ViewersEvent) =>
  (dispatch: AppDispatch, getState: () => RootState) => {
    const state = getState();
    dispatch(
      api.util.updateQueryData('channelStream', channel, (d) => {
        if (d.live && d.stream) d.stream.viewers = viewers;
      }),
    );
    dispatch(
      api.util.updateQueryData('streams', undefined, (d) => {
        for (const s of d.items) if (s.channel === channel) s.viewers = viewers;
      }),
    );
    for (const slug of api.util.selectCachedArgsForQuery(state, 'categoryStreams'))
      dispatch(
        api.util.updateQueryData('categoryStreams', slug, (d) => {
          for (const c of d.items) if (c.username === channel && c.live) c.viewers = viewers;
        }),
      );
    for (const arg of api.util.selectCachedArgsForQuery(state, 'myFollows'))
      dispatch(
        api.util.updateQueryData('myFollows', arg, (d) => {
          for (const c of d.items) if (c.username === channel && c.live) c.viewers = viewers;
        }),
      );
  };

/**
 * A channel went live, was retitled or ended. An end or a new title is written
 * in place; a broadcast the page does not know yet is fetched (its playback
 * addresses and start time are not in the event).
 */
export const statusChanged =
  (s: LiveStatusEvent) => (dispatch: AppDispatch, getState: () => RootState) => {
    const state = getState();
    let unknown = false;
    const cached = api.endpoints.channelStream.select(s.channel)(state).data;
    if (cached) {
      if (!s.live) {
        if (cached.stream?.broadcastId === s.broadcastId)
          dispatch(
            api.util.updateQueryData('channelStream', s.channel, (d) => {
              d.live = false;
              d.stream = null;
            }),
          );
      } else if (cached.stream?.broadcastId === s.broadcastId) {
        dispatch(
          api.util.updateQueryData('channelStream', s.channel, (d) => {
            if (d.stream && s.title !== null) d.stream.title = s.title;
          }),
        );
      } else dispatch(api.util.invalidateTags([{ type: 'Stream', id: s.channel }]));
    }
    dispatch(
      api.util.updateQueryData('streams', undefined, (d) => {
        const i = d.items.findIndex((x) => x.broadcastId === s.broadcastId);
        if (!s.live) {
          if (i >= 0) d.items.splice(i, 1);
        } else if (i >= 0) {
          if (s.title !== null) d.items[i]!.title = s.title;
        } else unknown = true;
      }),
    );
    for (const slug of api.util.selectCachedArgsForQuery(state, 'categoryStreams'))
      dispatch(
        api.util.updateQueryData('categoryStreams', slug, (d) => {
          const i = d.items.findIndex((x) => x.username === s.channel);
          if (!s.live) {
            if (i >= 0) d.items.splice(i, 1);
          } else if (i >= 0) {
            if (s.title !== null) d.items[i]!.title = s.title;
          } else unknown = true;
        }),
      );
    for (const arg of api.util.selectCachedArgsForQuery(state, 'myFollows'))
      dispatch(
        api.util.updateQueryData('myFollows', arg, (d) => {
          const c = d.items.find((x) => x.username === s.channel);
          if (!c) return;
          if (s.live && !c.live) unknown = true;
          if (!s.live) {
            c.live = false;
            c.viewers = 0;
          } else if (s.title !== null) c.title = s.title;
        }),
      );
    if (unknown) dispatch(api.util.invalidateTags(['Streams', 'Follows']));
  };

/** Whether live status is being pushed right now: while it is not, pages poll as before. */
export function usePresencePushed(): boolean {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => connected,
  );
}

/**
 * Keeps the live status and viewer counts of `channels` (and, with
 * `directory`, which channels are live at all) current by push.
 */
export function useLivePresence(channels: readonly string[], directory = false): void {
  const dispatch = useAppDispatch();
  const key = channels.join(',');
  useEffect(() => {
    // Without EventSource (an old browser, a test page) the caller keeps polling.
    if (typeof EventSource === 'undefined') return;
    const want: Want = {
      channels: key === '' ? [] : key.split(','),
      directory,
      dispatch,
    };
    wants.add(want);
    reconcile();
    return () => {
      wants.delete(want);
      reconcile();
    };
  }, [key, directory, dispatch]);
}
