import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { AboutPanel } from './AboutPanel';
import { linkify } from './linkify';

const about = (text: string, links: string[] = []) =>
  render(<AboutPanel channel={{ username: 'alice', displayName: 'Alice', about: text, links }} />);

describe('AboutPanel', () => {
  it('makes https links in the text clickable, opening safely in a new tab', () => {
    about('Schedule: https://example.org/schedule. Gear (https://gear.example/rig) too!');
    const links = screen.getAllByRole('link');
    expect(links.map((a) => a.getAttribute('href'))).toEqual([
      'https://example.org/schedule',
      'https://gear.example/rig',
    ]);
    for (const a of links) {
      expect(a.getAttribute('rel')).toBe('noopener noreferrer nofollow');
      expect(a.getAttribute('target')).toBe('_blank');
    }
    expect(document.querySelector('.about-text')?.textContent).toBe(
      'Schedule: https://example.org/schedule. Gear (https://gear.example/rig) too!',
    );
  });

  it('leaves anything but an https link as text, and never parses markup', () => {
    about(
      'http://plain.example javascript:alert(1) <a href="https://evil.example">x</a> ' +
        'data:text/html,<b>hi</b> https://user:pw@bank.example https://localhost/x',
    );
    // The only candidate that is a real https link to a site sits inside markup-looking text.
    const hrefs = screen.queryAllByRole('link').map((a) => a.getAttribute('href'));
    expect(hrefs).not.toContain('http://plain.example/');
    expect(hrefs.every((h) => h?.startsWith('https://'))).toBe(true);
    expect(hrefs.some((h) => h?.includes('@') || h?.includes('localhost'))).toBe(false);
    expect(document.querySelector('.about-text b, .about-text script')).toBeNull();
    expect(document.querySelector('.about-text')?.textContent).toContain('<b>hi</b>');
  });

  it('lists the social links by their site, https only', () => {
    about('', [
      'https://www.youtube.com/@alice',
      'http://old.example',
      'https://social.example/@a',
    ]);
    const list = screen.getByRole('list', { name: 'Links' });
    const items = [...list.querySelectorAll('a')].map((a) => [
      a.textContent,
      a.getAttribute('href'),
    ]);
    expect(items).toEqual([
      ['youtube.com/@alice', 'https://www.youtube.com/@alice'],
      ['social.example/@a', 'https://social.example/@a'],
    ]);
    expect(screen.getByText(/Alice has not written anything here yet/)).toBeTruthy();
  });
});

describe('linkify', () => {
  it('keeps a bracket that belongs to the link and drops sentence punctuation', () => {
    expect(linkify('see https://en.wikipedia.org/wiki/Neon_(band)).')).toEqual([
      { text: 'see ' },
      {
        href: 'https://en.wikipedia.org/wiki/Neon_(band)',
        text: 'https://en.wikipedia.org/wiki/Neon_(band)',
      },
      { text: ').' },
    ]);
  });
});
