import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { describe, expect, it } from 'vitest';
import { ChannelMeta, RoleBadge } from './ChannelMeta';

describe('ChannelMeta', () => {
  it('links the category to its directory page and each tag to a search', () => {
    render(
      <MemoryRouter>
        <ChannelMeta
          channel={{
            category: { slug: 'music', name: 'Music' },
            tags: ['lo-fi', 'c++'],
            mature: true,
          }}
        />
      </MemoryRouter>,
    );
    expect(screen.getByRole('link', { name: 'Music' }).getAttribute('href')).toBe(
      '/directory/music',
    );
    expect(screen.getByRole('link', { name: 'c++' }).getAttribute('href')).toBe(
      '/search?q=c%2B%2B',
    );
    expect(screen.getByText('18+')).toBeTruthy();
  });

  it('shows nothing for a channel with no category, tags or mature flag', () => {
    const { container } = render(
      <MemoryRouter>
        <ChannelMeta channel={{ category: null, tags: [], mature: false }} />
      </MemoryRouter>,
    );
    expect(container.textContent).toBe('');
  });
});

describe('RoleBadge', () => {
  it('tells the caller their role on the channel, and nothing without one', () => {
    const { rerender, container } = render(<RoleBadge role="moderator" />);
    expect(screen.getByTestId('my-role').textContent).toBe('You moderate this channel');
    rerender(<RoleBadge role="vip" />);
    expect(screen.getByTestId('my-role').textContent).toBe('You are a VIP here');
    rerender(<RoleBadge role={null} />);
    expect(container.textContent).toBe('');
  });
});
