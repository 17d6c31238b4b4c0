import { useEffect, useId, useRef, useState } from 'react';
import { levelLabel, sortLevels, type QualityLevel } from './quality';

export interface QualityMenuProps {
  levels: readonly QualityLevel[];
  /** -1 = Auto (adaptive). */
  selected: number;
  /** What Auto is playing right now, shown as "Auto (480p)". */
  playing: number | null;
  onSelect: (index: number) => void;
}

/** Auto + every rendition, keyboard-usable (arrows, Home/End, Escape). */
export function QualityMenu({ levels, selected, playing, onSelect }: QualityMenuProps) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const id = useId();
  const sorted = sortLevels(levels);
  const byIndex = (i: number | null) => levels.find((l) => l.index === i);
  const playingLevel = byIndex(playing);
  const selectedLevel = byIndex(selected);
  const current =
    selected === -1 || !selectedLevel
      ? `Auto${playingLevel ? ` (${levelLabel(playingLevel, levels)})` : ''}`
      : levelLabel(selectedLevel, levels);

  useEffect(() => {
    if (!open) return;
    const items = ref.current?.querySelectorAll<HTMLElement>('[role="menuitemradio"]');
    const checked = ref.current?.querySelector<HTMLElement>('[aria-checked="true"]');
    (checked ?? items?.[0])?.focus();
    const outside = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [open]);

  function choose(index: number) {
    onSelect(index);
    setOpen(false);
    buttonRef.current?.focus();
  }

  function onKeyDown(e: React.KeyboardEvent) {
    const items = [...(ref.current?.querySelectorAll<HTMLElement>('[role="menuitemradio"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const move = (to: number) => items[(to + items.length) % items.length]?.focus();
    switch (e.key) {
      case 'Escape':
        e.preventDefault();
        setOpen(false);
        buttonRef.current?.focus();
        break;
      case 'ArrowDown':
        e.preventDefault();
        move(at + 1);
        break;
      case 'ArrowUp':
        e.preventDefault();
        move(at - 1);
        break;
      case 'Home':
        e.preventDefault();
        move(0);
        break;
      case 'End':
        e.preventDefault();
        move(items.length - 1);
        break;
      default:
        break;
    }
  }

  if (levels.length === 0) return null;
  return (
    <div className="quality" ref={ref} onKeyDown={onKeyDown}>
      <button
        ref={buttonRef}
        type="button"
        className="ctl text"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        aria-label={`Quality: ${current}`}
        onClick={() => setOpen((o) => !o)}
      >
        {current}
      </button>
      {open && (
        <div className="quality-list" role="menu" id={id} aria-label="Quality">
          <button
            type="button"
            role="menuitemradio"
            aria-checked={selected === -1}
            onClick={() => choose(-1)}
          >
            Auto
          </button>
          {sorted.map((l) => (
            <button
              key={l.index}
              type="button"
              role="menuitemradio"
              aria-checked={selected === l.index}
              onClick={() => choose(l.index)}
            >
              {levelLabel(l, levels)}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
