import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { QualityMenu } from './QualityMenu';
import type { QualityLevel } from './quality';

// The order hls.js reports them in: by the master playlist, not by quality.
const levels: QualityLevel[] = [
  { index: 0, height: 360, width: 640, bitrate: 800_000, name: '360p' },
  { index: 1, height: 720, width: 1280, bitrate: 3_000_000, name: 'source' },
  { index: 2, height: 160, width: 284, bitrate: 250_000, name: '160p' },
  { index: 3, height: 480, width: 854, bitrate: 1_400_000, name: '480p' },
];

function open() {
  fireEvent.click(screen.getByRole('button', { name: /^Quality/ }));
  return screen.getAllByRole('menuitemradio');
}

describe('QualityMenu', () => {
  it('lists Auto and every rendition, highest first', () => {
    render(<QualityMenu levels={levels} selected={-1} playing={null} onSelect={() => {}} />);
    expect(open().map((b) => b.textContent)).toEqual([
      'Auto',
      '720p (source)',
      '480p',
      '360p',
      '160p',
    ]);
  });

  it('shows what Auto is playing and marks the current choice', () => {
    const { rerender } = render(
      <QualityMenu levels={levels} selected={-1} playing={3} onSelect={() => {}} />,
    );
    expect(screen.getByRole('button', { name: 'Quality: Auto (480p)' })).toBeTruthy();
    expect(open()[0]!.getAttribute('aria-checked')).toBe('true');
    rerender(<QualityMenu levels={levels} selected={0} playing={0} onSelect={() => {}} />);
    expect(screen.getByRole('button', { name: 'Quality: 360p' })).toBeTruthy();
    const checked = screen
      .getAllByRole('menuitemradio')
      .filter((b) => b.getAttribute('aria-checked') === 'true');
    expect(checked.map((b) => b.textContent)).toEqual(['360p']);
  });

  it('hands the player the level index of the chosen rendition, or -1 for Auto, and closes', () => {
    const onSelect = vi.fn();
    render(<QualityMenu levels={levels} selected={-1} playing={null} onSelect={onSelect} />);
    fireEvent.click(open()[2]!); // 480p
    expect(onSelect).toHaveBeenLastCalledWith(3);
    expect(screen.queryByRole('menu')).toBeNull();
    fireEvent.click(open()[0]!);
    expect(onSelect).toHaveBeenLastCalledWith(-1);
  });

  it('is usable by keyboard: arrows move, Escape closes and returns focus', () => {
    render(<QualityMenu levels={levels} selected={-1} playing={null} onSelect={() => {}} />);
    const items = open();
    expect(document.activeElement).toBe(items[0]);
    fireEvent.keyDown(items[0]!, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(items[1]);
    fireEvent.keyDown(items[1]!, { key: 'ArrowUp' });
    fireEvent.keyDown(items[0]!, { key: 'ArrowUp' });
    expect(document.activeElement).toBe(items[4]);
    fireEvent.keyDown(items[4]!, { key: 'Escape' });
    expect(screen.queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: /^Quality/ }));
  });

  it('tells renditions of the same height apart by bitrate', () => {
    const twins: QualityLevel[] = [
      { index: 0, height: 720, width: 1280, bitrate: 6_000_000, name: 'source' },
      { index: 1, height: 720, width: 1280, bitrate: 3_000_000, name: '720p' },
    ];
    render(<QualityMenu levels={twins} selected={-1} playing={null} onSelect={() => {}} />);
    expect(open().map((b) => b.textContent)).toEqual([
      'Auto',
      '720p · 6000 kb/s (source)',
      '720p · 3000 kb/s',
    ]);
  });
});
