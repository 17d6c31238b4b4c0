import { useStepUpMutation } from '../api/account-api';
import { CodeForm } from './CodeForm';

/**
 * Shown where an action answered AUTH_STEP_UP_REQUIRED: a code from the
 * authenticator renews the session's check for ten minutes, then `onDone`
 * retries the action.
 */
export function StepUpPrompt({ onDone }: { onDone: () => void }) {
  const [stepUp, state] = useStepUpMutation();
  return (
    <div className="panel step-up" role="group" aria-labelledby="step-up-title">
      <h3 id="step-up-title">Confirm it’s you</h3>
      <p className="muted">
        This needs a recent check of your second factor. Enter a code from your authenticator app.
      </p>
      <CodeForm
        submitLabel="Confirm"
        busy={state.isLoading}
        onCode={async (code) => {
          await stepUp({ code }).unwrap();
          onDone();
        }}
      />
    </div>
  );
}
