import { useEffect, useId, useRef, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { useSearchQuery } from '../api/api';
import { Avatar } from '../components/Avatar';
import { viewers } from '../format';
import { useDebounced } from '../hooks';

/** How long typing must pause before suggestions are asked for. */
export const SUGGEST_DELAY_MS = 200;
const MAX_CHANNELS = 6;
const MAX_CATEGORIES = 3;

interface Option {
  key: string;
  to: string;
  node: React.ReactNode;
}

/**
 * The header's search: suggestions (channels, then categories) as you type,
 * arrow keys to move, Enter to open the highlighted one or, with none, the
 * full results page; Escape closes.
 */
export function SearchBox() {
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const navigate = useNavigate();
  const location = useLocation();
  const id = useId();
  const wrap = useRef<HTMLFormElement>(null);
  const term = useDebounced(text.trim(), SUGGEST_DELAY_MS);
  const { currentData, isFetching } = useSearchQuery(term, { skip: term.length < 2 });

  useEffect(() => {
    setOpen(false);
    setActive(-1);
  }, [location.pathname, location.search]);

  const options: Option[] = [];
  if (currentData && term.length >= 2) {
    for (const c of currentData.channels.slice(0, MAX_CHANNELS)) {
      options.push({
        key: `c:${c.username}`,
        to: `/${c.username}`,
        node: (
          <>
            <Avatar name={c.displayName || c.username} url={c.avatarUrl} size={24} />
            <span className="grow">
              <span className="suggest-name">{c.displayName || c.username}</span>
              {c.category && <span className="muted small"> · {c.category.name}</span>}
            </span>
            {c.live && <span className="muted small live-dot">{viewers(c.viewers)}</span>}
          </>
        ),
      });
    }
    for (const c of currentData.categories.slice(0, MAX_CATEGORIES)) {
      options.push({
        key: `k:${c.slug}`,
        to: `/directory/${c.slug}`,
        node: (
          <>
            <span className="suggest-icon" aria-hidden="true">
              #
            </span>
            <span className="grow suggest-name">{c.name}</span>
            <span className="muted small">Category</span>
          </>
        ),
      });
    }
  }
  const showList = open && term.length >= 2 && (options.length > 0 || !isFetching);

  function go(to: string) {
    setOpen(false);
    setActive(-1);
    setText('');
    void navigate(to);
  }

  function onKeyDown(e: React.KeyboardEvent<HTMLInputElement>) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setOpen(true);
      if (options.length === 0) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      // -1 is the text box itself, between the last option and the first.
      setActive((a) => ((a + 1 + step + options.length + 1) % (options.length + 1)) - 1);
    } else if (e.key === 'Escape') {
      setOpen(false);
      setActive(-1);
    }
  }

  return (
    <form
      className="search"
      role="search"
      ref={wrap}
      onSubmit={(e) => {
        e.preventDefault();
        const chosen = showList ? options[active] : undefined;
        if (chosen) go(chosen.to);
        else if (text.trim()) go(`/search?q=${encodeURIComponent(text.trim())}`);
      }}
      onBlur={(e) => {
        if (!wrap.current?.contains(e.relatedTarget)) setOpen(false);
      }}
    >
      <input
        className="input"
        type="search"
        role="combobox"
        aria-label="Search channels and categories"
        aria-autocomplete="list"
        aria-expanded={showList}
        aria-controls={`${id}-list`}
        aria-activedescendant={showList && active >= 0 ? `${id}-${active}` : undefined}
        placeholder="Search"
        autoComplete="off"
        maxLength={100}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => setOpen(true)}
        onKeyDown={onKeyDown}
      />
      {showList && (
        <ul className="suggest" role="listbox" id={`${id}-list`} aria-label="Suggestions">
          {options.length === 0 ? (
            <li className="muted small suggest-empty" role="presentation">
              Nothing matches “{term}”.
            </li>
          ) : (
            options.map((o, i) => (
              <li
                key={o.key}
                id={`${id}-${i}`}
                role="option"
                aria-selected={i === active}
                className={i === active ? 'active' : undefined}
                // Mouse down would blur the box (closing the list) before the click lands.
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => go(o.to)}
              >
                {o.node}
              </li>
            ))
          )}
        </ul>
      )}
    </form>
  );
}
