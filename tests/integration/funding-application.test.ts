import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeceneError } from '../../src/domain/errors';
import {
  addFunder,
  applicationStatus,
  completeDraft,
  markDocumentReady,
  moveDeadline,
  recordDecision,
  recordMoney,
  recordReportSubmitted,
  recordSubmission,
  reviewApplication,
  signOffBudget,
  startApplication,
} from '../../src/service/applications';
import { addPerson, type Person } from '../../src/service/people';
import { fundingApplicationId, type ApplicationStatus } from '../../src/workflows/funding-application/messages';
import { seed, startTestStack, waitFor, type TestStack } from '../support/stack';

let stack: TestStack;
let student: Person;
let tutor: Person;
let treasurer: Person;
beforeAll(async () => {
  stack = await startTestStack();
  ({ student, tutor } = await seed(stack.sql));
  treasurer = await addPerson(stack.sql, { role: 'treasurer', name: 'Nadia Benali', email: 'nadia.benali@tresorerie.test' });
});
afterAll(async () => {
  await stack?.stop();
});

const DAY = 86_400_000;
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
/** A policy whose milestones are far away: no reminder interferes with the steps under test. */
const quiet = { draft: '40m', tutorReview: '30m', treasurerSignoff: '20m', submitted: '10m', escalateAfter: '1h', decisionChaseAfter: '1h', reportNotice: '1h', trancheGrace: '1h', sendTimeout: '10s' };

let funders = 0;
async function start(overrides: Record<string, unknown> = {}) {
  const funder = await addFunder(stack.sql, { name: `Région Île-de-France ${++funders} ${Math.random().toString(36).slice(2, 6)}` });
  const started = await startApplication(stack.outreach, {
    funder: funder.slug,
    programme: 'Appel à projets « Jeunesse engagée » 2027',
    ask: '15 000',
    deadline: inMs(2 * 3_600_000),
    student: student.email,
    tutor: tutor.email,
    policy: quiet,
    ...overrides,
  });
  await waitFor(async () => (await stack.sql`SELECT 1 FROM applications WHERE id = ${started.applicationId}`).length > 0, 'the application row');
  return started;
}

