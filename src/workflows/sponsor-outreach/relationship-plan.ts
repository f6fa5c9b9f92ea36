import { addDays, escalationDueAt, followUpDueAt, nextOpenDay, nextOpening, parisInstant, parisParts } from '../shared/send-window';
import { climb, dueNow, stillToCome } from '../shared/ladder';
import type { Delay, RelationshipState, RelationshipTimings } from './messages';

/**
 * What the relationship process does next and when, computed from its state alone: the
 * workflow waits for the earliest of these, `mecene outreach status` lists them. Pure and
 * deterministic (it runs inside the workflow sandbox).
 */

export type NoticeRung = 'student' | 'tutor' | 'treasurer' | 'other_tutors' | 'everyone';

/** A reminder or escalation about something a person must do. Keys carry the due date. */
export interface DossierAlarm {
  key: string;
  at: string;
  about: 'validation' | 'changes' | 'next_step' | 'meeting_reminder' | 'meeting_result' | 'instalment';
  ref: string;
  kind: 'reminder' | 'escalation';
  to: NoticeRung;
  dueAt: string;
}

/** An email of the sequence to the sponsor, or the tutor's alert after silence. */
export interface DueSend {
  kind: 'initial' | 'followup' | 'escalation';
  n?: number;
  /** Business key of the email (per contact for sponsor emails). */
  key: string;
  dueAt: string;
}

const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** `from` plus a delay: business days land on the n-th next open day, at the same time of day (or its opening). */
export function after(from: string, delay: Delay, rules: RelationshipTimings['sendRules']): string {
  if ('ms' in delay) return plus(from, delay.ms);
  const start = parisParts(Date.parse(from));
  let day = start.day;
  for (let i = 0; i < delay.businessDays; i++) day = nextOpenDay(addDays(day, 1), rules);
  return new Date(nextOpening(parisInstant(day, start.hour * 60 + start.minute), rules)).toISOString();
}


/** Every alarm still to come (not yet handled), earliest first; none while paused. */
export function pendingDossierAlarms(s: RelationshipState, t: RelationshipTimings): DossierAlarm[] {
  if (s.paused) return [];
  const all: DossierAlarm[] = [];
  if (s.stage === 'validation' && s.validation && !s.validation.decided) {
    const from = s.validation.requestedAt;
    const ref = `v${s.validation.version}`;
    all.push(
      { key: `validation:${ref}:${from}:0`, at: after(from, t.validationReminder, t.sendRules), about: 'validation', ref, kind: 'reminder', to: 'tutor', dueAt: from },
      { key: `validation:${ref}:${from}:1`, at: after(from, t.validationEscalation, t.sendRules), about: 'validation', ref, kind: 'escalation', to: 'other_tutors', dueAt: from },
      { key: `validation:${ref}:${from}:2`, at: after(from, t.validationFlag, t.sendRules), about: 'validation', ref, kind: 'escalation', to: 'everyone', dueAt: from },
    );
  }
  if (s.stage === 'changes_requested' && s.validation) {
    const due = plus(s.validation.requestedAt, t.nextStepMs);
    all.push(...climb('changes', `v${s.validation.version}`, due, due, ['student', 'tutor'] as NoticeRung[], t.escalateAfterMs));
  }
  const upcoming = s.meetings.filter((m) => !m.result);
  for (const m of upcoming) {
    all.push({ key: `meeting_reminder:${m.id}:${m.at}`, at: plus(m.at, -t.meetingReminderMs), about: 'meeting_reminder', ref: String(m.id), kind: 'reminder', to: 'student', dueAt: m.at });
    const end = plus(m.at, m.durationMin * 60_000);
    all.push(...climb('meeting_result', String(m.id), plus(end, t.meetingResultMs), plus(end, t.meetingResultMs), ['student', 'tutor'] as NoticeRung[], t.escalateAfterMs));
  }
  if (s.nextStepDue && !upcoming.length && ['interested', 'meeting', 'pledged'].includes(s.stage) && !(s.stage === 'pledged' && s.pledge)) {
    all.push(...climb('next_step', 'next', s.nextStepDue, s.nextStepDue, ['student', 'tutor'] as NoticeRung[], t.escalateAfterMs));
  }
  if (s.stage === 'pledged' && s.pledge) {
    for (const i of s.pledge.instalments) {
      if (i.receivedCents >= i.amountCents) continue;
      all.push(...climb('instalment', String(i.n), i.expectedAt, plus(i.expectedAt, t.instalmentGraceMs), ['student', 'treasurer'] as NoticeRung[], t.escalateAfterMs));
    }
  }
  return stillToCome(all, s.notified);
}

/** The alarms due now, minus those a later rung of the same item supersedes (after an outage, one email). */
export function dueDossierAlarms(s: RelationshipState, t: RelationshipTimings, now: number): { send: DossierAlarm[]; superseded: DossierAlarm[] } {
  // Validation rungs reach different people: each one goes.
  return dueNow(pendingDossierAlarms(s, t), now, (a) => a.about === 'validation');
}

/**
 * The next email of the sequence, if the process is sending: the first email once the proposal
 * is approved, follow-ups at the policy's offsets from the start of the round, then the tutor's
 * alert after the grace period. Null once a reply came, while paused, or while waiting for a date.
 */
export function nextSend(s: RelationshipState, t: RelationshipTimings): DueSend | null {
  if (s.paused || !s.sequenceStart || !['approved', 'contacted', 'followed_up'].includes(s.stage)) return null;
  const start = s.sequenceStart;
  const sponsorEmails = s.sent.filter((e) => e.kind !== 'escalation' && e.round === s.round);
  if (s.round === 0 && !sponsorEmails.some((e) => e.kind === 'initial')) return { kind: 'initial', key: `${s.dossierId}:initial`, dueAt: start };
  // Follow-ups count from when the first email actually left (a round after a callback has no
  // first email: from the callback date, less the first offset), as `mecene outreach plan` shows.
  const first = s.round === 0 ? Date.parse(sponsorEmails.find((e) => e.kind === 'initial')!.sentAt) : Date.parse(start) - (t.followUpsMs[0] ?? 0);
  const lastSent = sponsorEmails.length ? Math.max(...sponsorEmails.map((e) => Date.parse(e.sentAt))) : Date.parse(start);
  const i = s.followUpsSent;
  if (i < t.followUpsMs.length) {
    const due = Math.max(followUpDueAt(first, t.followUpsMs[i]), lastSent);
    return { kind: 'followup', n: i + 1, key: `${s.dossierId}:r${s.round}:followup:${i + 1}`, dueAt: new Date(due).toISOString() };
  }
  return { kind: 'escalation', key: `${s.dossierId}:r${s.round}:escalation`, dueAt: new Date(escalationDueAt(lastSent, t.graceMs)).toISOString() };
}
