import { ApplicationFailure } from '@temporalio/activity';
import { TemplateError } from '../templates/mail';

/** A template error is permanent: retrying the activity cannot fix a template, a person must. */
export function templateFailure(error: unknown): never {
  if (error instanceof TemplateError) throw ApplicationFailure.nonRetryable(error.message, 'TemplateError');
  throw error;
}

/** Renders inside an activity, failing for good on a template error. */
export function renderOrFail<R>(render: () => R): R {
  try {
    return render();
  } catch (error) {
    return templateFailure(error);
  }
}
