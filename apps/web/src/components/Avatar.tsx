import { useState } from 'react';

// Each 4.5:1 or more under the white initial.
const palette = ['#7452f5', '#c2185b', '#0a7d6a', '#8a5a00', '#1f6fbf', '#9333c8'];

function colour(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return palette[h % palette.length] ?? '#7452f5';
}

/** The user's picture, or their initial on a colour derived from the name. */
export function Avatar({
  name,
  url,
  size = 36,
}: {
  name: string;
  url?: string | null | undefined;
  size?: number;
}) {
  const [broken, setBroken] = useState(false);
  const dims = { width: size, height: size, fontSize: size * 0.45 };
  if (url && !broken) {
    return (
      <img
        className="avatar"
        src={url}
        alt=""
        style={dims}
        referrerPolicy="no-referrer"
        onError={() => setBroken(true)}
      />
    );
  }
  return (
    // The initial is drawn by CSS: decoration, not text that a button's name would have to repeat.
    <span
      className="avatar"
      style={{ ...dims, background: colour(name) }}
      data-initial={(name[0] ?? '?').toUpperCase()}
      aria-hidden="true"
    />
  );
}
