import { useEffect, useState } from 'react';

/**
 * A read-only value with a copy button; `secret` masks it until revealed.
 * `of` names what the value belongs to when a page shows several ("Client ID"
 * of each app), so each Copy button has a name of its own.
 */
export function CopyField({
  label,
  value,
  secret = false,
  testId,
  of,
}: {
  label: string;
  value: string;
  secret?: boolean;
  testId?: string;
  of?: string;
}) {
  const name = of ? `${label} of ${of}` : label;
  const [shown, setShown] = useState(!secret);
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(t);
  }, [copied]);
  useEffect(() => setShown(!secret), [secret, value]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setCopied(true);
    } catch {
      // Clipboard refused (no permission / insecure origin): reveal so the user can select it.
      setShown(true);
    }
  }

  return (
    <div className="field">
      <span className="label">{label}</span>
      <div className="copy-field">
        <code
          className={shown ? '' : 'masked'}
          data-testid={testId}
          aria-label={shown ? undefined : `${label} (hidden)`}
        >
          {shown ? value : '•'.repeat(Math.min(24, Math.max(12, value.length)))}
        </code>
        {secret && (
          <button
            type="button"
            className="btn ghost sm"
            onClick={() => setShown((s) => !s)}
            aria-pressed={shown}
          >
            {shown ? 'Hide' : 'Reveal'}
          </button>
        )}
        <button
          type="button"
          className="btn ghost sm"
          onClick={() => void copy()}
          aria-label={`Copy ${name}`}
        >
          {copied ? 'Copied ✓' : 'Copy'}
        </button>
      </div>
      {/* Said by a screen reader: the button's new text alone is not announced. */}
      <span className="sr-only" role="status">
        {copied ? `${name} copied` : ''}
      </span>
    </div>
  );
}
