import { useId } from 'react';
import { errorText } from '../api/errors';

/**
 * An inline confirmation for a destructive action: focus moves into it (the
 * caller's useDialogFocus owns `dialog`), Escape or the second button cancels.
 */
export function Confirm({
  question,
  yes,
  no = 'Cancel',
  busy,
  error,
  onYes,
  onNo,
  dialog,
}: {
  question: React.ReactNode;
  yes: string;
  no?: string;
  busy: boolean;
  error?: unknown;
  onYes: () => void;
  onNo: () => void;
  dialog: React.RefObject<HTMLDivElement | null>;
}) {
  const qid = useId();
  return (
    <div className="confirm" role="alertdialog" aria-labelledby={qid} ref={dialog}>
      <p id={qid}>{question}</p>
      <div className="row wrap">
        <button type="button" className="btn danger" disabled={busy} onClick={onYes}>
          {yes}
        </button>
        <button type="button" className="btn ghost" onClick={onNo}>
          {no}
        </button>
      </div>
      {Boolean(error) && (
        <p className="field-error" role="alert">
          {errorText(error)}
        </p>
      )}
    </div>
  );
}
