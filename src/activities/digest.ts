import { ApplicationFailure } from '@temporalio/activity';
import { digestRecipients, isEmptyDigest, treasurerDigest, tutorDigest } from '../digest/compose';
import { renderDigest } from '../digest/present';
import type { DigestDelivery, DigestRecipient, Lang } from '../workflows/digest/messages';
import type { ActivityDeps } from './deps';
import { createOutbox, type OutboxRow } from './outbox';
import { renderOrFail } from './template-failure';

export interface SendDigestInput {
  recipient: DigestRecipient;
  /** `digest:<day>:<role>:<personId>`, computed by the workflow: one digest per recipient and day. */
  key: string;
  /** The firing instant (ISO) and the digest day in Paris. */
  at: string;
  day: string;
  /** The previous digest day: money received since then. */
  since: string;
  stalledDays: number;
  horizonDays: number;
  lang: Lang;
}

/** Why a digest was not sent, in the outbox row (`status = 'skipped'`). */
export const EMPTY_DIGEST = 'nothing to report';

/** The digest's reads and its sending through the outbox (insert-if-absent → send → mark sent). */
export function createDigestActivities(deps: ActivityDeps) {
  const { sql, templates, association } = deps;
  const outbox = createOutbox(deps);

  const delivery = (input: SendDigestInput, row: OutboxRow): DigestDelivery => ({
    personId: input.recipient.personId,
    role: input.recipient.role,
    to: row.to_address,
    status: row.status === 'skipped' ? 'empty' : 'sent',
    key: input.key,
    messageId: row.message_id,
    subject: row.subject,
  });

  return {
    /** Every tutor with at least one open dossier or application, and every treasurer. */
    async listDigestRecipients(): Promise<DigestRecipient[]> {
      return (await digestRecipients(sql)).map((r) => ({ personId: r.id, role: r.role, name: r.name, email: r.email }));
    },

    /**
     * Composes one recipient's digest and sends it, at most once per key. A digest with nothing
     * to report is not sent: the outbox records it as skipped, so a second firing that day
     * does not send it either.
     */
    async sendDigest(input: SendDigestInput): Promise<DigestDelivery> {
      const existing = await outbox.find(input.key);
      if (existing && existing.status !== 'sending') return delivery(input, existing);

      const [person] = await sql<{ id: number; email: string; role: string }[]>`SELECT id, email, role FROM people WHERE id = ${input.recipient.personId}`;
      if (!person || person.role !== input.recipient.role) {
        throw ApplicationFailure.nonRetryable(`person ${input.recipient.personId} is no longer a ${input.recipient.role}`, 'UnknownRecipient');
      }
      const period = { at: new Date(input.at), day: input.day, since: input.since, stalledDays: input.stalledDays, horizonDays: input.horizonDays };
      const digest = input.recipient.role === 'tutor' ? await tutorDigest(sql, Number(person.id), period) : await treasurerDigest(sql, Number(person.id), period);
      const kind = `digest-${input.recipient.role}`;
      if (isEmptyDigest(digest)) return delivery(input, await outbox.skip({ key: input.key, kind, to: person.email }, EMPTY_DIGEST));

      const rendered = renderOrFail(() => renderDigest(templates, digest, input.lang, association));
      const row = await outbox.send({ key: input.key, kind, to: person.email, subject: rendered.subject, html: rendered.html, text: rendered.text });
      return delivery(input, row);
    },
  };
}
