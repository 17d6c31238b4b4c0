import { beforeEach, describe, expect, it } from 'vitest';
import { loadVolume, saveVolume } from './quality';

describe('remembered volume', () => {
  beforeEach(() => localStorage.clear());

  it('starts at a sensible default and survives a reload', () => {
    expect(loadVolume()).toEqual({ volume: 0.8, muted: false });
    saveVolume({ volume: 0.35, muted: true });
    expect(loadVolume()).toEqual({ volume: 0.35, muted: true });
  });

  it('ignores junk in storage', () => {
    localStorage.setItem('neon:volume', '{"volume": 7}');
    expect(loadVolume()).toEqual({ volume: 0.8, muted: false });
    localStorage.setItem('neon:volume', 'not json');
    expect(loadVolume()).toEqual({ volume: 0.8, muted: false });
  });
});
