import type { Alarm, ApplicationState, ApplicationTimings, MilestoneKey, Rung } from './messages';
import { MILESTONE_ORDER } from './messages';
import { climb, dueNow, stillToCome } from '../shared/ladder';

/**
 * When the process reminds and escalates, computed from its state alone: the workflow waits
 * for the earliest alarm, and `mecene applications show` lists the same ones. Keys carry the
 * due date, so moving the deadline makes fresh alarms for the new dates.
 */

/** Who hears about a late step, rung after rung, starting with its owner. */
export function ladderFrom(owner: Rung): Rung[] {
  if (owner === 'student') return ['student', 'tutor', 'treasurer'];
  if (owner === 'tutor') return ['tutor', 'treasurer'];
  return ['treasurer', 'tutor'];
}

const plus = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** The next milestone to reach, while the application is being prepared. */
export function currentMilestone(state: ApplicationState): MilestoneKey | null {
  if (!['drafting', 'review', 'signoff', 'ready'].includes(state.stage)) return null;
  for (const key of MILESTONE_ORDER) {
    const m = state.milestones.find((x) => x.key === key);
    if (m && !m.reachedAt) return key;
  }
  return null;
}

/** Every alarm still to come (not yet handled), earliest first. */
export function pendingAlarms(state: ApplicationState, timings: ApplicationTimings): Alarm[] {
  const all: Alarm[] = [];
  const milestone = currentMilestone(state);
  if (milestone) {
    const m = state.milestones.find((x) => x.key === milestone)!;
    all.push(...climb('milestone', m.key, m.dueAt, m.dueAt, ladderFrom(m.owner), timings.escalateAfterMs));
  }
  if (state.stage === 'submitted') {
    const at = plus(state.decisionExpectedAt, timings.decisionChaseAfterMs);
    all.push(...climb('decision', 'decision', state.decisionExpectedAt, at, ['student', 'tutor'], timings.escalateAfterMs));
  }
  if (state.stage === 'awarded') {
    for (const t of state.tranches) {
      if (t.receivedCents >= t.amountCents) continue;
      all.push(...climb('tranche', String(t.n), t.expectedAt, plus(t.expectedAt, timings.trancheGraceMs), ['treasurer', 'tutor'], timings.escalateAfterMs));
    }
    for (const r of state.reports) {
      if (r.submittedAt) continue;
      // Before the date: a reminder to the student; missed: the tutor, then the treasurer.
      const notice = plus(r.dueAt, -timings.reportNoticeMs);
      const [first, ...rest] = climb('report', String(r.n), r.dueAt, r.dueAt, ['tutor', 'treasurer'] as Rung[], timings.escalateAfterMs, 'escalation');
      all.push({ key: `report:${r.n}:${r.dueAt}:notice`, at: notice, about: 'report', ref: String(r.n), kind: 'reminder', to: 'student', dueAt: r.dueAt }, first, ...rest);
    }
  }
  return stillToCome(all, state.notified);
}

/**
 * The alarms due now, minus those a later rung of the same item supersedes: after an outage,
 * the tutor gets one escalation, not the reminder and the escalation at once.
 */
export function dueAlarms(state: ApplicationState, timings: ApplicationTimings, now: number): { send: Alarm[]; superseded: Alarm[] } {
  return dueNow(pendingAlarms(state, timings), now);
}
