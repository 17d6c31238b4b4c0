import { act, fireEvent, render, screen } from '@testing-library/react';
import type { ComponentProps } from 'react';
import { MemoryRouter } from 'react-router';
import type SwaggerUI from 'swagger-ui-react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PUBLIC_OPENAPI_PATH } from '@neon/contracts';
import ApiReference from './ApiReference';

type SwaggerUIProps = ComponentProps<typeof SwaggerUI>;

// jsdom cannot run Swagger UI (its document fetch, its layout): the stand-in records the
// options the page hands it, which is what the page decides.
const mounted = vi.hoisted(() => ({ props: [] as SwaggerUIProps[] }));
vi.mock('swagger-ui-react', () => ({
  default: (props: SwaggerUIProps) => {
    mounted.props.push(props);
    return <div data-testid="swagger-ui">{props.url}</div>;
  },
}));

type Intercept = (r: { url: string; headers: Record<string, string> }) => {
  url: string;
  headers: Record<string, string>;
};

async function renderPage() {
  const view = render(
    <MemoryRouter initialEntries={['/developers/reference']}>
      <ApiReference />
    </MemoryRouter>,
  );
  await screen.findByTestId('swagger-ui');
  const props = mounted.props.at(-1)!;
  return { view, props, intercept: props.requestInterceptor as unknown as Intercept };
}

describe('API reference', () => {
  afterEach(() => {
    mounted.props = [];
    delete document.documentElement.dataset.theme;
    document.documentElement.classList.remove('dark-mode');
  });

  it('mounts Swagger UI on the public API document, with no way to swap it by query', async () => {
    const { props } = await renderPage();
    expect(screen.getByRole('heading', { level: 1, name: 'Public API reference' })).toBeTruthy();
    expect(screen.getByTestId('swagger-ui').textContent).toBe('/public/v1/openapi.json');
    expect(props.url).toBe(PUBLIC_OPENAPI_PATH);
    expect(props.queryConfigEnabled).toBe(false);
    expect(screen.getByRole('link', { name: 'openapi.json' }).getAttribute('href')).toBe(
      PUBLIC_OPENAPI_PATH,
    );
    for (const link of screen.getAllByRole('link', { name: 'OAuth for developers' }))
      expect(link.getAttribute('href')).toBe('/developers/docs');
  });

  it('leaves out the Authorize dialog, its padlocks and the online validator badge', async () => {
    const { props } = await renderPage();
    const plugin = props.plugins?.[0] as () => { components: Record<string, () => unknown> };
    const { components } = plugin();
    for (const name of ['AuthorizeBtnContainer', 'authorizeOperationBtn', 'onlineValidatorBadge'])
      expect(components[name]?.()).toBeNull();
  });

  it('sends the pasted token to the public API on this origin only', async () => {
    const { intercept } = await renderPage();
    const api = `${location.origin}/public/v1/streams`;
    expect(intercept({ url: api, headers: {} }).headers).toEqual({});

    fireEvent.change(screen.getByLabelText('Access token'), { target: { value: ' tok-123 \n' } });
    expect(intercept({ url: api, headers: {} }).headers).toEqual({
      Authorization: 'Bearer tok-123',
    });
    expect(intercept({ url: '/public/v1/users?login=a', headers: {} }).headers).toEqual({
      Authorization: 'Bearer tok-123',
    });
    for (const url of [
      'https://elsewhere.example/public/v1/streams',
      `${location.origin}/api/v1/auth/me`,
      `${location.origin}/public/v10/streams`,
    ])
      expect(intercept({ url, headers: {} }).headers, url).toEqual({});
    // The input is the only place the token lives: the page does not write it anywhere.
    expect(JSON.stringify(localStorage)).not.toContain('tok-123');
    expect(JSON.stringify(sessionStorage)).not.toContain('tok-123');
  });

  it('follows the theme on screen with Swagger UI’s dark-mode class, and removes it on leaving', async () => {
    document.documentElement.dataset.theme = 'dark';
    const { view } = await renderPage();
    const root = document.documentElement;
    expect(root.classList.contains('dark-mode')).toBe(true);
    await act(async () => {
      root.dataset.theme = 'light';
      // The observer reports after the change, as a microtask.
      await Promise.resolve();
    });
    expect(root.classList.contains('dark-mode')).toBe(false);
    await act(async () => {
      root.dataset.theme = 'dark';
      await Promise.resolve();
    });
    expect(root.classList.contains('dark-mode')).toBe(true);
    view.unmount();
    expect(root.classList.contains('dark-mode')).toBe(false);
  });
});
