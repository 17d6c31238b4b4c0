import { render } from '@testing-library/react';
import { Provider } from 'react-redux';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router';
import { vi } from 'vitest';
import type { Channel, Me } from '@neon/contracts';
import { signedIn, signedOut } from './api/session';
import { createStore } from './store';

/** One recorded request: what the component asked the server for. */
export interface Call {
  method: string;
  path: string;
  search: URLSearchParams;
  body: unknown;
}

/** An answer: a JSON body with a status, or a promise of one (to hold a request open). */
export type Answer =
  { status?: number; body: unknown } | Promise<{ status?: number; body: unknown }>;
export type Handler = (call: Call) => Answer | undefined;

/**
 * Stands in for the gateway: each request goes to the first handler that
 * answers it; an unanswered one is a 404 problem, as the gateway would say.
 * Returns the list of calls made, in order.
 */
export function serve(...handlers: Handler[]): Call[] {
  const calls: Call[] = [];
  // Node's Request takes no relative URL; the page's own origin is what a browser resolves against.
  const NodeRequest = globalThis.Request;
  vi.stubGlobal(
    'Request',
    class extends NodeRequest {
      constructor(input: RequestInfo | URL, init?: RequestInit) {
        super(typeof input === 'string' ? new URL(input, location.href) : input, init);
      }
    },
  );
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const url = new URL(request.url, location.href);
    const text = await request.text();
    const call: Call = {
      method: request.method,
      path: url.pathname,
      search: url.searchParams,
      body: text ? (JSON.parse(text) as unknown) : undefined,
    };
    calls.push(call);
    let answer: Answer | undefined;
    for (const h of handlers) {
      answer = h(call);
      if (answer) break;
    }
    const { status = 200, body } = (await answer) ?? {
      status: 404,
      body: { type: 'about:blank', title: 'Not Found', status: 404, code: 'NOT_FOUND' },
    };
    const problem = status >= 400;
    // 204 No Content, as the server answers a DELETE: a Response of that status has no body.
    return new Response(status === 204 ? null : JSON.stringify(body), {
      status,
      headers: { 'content-type': problem ? 'application/problem+json' : 'application/json' },
    });
  });
  return calls;
}

/** A route answer for one method and exact path. */
export function route(
  method: string,
  path: string,
  answer: Answer | ((call: Call) => Answer),
): Handler {
  return (call) =>
    call.method === method && call.path === path
      ? typeof answer === 'function'
        ? answer(call)
        : answer
      : undefined;
}

export function problem(
  status: number,
  code: string,
  errors?: { field: string; message: string }[],
) {
  return {
    status,
    body: { type: 'about:blank', title: code, status, code, ...(errors ? { errors } : {}) },
  };
}

export function me(username: string, roles: Me['roles'] = ['user']): Me {
  return {
    id: `id-${username}`,
    username,
    displayName: username,
    bio: '',
    avatarUrl: null,
    createdAt: '2025-01-01T00:00:00.000Z',
    email: `${username}@example.test`,
    emailVerified: true,
    roles,
  };
}

export function channel(username: string, over: Partial<Channel> = {}): Channel {
  return {
    username,
    displayName: username,
    avatarUrl: null,
    title: '',
    category: null,
    tags: [],
    about: '',
    links: [],
    language: 'en',
    mature: false,
    followers: 0,
    live: false,
    viewers: 0,
    startedAt: null,
    following: false,
    role: null,
    ...over,
  };
}

function Where() {
  const location = useLocation();
  return (
    <output data-testid="location" hidden>
      {location.pathname + location.search}
    </output>
  );
}

/**
 * Renders a page or component with a fresh store and router, signed in as
 * `user` (or signed out). `location` reads where the app navigated to.
 */
export function renderApp(
  ui: React.ReactNode,
  { user, at = '/', path = '*' }: { user?: Me | null; at?: string; path?: string } = {},
) {
  const store = createStore();
  store.dispatch(user ? signedIn({ accessToken: 'token', expiresIn: 900, user }) : signedOut());
  const result = render(
    <Provider store={store}>
      <MemoryRouter initialEntries={[at]}>
        <Routes>
          <Route path={path} element={ui} />
          <Route path="*" element={null} />
        </Routes>
        <Where />
      </MemoryRouter>
    </Provider>,
  );
  const location = () => result.getByTestId('location').textContent;
  return { ...result, store, location };
}
