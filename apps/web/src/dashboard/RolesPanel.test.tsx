import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChannelRoles, RoleHolder } from '@neon/contracts';
import { me, problem, renderApp, serve, type Call } from '../test-utils';
import { RolesPanel } from './RolesPanel';

const holder = (username: string): RoleHolder => ({
  userId: `id-${username}`,
  username,
  displayName: username,
  grantedAt: '2025-03-01T12:00:00.000Z',
});

/** A channel's team as the server keeps it, changed by PUT and DELETE like the real routes. */
function team(initial: ChannelRoles, known: string[]) {
  const state: ChannelRoles = structuredClone(initial);
  return (call: Call) => {
    if (call.path === '/api/v1/me/channel/roles' && call.method === 'GET') return { body: state };
    const m = /^\/api\/v1\/me\/channel\/(moderators|vips)\/([^/]+)$/.exec(call.path);
    if (!m) return undefined;
    const kind = m[1] as 'moderators' | 'vips';
    const name = decodeURIComponent(m[2] ?? '');
    if (name === 'alice') return problem(400, 'CHANNELS_ROLE_SELF');
    if (!known.includes(name)) return problem(404, 'CHANNELS_USER_NOT_FOUND');
    state[kind] = state[kind].filter((h) => h.username !== name);
    if (call.method === 'PUT') state[kind].push(holder(name));
    return { body: state };
  };
}

const section = (name: string) => screen.getByRole('heading', { name }).closest('section')!;

describe('RolesPanel', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('adds a moderator by username and lists them', async () => {
    const calls = serve(team({ moderators: [], vips: [holder('vera')] }, ['vera', 'max']));
    renderApp(<RolesPanel />, { user: me('alice') });
    const mods = await waitFor(() => section('Moderators'));
    expect(within(mods).getByText('No moderators yet.')).toBeTruthy();
    expect(within(section('VIPs')).getByRole('link', { name: 'vera' })).toBeTruthy();
    fireEvent.change(within(mods).getByLabelText('Username of a new moderator'), {
      target: { value: '@Max' },
    });
    fireEvent.click(within(mods).getByRole('button', { name: 'Add moderator' }));
    await waitFor(() => expect(within(mods).getByRole('link', { name: 'max' })).toBeTruthy());
    expect(calls.some((c) => c.method === 'PUT' && c.path.endsWith('/moderators/max'))).toBe(true);
    expect(within(mods).getByLabelText<HTMLInputElement>('Username of a new moderator').value).toBe(
      '',
    );
  });

  it('removes a VIP', async () => {
    serve(team({ moderators: [], vips: [holder('vera')] }, ['vera']));
    renderApp(<RolesPanel />, { user: me('alice') });
    fireEvent.click(await screen.findByRole('button', { name: 'Remove VIP vera' }));
    await waitFor(() => expect(within(section('VIPs')).getByText('No VIPs yet.')).toBeTruthy());
  });

  it('says in words when the user does not exist, or is the owner', async () => {
    serve(team({ moderators: [], vips: [] }, []));
    renderApp(<RolesPanel />, { user: me('alice') });
    const mods = await waitFor(() => section('Moderators'));
    const input = within(mods).getByLabelText('Username of a new moderator');
    fireEvent.change(input, { target: { value: 'ghost' } });
    fireEvent.click(within(mods).getByRole('button', { name: 'Add moderator' }));
    await waitFor(() =>
      expect(within(mods).getByRole('alert').textContent).toBe('There is no user with that name.'),
    );
    expect(input.getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(input, { target: { value: 'alice' } });
    expect(within(mods).queryByRole('alert')).toBeNull();
    fireEvent.click(within(mods).getByRole('button', { name: 'Add moderator' }));
    await waitFor(() =>
      expect(within(mods).getByRole('alert').textContent).toMatch(
        /every right on your own channel/,
      ),
    );
  });

  it('refuses what cannot be a username without asking the server', async () => {
    const calls = serve(team({ moderators: [], vips: [] }, []));
    renderApp(<RolesPanel />, { user: me('alice') });
    const mods = await waitFor(() => section('Moderators'));
    fireEvent.change(within(mods).getByLabelText('Username of a new moderator'), {
      target: { value: 'no such/name' },
    });
    fireEvent.click(within(mods).getByRole('button', { name: 'Add moderator' }));
    expect(within(mods).getByRole('alert').textContent).toBe('That is not a username.');
    expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(0);
  });
});
