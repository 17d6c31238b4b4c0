import { useState } from 'react';

const palette = ['#7c5cff', '#ff5c8a', '#22c3a6', '#ffb020', '#3ea6ff', '#c15cff'];

function colour(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return palette[h % palette.length] ?? '#7c5cff';
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
    <span className="avatar" style={{ ...dims, background: colour(name) }} aria-hidden="true">
      {(name[0] ?? '?').toUpperCase()}
    </span>
  );
}
