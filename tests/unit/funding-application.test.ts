import { describe, expect, it } from 'vitest';
import { applicationPolicySchema, applicationStartInput, parseReportSpec, parseTrancheSpec } from '../../src/domain/applications';
import { parseParisDateTime } from '../../src/domain/dates';
import { dueAlarms, ladderFrom, pendingAlarms } from '../../src/workflows/funding-application/alarms';
import type { ApplicationState, ApplicationTimings } from '../../src/workflows/funding-application/messages';

const S = 1000;
const timings: ApplicationTimings = {
  milestoneOffsetsMs: { draft: 21 * S, tutor_review: 14 * S, treasurer_signoff: 7 * S, submitted: 2 * S },
  escalateAfterMs: 3 * S,
  decisionChaseAfterMs: 7 * S,
  reportNoticeMs: 14 * S,
  trancheGraceMs: 7 * S,
  sendTimeoutMs: 60 * S,
  historyLimit: 5000,
};
const iso = (ms: number) => new Date(ms).toISOString();
const deadline = Date.parse('2027-03-15T11:00:00.000Z');

function state(over: Partial<ApplicationState> = {}): ApplicationState {
  return {
    applicationId: 'a',
    funder: { id: 1, slug: 'region', name: 'Région' },
    programme: 'P',
    stage: 'drafting',
    deadline: iso(deadline),
    decisionExpectedAt: iso(deadline + 60 * S),
    amountRequestedCents: 100,
    amountAwardedCents: null,
    milestones: (['draft', 'tutor_review', 'treasurer_signoff', 'submitted'] as const).map((key) => ({
      key,
      owner: ({ draft: 'student', tutor_review: 'tutor', treasurer_signoff: 'treasurer', submitted: 'student' } as const)[key],
      dueAt: iso(deadline - timings.milestoneOffsetsMs[key]),
      reachedAt: null,
      by: null,
    })),
    documents: [],
    tranches: [],
    reports: [],
    notified: [],
    outcome: null,
    eventSeq: 0,
    moneySeq: 0,
    ...over,
  };
}

describe('escalation ladder of an application', () => {
  it('climbs from the owner: student → tutor → treasurer; tutor → treasurer; treasurer → tutor', () => {
    expect(ladderFrom('student')).toEqual(['student', 'tutor', 'treasurer']);
    expect(ladderFrom('tutor')).toEqual(['tutor', 'treasurer']);
    expect(ladderFrom('treasurer')).toEqual(['treasurer', 'tutor']);
  });

  it('only the next milestone to reach raises alarms, at its due date then every escalateAfter', () => {
    const alarms = pendingAlarms(state(), timings);
    expect(alarms.map((a) => [a.ref, a.kind, a.to, a.at])).toEqual([
      ['draft', 'reminder', 'student', iso(deadline - 21 * S)],
      ['draft', 'escalation', 'tutor', iso(deadline - 18 * S)],
      ['draft', 'escalation', 'treasurer', iso(deadline - 15 * S)],
    ]);
    const reviewed = state({ stage: 'review' });
    reviewed.milestones[0].reachedAt = iso(deadline - 30 * S);
    expect(pendingAlarms(reviewed, timings).map((a) => [a.ref, a.to])).toEqual([
      ['tutor_review', 'tutor'],
      ['tutor_review', 'treasurer'],
    ]);
  });

  it('forgets alarms already handled, and makes fresh ones when the deadline (hence the due date) moves', () => {
    const s = state();
    const first = pendingAlarms(s, timings)[0];
    s.notified.push(first.key);
    expect(pendingAlarms(s, timings)[0].kind).toBe('escalation');
    s.milestones[0].dueAt = iso(deadline + 10 * S - 21 * S);
    expect(pendingAlarms(s, timings)[0]).toMatchObject({ kind: 'reminder', to: 'student' });
  });

  it('after an outage sends only the highest rung due, and marks the others handled', () => {
    const { send, superseded } = dueAlarms(state(), timings, deadline - 16 * S);
    expect(send.map((a) => a.to)).toEqual(['tutor']);
    expect(superseded.map((a) => a.to)).toEqual(['student']);
  });

  it('chases the decision, late tranches and reports after an award', () => {
    const submitted = pendingAlarms(state({ stage: 'submitted' }), timings);
    expect(submitted.map((a) => [a.about, a.to, a.at])).toEqual([
      ['decision', 'student', iso(deadline + 67 * S)],
      ['decision', 'tutor', iso(deadline + 70 * S)],
    ]);
    const awarded = state({
      stage: 'awarded',
      tranches: [
        { n: 1, expectedAt: iso(deadline + 100 * S), amountCents: 500, receivedCents: 500 },
        { n: 2, expectedAt: iso(deadline + 200 * S), amountCents: 500, receivedCents: 100 },
      ],
      reports: [{ n: 1, kind: 'final', dueAt: iso(deadline + 300 * S), submittedAt: null }],
    });
    expect(pendingAlarms(awarded, timings).map((a) => [a.about, a.ref, a.kind, a.to, a.at])).toEqual([
      ['tranche', '2', 'reminder', 'treasurer', iso(deadline + 207 * S)],
      ['tranche', '2', 'escalation', 'tutor', iso(deadline + 210 * S)],
      ['report', '1', 'reminder', 'student', iso(deadline + 286 * S)],
      ['report', '1', 'escalation', 'tutor', iso(deadline + 300 * S)],
      ['report', '1', 'escalation', 'treasurer', iso(deadline + 303 * S)],
    ]);
    expect(pendingAlarms({ ...awarded, stage: 'completed' }, timings)).toEqual([]);
  });
});

