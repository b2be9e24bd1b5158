/**
 * What the console's create forms share: a submission that shows the API's field errors beside
 * their controls, and the form's error with its Cancel and submit buttons.
 */
import { useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { ErrorText, useAction } from './ui.js';

export interface ApiForm {
  /** The API's errors by field path (`name`, `events.1`, `match.tags.env`). */
  errors: Record<string, string>;
  state: { busy: boolean; error: unknown };
  /** The form's submit handler: clears the last errors and runs `send`, keeping what it refused. */
  submit(send: () => Promise<unknown>): (e: Event) => void;
}

export function useApiForm(): ApiForm {
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [run, state] = useAction();
  const submit = (send: () => Promise<unknown>) => (e: Event) => {
    e.preventDefault();
    setErrors({});
    void run(async () => {
      try {
        await send();
      } catch (err) {
        if (err instanceof ApiError) setErrors(err.fieldErrors());
        throw err;
      }
    });
  };
  return { errors, state, submit };
}

/** The error for `field` or, failing that, the first for a path under it (one of a list's items). */
export function errorUnder(errors: Record<string, string>, field: string): string | undefined {
  return errors[field] ?? Object.entries(errors).find(([path]) => path.startsWith(field))?.[1];
}

/** The end of a form: its error, Cancel, and the submit button, off while the form is sent. */
export function FormActions({
  state,
  submitLabel,
  onCancel,
}: {
  state: { busy: boolean; error: unknown };
  submitLabel: string;
  onCancel(): void;
}) {
  return (
    <>
      <ErrorText error={state.error} />
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={state.busy}>
          {submitLabel}
        </button>
      </div>
    </>
  );
}
