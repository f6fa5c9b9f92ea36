import { randomUUID } from 'node:crypto';
import type { RelationshipInput } from '../src/workflows/sponsor-outreach/messages';

const DAY = 86_400_000;

/**
 * A dossier of the whole relationship as a benchmark starts it: validation waived, the send
 * window always open and the caps out of reach (the benchmark measures the process, not the
 * association's sending rules), follow-ups far enough not to fall due during the measure.
 */
export function benchRelationshipInput(
  seed: { studentId: number; tutorId: number },
  s: { id: number; slug: string; name: string; contactId: number },
  amountAskedCents: number,
): RelationshipInput {
  return {
    dossierId: randomUUID(),
    sponsor: { id: s.id, slug: s.slug, name: s.name },
    contactId: s.contactId,
    contactIds: [s.contactId],
    recipientDomain: `${s.slug}.bench.test`,
    studentId: seed.studentId,
    tutorId: seed.tutorId,
    amountAskedCents,
    lang: 'fr',
    policy: { followUps: ['30d'], grace: '30d', sendTimeout: '1m' },
    timings: {
      followUpsMs: [30 * DAY],
      graceMs: 30 * DAY,
      sendTimeoutMs: 60_000,
      validation: 'none',
      validationReminder: { ms: 30 * DAY },
      validationEscalation: { ms: 31 * DAY },
      validationFlag: { ms: 32 * DAY },
      nextStepMs: 30 * DAY,
      meetingResultMs: 30 * DAY,
      meetingReminderMs: DAY,
      instalmentGraceMs: 30 * DAY,
      escalateAfterMs: 30 * DAY,
      linkTtlMs: 7 * DAY,
      dailyCap: 1_000_000,
      domainCap: 1_000_000,
      sendRules: { weekdays: [1, 2, 3, 4, 5, 6, 7], opens: '00:00', closes: '24:00', holidays: [], blackouts: [] },
      historyLimit: 5_000,
    },
  };
}
