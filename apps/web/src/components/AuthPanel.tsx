import { useId, type ReactNode, type Ref } from 'react';

/**
 * The centred card of the signed-out pages (sign-in, sign-up, the second factor, password
 * reset): a form when `onSubmit` is given, else a group, named by its heading either way.
 */
export function AuthPanel({
  title,
  headingRef,
  onSubmit,
  children,
}: {
  title: ReactNode;
  /** For pages that move focus to their heading when they open. */
  headingRef?: Ref<HTMLHeadingElement>;
  onSubmit?: (e: React.FormEvent<HTMLFormElement>) => void;
  children: ReactNode;
}) {
  const titleId = useId();
  const heading = (
    <h1 id={titleId} ref={headingRef} tabIndex={headingRef ? -1 : undefined}>
      {title}
    </h1>
  );
  return (
    <div className="auth">
      {onSubmit ? (
        <form className="panel auth-panel" onSubmit={onSubmit} noValidate aria-labelledby={titleId}>
          {heading}
          {children}
        </form>
      ) : (
        <div className="panel auth-panel" role="group" aria-labelledby={titleId}>
          {heading}
          {children}
        </div>
      )}
    </div>
  );
}
