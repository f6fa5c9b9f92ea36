import type { MessageKey } from '../i18n/messages';

/**
 * An error a person can act on: a message key and its parameters, translated at the edge
 * (CLI line, HTTP body). `status` is the HTTP status the API answers with.
 */
/**
 * A parameter of an error message: a value, or words translated with the message itself
 * (a role, a stage), so an English API caller reads English words inside an English sentence.
 */
export type ErrorParam = string | number | { key: MessageKey } | { anyOf: MessageKey[] };

export class MeceneError extends Error {
  constructor(
    readonly key: MessageKey,
    readonly params: Record<string, ErrorParam> = {},
    readonly status = 400,
  ) {
    super(key);
    this.name = 'MeceneError';
  }
}

/** One rejected input field: where it is, and what is wrong, already translated. */
export interface FieldIssue {
  field: string;
  problem: string;
}

/** Rejected input, with every field that is wrong (validation at a boundary). */
export class InvalidInputError extends MeceneError {
  constructor(readonly issues: FieldIssue[]) {
    super('error.invalidInput', { details: issues.map((i) => `${i.field} : ${i.problem}`).join(' ; ') }, 400);
    this.name = 'InvalidInputError';
  }
}