const mailsTo = async (address: string) => (await stack.catcher.store.list()).filter((m) => m.to.includes(address));
const eventsOf = async (id: string) => (await stack.sql<{ kind: string; detail: any }[]>`SELECT kind, detail FROM application_events WHERE application_id = ${id} ORDER BY id`).map((e) => e);
async function rejects(promise: Promise<unknown>, key: string): Promise<MeceneError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected ${key}`).toBeInstanceOf(MeceneError);
  expect((error as MeceneError).key).toBe(key);
  return error as MeceneError;
}

describe('funding application on real Temporal, PostgreSQL and SMTP', () => {
  it('works milestones back from the deadline and moves the pending ones when the funder extends it', async () => {
    const deadline = new Date(Date.now() + 40 * DAY);
    const started = await start({ deadline: deadline.toISOString(), policy: {} }); // the defaults: D-21, D-14, D-7, D-2
    const dues = async () =>
      Object.fromEntries(
        (await stack.sql<{ key: string; due_at: Date }[]>`SELECT key, due_at FROM application_milestones WHERE application_id = ${started.applicationId}`).map((m) => [m.key, m.due_at.getTime()]),
      );
    expect(await dues()).toEqual({
      draft: deadline.getTime() - 21 * DAY,
      tutor_review: deadline.getTime() - 14 * DAY,
      treasurer_signoff: deadline.getTime() - 7 * DAY,
      submitted: deadline.getTime() - 2 * DAY,
    });

    await completeDraft(stack.outreach, started.ref, { by: student.email });
    const extended = new Date(deadline.getTime() + 10 * DAY);
    const status = await moveDeadline(stack.outreach, started.ref, { deadline: extended.toISOString(), by: tutor.email });
    expect(status.deadline).toBe(extended.toISOString());
    // The reached milestone keeps its date; every pending one moves by ten days, in PostgreSQL too.
    expect(await dues()).toEqual({
      draft: deadline.getTime() - 21 * DAY,
      tutor_review: extended.getTime() - 14 * DAY,
      treasurer_signoff: extended.getTime() - 7 * DAY,
      submitted: extended.getTime() - 2 * DAY,
    });
    const [row] = await stack.sql<{ deadline_at: Date }[]>`SELECT deadline_at FROM applications WHERE id = ${started.applicationId}`;
    expect(row.deadline_at.getTime()).toBe(extended.getTime());
    expect((await eventsOf(started.applicationId)).map((e) => e.kind)).toContain('deadline_moved');
    await rejects(moveDeadline(stack.outreach, started.ref, { deadline: '2020-01-01 12:00', by: tutor.email }), 'error.deadlinePassed');
  });

  it('reminds the owner of a late milestone, then climbs the ladder: tutor, then treasurer', async () => {
    // Draft due 4 s from now; 2 s between rungs; the tutor review is due 10 s later.
    const started = await start({ deadline: inMs(24_000), policy: { ...quiet, draft: '20s', tutorReview: '10s', treasurerSignoff: '6s', submitted: '3s', escalateAfter: '2s' } });
    const subjectOf = (m: { subject: string }) => m.subject;
    const [reminder] = await waitFor(async () => {
      const m = (await mailsTo(student.email)).filter((x) => x.subject.includes(started.funder.name));
      return m.length >= 1 && m;
    }, 'the reminder to the student');
    expect(subjectOf(reminder)).toMatch(/^\[Mécène\] Rappel : terminer le brouillon/);
    const toTutor = await waitFor(async () => {
      const m = (await mailsTo(tutor.email)).filter((x) => x.subject.includes(started.funder.name));
      return m.length >= 1 && m;
    }, 'the escalation to the tutor');
    expect(toTutor[0].subject).toMatch(/En retard : terminer le brouillon/);
    const full = (await stack.catcher.store.get(toTutor[0].id))!;
    expect(full.text).toContain(`Responsable : ${student.name} (${student.email})`);
    expect(full.text).toContain(`applications draft-done ${started.ref}`);
    await waitFor(async () => (await mailsTo(treasurer.email)).some((x) => x.subject.includes(started.funder.name)), 'the escalation to the treasurer');

    const events = await eventsOf(started.applicationId);
    expect(events.filter((e) => e.kind === 'reminder_sent').map((e) => e.detail.to)).toEqual(['student']);
    expect(events.filter((e) => e.kind === 'escalated').map((e) => e.detail.to)).toEqual(['tutor', 'treasurer']);

    // Draft done: the draft's ladder stops; the tutor review is now the awaited step, and its owner is reminded.
    await completeDraft(stack.outreach, started.ref, { by: student.email });
    await waitFor(async () => (await eventsOf(started.applicationId)).some((e) => e.kind === 'reminder_sent' && e.detail.ref === 'tutor_review'), 'the tutor review reminder');
    const draftNotices = (await eventsOf(started.applicationId)).filter((e) => ['reminder_sent', 'escalated'].includes(e.kind) && e.detail.ref === 'draft');
    expect(draftNotices).toHaveLength(3);
    // Each notice went out exactly once.
    const [{ count }] = await stack.sql<{ count: number }[]>`
      SELECT count(*)::int AS count FROM emails WHERE application_id = ${started.applicationId} AND status = 'sent' AND kind <> 'application_approval'`;
    expect(count).toBe((await eventsOf(started.applicationId)).filter((e) => ['reminder_sent', 'escalated'].includes(e.kind)).length);
  });

  it('goes through review, sign-off, submission, award, tranches and reports to completion, checking who may do what', async () => {
    const started = await start({ documents: ['Budget prévisionnel', 'Statuts'] });
    const { ref, applicationId } = started;
    const deps = stack.outreach;

    await rejects(recordSubmission(deps, ref, { by: student.email }), 'error.applicationWrongStep');
    expect((await completeDraft(deps, ref, { by: student.email })).stage).toBe('review');
    await rejects(reviewApplication(deps, ref, { decision: 'approve', by: student.email }), 'error.wrongRole');

    // Changes requested: back to drafting, and the student receives the comment.
    const changed = await reviewApplication(deps, ref, { decision: 'changes', comment: 'Le budget doit détailler les frais de déplacement.', by: tutor.email });
    expect(changed.stage).toBe('drafting');
    const changesMail = await waitFor(async () => (await mailsTo(student.email)).find((m) => m.subject.startsWith('[Mécène] Modifications demandées') && m.subject.includes(started.funder.name)), 'the comment to the student');
    expect((await stack.catcher.store.get(changesMail.id))!.text).toContain('Le budget doit détailler les frais de déplacement.');

    await completeDraft(deps, ref, { by: student.email });
    expect((await reviewApplication(deps, ref, { decision: 'approve', by: tutor.email })).stage).toBe('signoff');
    await rejects(signOffBudget(deps, ref, { by: tutor.email }), 'error.wrongRole');
    expect((await signOffBudget(deps, ref, { by: treasurer.email })).stage).toBe('ready');

    const missing = await rejects(recordSubmission(deps, ref, { by: student.email }), 'error.documentsMissing');
    expect(missing.params.missing).toBe('Budget prévisionnel, Statuts');
    await rejects(markDocumentReady(deps, ref, { document: 'Bilan', by: student.email }), 'error.unknownItem');
    await markDocumentReady(deps, ref, { document: 'Budget prévisionnel', by: student.email });
    await markDocumentReady(deps, ref, { document: 'Statuts', by: student.email });
    expect((await recordSubmission(deps, ref, { by: student.email })).stage).toBe('submitted');

    await rejects(
      recordDecision(deps, ref, { outcome: 'awarded', amount: '12 000', tranches: [{ expected: '2027-03-01', amount: '7000' }, { expected: '2027-09-01', amount: '6000' }], by: student.email }),
      'error.tranchesMismatch',
    );
    const awarded = await recordDecision(deps, ref, {
      outcome: 'awarded',
      amount: '12 000',
      tranches: [{ expected: inMs(3_600_000), amount: '6000' }, { expected: inMs(7_200_000), amount: '6 000' }],
      reports: [{ kind: 'final', due: inMs(5 * 3_600_000) }],
      by: student.email,
    });
    expect(awarded.stage).toBe('awarded');
    expect(awarded.amountAwardedCents).toBe(1_200_000);

    await rejects(recordMoney(deps, ref, { tranche: 1, amount: '7000', as: treasurer.email }), 'error.updateRejected');
    await rejects(recordMoney(deps, ref, { tranche: 1, amount: '6000', as: student.email }), 'error.wrongRole');
    await recordMoney(deps, ref, { tranche: 1, amount: '6000', on: '2026-11-20', note: 'VIR-2026-114', as: treasurer.email });
    const allMoney = await recordMoney(deps, ref, { amount: '6000', as: treasurer.email }); // the next open tranche: n° 2
    expect(allMoney.tranches.map((x) => x.receivedCents)).toEqual([600_000, 600_000]);
    expect(allMoney.stage).toBe('awarded'); // the final report is still owed

    const done = await recordReportSubmitted(deps, ref, { report: 1, by: student.email });
    expect(done.stage).toBe('completed');
    const result = await stack.client.workflow.getHandle(fundingApplicationId(applicationId)).result();
    expect((result as ApplicationStatus).stage).toBe('completed');

    // PostgreSQL and the pipeline agree with the process, to the cent.
    const [app] = await stack.sql<any[]>`SELECT stage, amount_awarded_cents, closed_at FROM applications WHERE id = ${applicationId}`;
    expect(app.stage).toBe('completed');
    expect(Number(app.amount_awarded_cents)).toBe(1_200_000);
    expect(app.closed_at).not.toBeNull();
    const money = await stack.sql<any[]>`SELECT tranche_n, amount_cents, received_on::text, recorded_by, note FROM money_received WHERE application_id = ${applicationId} ORDER BY id`;
    expect(money.map((m) => [m.tranche_n, Number(m.amount_cents), m.recorded_by])).toEqual([
      [1, 600_000, treasurer.email],
      [2, 600_000, treasurer.email],
    ]);
    expect(money[0].received_on).toBe('2026-11-20');
    expect(money[0].note).toBe('VIR-2026-114');
    const [item] = await stack.sql<any[]>`SELECT status, stage, asked_cents, committed_cents, received_cents, weighted_cents FROM pipeline WHERE ref_id = ${applicationId}`;
    expect(item).toMatchObject({ status: 'won', stage: 'completed' });
    expect([Number(item.asked_cents), Number(item.committed_cents), Number(item.received_cents), Number(item.weighted_cents)]).toEqual([1_500_000, 1_200_000, 1_200_000, 1_200_000]);

    const view = await applicationStatus(deps, ref);
    expect(view.milestones.every((m) => m.reachedAt)).toBe(true);
    expect(view.reports[0].submittedAt).not.toBeNull();
    expect(view.events.map((e) => e.kind)).toEqual([
      'started', 'milestone_reached', 'changes_requested', 'milestone_reached', 'milestone_reached', 'milestone_reached',
      'document_ready', 'document_ready', 'submitted', 'decision_recorded', 'money_received', 'money_received', 'report_submitted', 'completed',
    ]);
  });

  it('chases a late decision, reminds the treasurer of a late tranche and the student of a report, and records a refusal', async () => {
    const ready = async (overrides: Record<string, unknown>) => {
      const s = await start(overrides);
      await completeDraft(stack.outreach, s.ref, { by: student.email });
      await reviewApplication(stack.outreach, s.ref, { decision: 'approve', by: tutor.email });
      await signOffBudget(stack.outreach, s.ref, { by: treasurer.email });
      await recordSubmission(stack.outreach, s.ref, { by: student.email });
      return s;
    };
    // Submitted just before the deadline; the decision is expected a second later and chased one second after that.
    const late = await ready({ deadline: inMs(2_000), decisionExpected: inMs(3_000), policy: { ...quiet, decisionChaseAfter: '1s' } });
    await waitFor(async () => (await mailsTo(student.email)).find((m) => m.subject.includes('relancer le financeur') && m.subject.includes(late.funder.name)), 'the chase reminder');
    const refused = await recordDecision(stack.outreach, late.ref, { outcome: 'refused', reason: 'Projet hors du périmètre de l’appel', by: tutor.email });
    expect(refused.stage).toBe('refused');
    const [row] = await stack.sql<any[]>`SELECT a.outcome_reason, p.status, p.weighted_cents FROM applications a JOIN pipeline p ON p.ref_id = a.id WHERE a.id = ${late.applicationId}`;
    expect(row.outcome_reason).toBe('Projet hors du périmètre de l’appel');
    expect(row.status).toBe('lost');
    expect(Number(row.weighted_cents)).toBe(0);

    // Awarded: tranche expected in 1 s (treasurer reminded 1 s later), report due in 4 s (student reminded 2 s before).
    const awarded = await ready({ policy: { ...quiet, trancheGrace: '1s', reportNotice: '2s' } });
    await recordDecision(stack.outreach, awarded.ref, {
      outcome: 'awarded', amount: '5000', tranches: [{ expected: inMs(1_000), amount: '5000' }], reports: [{ kind: 'interim', due: inMs(4_000) }], by: tutor.email,
    });
    const tranche = await waitFor(async () => (await mailsTo(treasurer.email)).find((m) => m.subject.includes('tranche n° 1') && m.subject.includes(awarded.funder.name)), 'the late tranche reminder');
    expect((await stack.catcher.store.get(tranche.id))!.text).toContain(`applications receive ${awarded.ref} --tranche 1`);
    await waitFor(async () => (await mailsTo(student.email)).find((m) => m.subject.includes('rapport intermédiaire') && m.subject.includes(awarded.funder.name)), 'the report reminder');
    // Overdue in the pipeline as soon as the day passes; today the due date is what is stored.
    const [item] = await stack.sql<any[]>`SELECT next_payment_due_on IS NOT NULL AS payment, next_report_due_on IS NOT NULL AS report FROM pipeline WHERE ref_id = ${awarded.applicationId}`;
    expect(item).toEqual({ payment: true, report: true });
  });

  it('continues as new with its state and pending reminders when the history grows', async () => {
    const docs = Array.from({ length: 8 }, (_, i) => `Pièce ${i + 1}`);
    const started = await start({ documents: docs, deadline: inMs(3_600_000 + 12_000), policy: { ...quiet, draft: '1h', historyLimit: 20 } });
    const handle = stack.client.workflow.getHandle(fundingApplicationId(started.applicationId));
    const firstRun = (await handle.describe()).runId;
    for (const document of docs) await markDocumentReady(stack.outreach, started.ref, { document, by: student.email });
    const secondRun = await waitFor(async () => {
      const d = await stack.client.workflow.getHandle(fundingApplicationId(started.applicationId)).describe();
      return d.runId !== firstRun && d.status.name === 'RUNNING' && d.runId;
    }, 'a new run');
    expect(secondRun).not.toBe(firstRun);
    // Nothing lost: the checklist, the event numbering and the draft's reminder (due in ~12 s) carry over.
    const status = await stack.client.workflow.getHandle(fundingApplicationId(started.applicationId)).query('applicationStatus') as ApplicationStatus;
    expect(status.documents.every((d) => d.readyAt)).toBe(true);
    expect(status.eventSeq).toBe(8);
    await waitFor(async () => (await mailsTo(student.email)).find((m) => m.subject.includes('Rappel : terminer le brouillon') && m.subject.includes(started.funder.name)), 'the reminder after continue-as-new', 30_000);
    await waitFor(async () => (await eventsOf(started.applicationId)).some((e) => e.kind === 'reminder_sent'), 'the reminder in the timeline');
    const keys = await stack.sql<{ event_key: string }[]>`SELECT event_key FROM application_events WHERE application_id = ${started.applicationId} ORDER BY id`;
    expect(new Set(keys.map((k) => k.event_key)).size).toBe(keys.length);
    expect(keys.at(-1)!.event_key).toBe(`${started.applicationId}:9`);
  });

  it('asks the tutor and the treasurer by email with signed single-use links, and records their decisions', async () => {
    const started = await start();
    const { ref } = started;
    await completeDraft(stack.outreach, ref, { by: student.email });
    const links = async (to: string) => {
      const mail = await waitFor(async () => {
        for (const m of await mailsTo(to)) {
          const full = (await stack.catcher.store.get(m.id))!;
          if (full.subject.startsWith('[Mécène] À valider') && full.subject.includes(started.funder.name) && full.text.includes('/approval/')) return full;
        }
        return null;
      }, `the approval request to ${to}`);
      return [...mail.text.matchAll(/http:\/\/127\.0\.0\.1:3600(\/approval\/\S+)/g)].map((m) => m[1]);
    };
    const [approve, changes] = await links(tutor.email);
    expect((await stack.app.inject({ method: 'GET', url: changes })).body).toContain('<textarea');
    expect((await stack.app.inject({ method: 'POST', url: approve.slice(0, -3) + 'AAA' })).statusCode).toBe(400); // altered
    const noComment = await stack.app.inject({ method: 'POST', url: changes, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'comment=' });
    expect(noComment.statusCode).toBe(409);
    const approved = await stack.app.inject({ method: 'POST', url: approve });
    expect(approved.statusCode).toBe(200);
    expect(approved.body).toContain('relecture du tuteur');
    expect((await applicationStatus(stack.outreach, ref)).application.stage).toBe('signoff');
    const reused = await stack.app.inject({ method: 'POST', url: approve });
    expect(reused.statusCode).toBe(409);
    const outdated = await stack.app.inject({ method: 'POST', url: changes, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'comment=trop+tard' });
    expect(outdated.statusCode).toBe(410);

    const [signoff] = await links(treasurer.email);
    expect((await stack.app.inject({ method: 'POST', url: signoff })).statusCode).toBe(200);
    const view = await applicationStatus(stack.outreach, ref);
    expect(view.application.stage).toBe('ready');
    expect(view.milestones.find((m) => m.key === 'tutor_review')!.reachedBy).toBe(tutor.email);
    expect(view.milestones.find((m) => m.key === 'treasurer_signoff')!.reachedBy).toBe(treasurer.email);
    const uses = await stack.sql<{ milestone: string; outcome: string }[]>`SELECT milestone, outcome FROM application_link_uses WHERE application_id = ${started.applicationId} ORDER BY used_at`;
    expect(uses.map((u) => [u.milestone, u.outcome])).toEqual([['tutor_review', 'approve'], ['treasurer_signoff', 'approve']]);
  });
});