describe('dates and amounts typed for an application', () => {
  it('reads Paris wall-clock times across daylight saving; a day alone is its end', () => {
    expect(parseParisDateTime('2027-03-15 12:00')?.toISOString()).toBe('2027-03-15T11:00:00.000Z'); // winter, UTC+1
    expect(parseParisDateTime('2027-07-14 12:00')?.toISOString()).toBe('2027-07-14T10:00:00.000Z'); // summer, UTC+2
    expect(parseParisDateTime('2027-03-28 12:00')?.toISOString()).toBe('2027-03-28T10:00:00.000Z'); // the day clocks go forward
    expect(parseParisDateTime('2026-10-25 12:00')?.toISOString()).toBe('2026-10-25T11:00:00.000Z'); // the day they go back
    expect(parseParisDateTime('2027-03-15')?.toISOString()).toBe('2027-03-15T22:59:00.000Z');
    expect(parseParisDateTime('2027-02-30')).toBeNull();
    expect(parseParisDateTime('15/03/2027')).toBeNull();
  });

  it('parses tranche and report specs from the CLI', () => {
    expect(parseTrancheSpec('2027-03-01:5000')).toEqual({ expected: '2027-03-01', amount: '5000' });
    expect(parseTrancheSpec('2027-03-01 12:00=5 000,50')).toEqual({ expected: '2027-03-01 12:00', amount: '5 000,50' });
    expect(parseReportSpec('final:2028-01-31')).toEqual({ kind: 'final', due: '2028-01-31' });
  });

  it('rejects a policy whose milestones are out of order, naming the field', () => {
    const result = applicationPolicySchema.safeParse({ draft: '7d', tutorReview: '14d' });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toContain('tutorReview');
  });

  it('rejects a deadline in the past and a decision before the deadline', () => {
    const result = applicationStartInput.safeParse({
      funder: 'region', programme: 'P', ask: '1000', deadline: '2020-01-01 12:00', decisionExpected: '2019-12-01', student: 'a@b.fr', tutor: 'c@d.fr',
    });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['deadline', 'decisionExpected']);
  });
});
