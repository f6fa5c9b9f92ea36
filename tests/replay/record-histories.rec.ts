import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { optOutToken } from '../../src/domain/opt-out';
import { closeOutreach, recordReply, restartFollowUps, startOutreach } from '../../src/service/outreach';
import { handOverDossier, pauseDossier, recordMeetingResult, recordPayment, recordPledge, resubmitProposal, resumeDossier, scheduleMeeting } from '../../src/service/relationship';
import { addFunder, completeDraft, markDocumentReady, moveDeadline, recordDecision, recordMoney, recordReportSubmitted, recordSubmission, reviewApplication, signOffBudget, startApplication } from '../../src/service/applications';
import { addPerson } from '../../src/service/people';
import { fundingApplicationId } from '../../src/workflows/funding-application/messages';
import { sponsorOutreachId } from '../../src/workflows/sponsor-outreach/messages';
import { TEST_SECRET } from '../support/deps';
import { seed, stageOf, startTestStack, waitFor, type TestStack, SEND_NOW } from '../support/stack';

/**
 * Records finished runs of the sponsor outreach workflow, one per scenario, into
 * tests/replay/histories/. Run it when the workflow changes (the new code under `patched()`),
 * with a new version suffix, and keep the old files: running dossiers still have old histories.
 */
const VERSION = process.env.HISTORY_VERSION ?? 'v1';
const OUT = path.resolve('tests/replay/histories');
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function save(sponsorId: number, scenario: string) {
  const handle = stack.client.workflow.getHandle(sponsorOutreachId(sponsorId));
  await handle.result();
  await writeHistory(handle.workflowId, undefined, `sponsor-outreach-${scenario}`);
}

/** The CLI's JSON is the format Temporal's tools exchange (`temporal workflow show -o json`). */
async function writeHistory(workflowId: string, runId: string | undefined, name: string) {
  const args = ['workflow', 'show', '-w', workflowId, ...(runId ? ['-r', runId] : []), '-o', 'json', '--address', inject('temporalAddress')];
  const shown = spawnSync(inject('temporalCli'), args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(shown.status, shown.stderr).toBe(0);
  const history = JSON.parse(shown.stdout);
  expect(history.events.length).toBeGreaterThan(5);
  await writeFile(path.join(OUT, `${name}-${VERSION}.json`), JSON.stringify(history, null, 1) + '\n');
}

const stage = (id: number) => stageOf(stack.sql, id);

it('records: silence, follow-ups, tutor alert, restart, close', async () => {
  const { student, tutor, sponsor } = await seed(stack.sql);
  await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 2500, policy: { ...SEND_NOW, followUps: ['1s', '2s'], grace: '1s', sendTimeout: '10s' } });
  await waitFor(async () => (await stage(sponsor.id)) === 'escalated', 'escalated');
  await restartFollowUps(stack.outreach, sponsor.slug, { by: tutor.email });
  await waitFor(async () => (await stage(sponsor.id)) === 'escalated', 'escalated again');
  await closeOutreach(stack.outreach, sponsor.slug, { reason: 'sans réponse', by: tutor.email });
  await save(sponsor.id, 'silence-restart-close');
});

it('records: reply meeting, then declined', async () => {
  const { student, tutor, sponsor } = await seed(stack.sql);
  await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 900, policy: { ...SEND_NOW, followUps: ['1s', '60s'], grace: '60s', sendTimeout: '10s' } });
  await waitFor(async () => (await stage(sponsor.id)) === 'followed_up', 'followed_up');
  await recordReply(stack.outreach, sponsor.slug, { outcome: 'meeting', note: 'RDV' });
  await recordReply(stack.outreach, sponsor.slug, { outcome: 'declined', note: 'budget' });
  await save(sponsor.id, 'reply-meeting-declined');
});

it('records: the contact objects before a follow-up', async () => {
  const { student, tutor, sponsor } = await seed(stack.sql);
  await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 300, policy: { ...SEND_NOW, followUps: ['2s'], grace: '60s', sendTimeout: '10s' } });
  await waitFor(async () => (await stage(sponsor.id)) === 'contacted', 'contacted');
  await stack.app.inject({ method: 'POST', url: `/opt-out/${optOutToken(TEST_SECRET, sponsor.contacts[0].id)}` });
  await save(sponsor.id, 'opted-out');
});

// Funding applications: `npm run histories:record -- -t application` records only these.
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
async function application(deadlineMs: number, policy: Record<string, unknown>, documents: string[] = []) {
  const { student, tutor } = await seed(stack.sql);
  const suffix = Math.random().toString(36).slice(2, 7);
  const treasurer = await addPerson(stack.sql, { role: 'treasurer', name: 'Nadia Benali', email: `nadia.${suffix}@tresorerie.test` });
  const funder = await addFunder(stack.sql, { name: `Région Île-de-France ${suffix}` });
  const started = await startApplication(stack.outreach, {
    funder: funder.slug, programme: 'Jeunesse engagée 2027', ask: '15000', deadline: inMs(deadlineMs), decisionExpected: inMs(deadlineMs + 2_000),
    student: student.email, tutor: tutor.email, documents, policy: { sendTimeout: '10s', ...policy },
  });
  const events = async () => (await stack.sql<{ kind: string }[]>`SELECT kind FROM application_events WHERE application_id = ${started.applicationId}`).map((e) => e.kind);
  return { ...started, student, tutor, treasurer, events };
}

it('records application: ladder, changes, deadline moved, award, tranches, report, completed', async () => {
  const a = await application(16_000, { draft: '14s', tutorReview: '10s', treasurerSignoff: '6s', submitted: '3s', escalateAfter: '1s', trancheGrace: '1s', reportNotice: '1s' }, ['Budget']);
  await waitFor(async () => (await a.events()).filter((k) => k === 'escalated').length >= 1, 'an escalation');
  await completeDraft(stack.outreach, a.ref, { by: a.student.email });
  await reviewApplication(stack.outreach, a.ref, { decision: 'changes', comment: 'Détailler le budget.', by: a.tutor.email });
  await completeDraft(stack.outreach, a.ref, { by: a.student.email });
  await moveDeadline(stack.outreach, a.ref, { deadline: inMs(60_000), decisionExpected: inMs(62_000), by: a.tutor.email });
  await reviewApplication(stack.outreach, a.ref, { decision: 'approve', by: a.tutor.email });
  await signOffBudget(stack.outreach, a.ref, { by: a.treasurer.email });
  await markDocumentReady(stack.outreach, a.ref, { document: 'Budget', by: a.student.email });
  await recordSubmission(stack.outreach, a.ref, { by: a.student.email });
  await recordDecision(stack.outreach, a.ref, { outcome: 'awarded', amount: '10000', tranches: [{ expected: inMs(500), amount: '6000' }, { expected: inMs(60_000), amount: '4000' }], reports: [{ kind: 'final', due: inMs(2_500) }], by: a.tutor.email });
  await waitFor(async () => (await a.events()).includes('reminder_sent'), 'a tranche reminder');
  await recordMoney(stack.outreach, a.ref, { amount: '6000', as: a.treasurer.email });
  await recordMoney(stack.outreach, a.ref, { amount: '4000', as: a.treasurer.email });
  await recordReportSubmitted(stack.outreach, a.ref, { report: 1, by: a.student.email });
  const handle = stack.client.workflow.getHandle(fundingApplicationId(a.applicationId));
  await handle.result();
  await writeHistory(handle.workflowId, undefined, 'funding-application-ladder-award-completed');
});

it('records application: decision chased, then refused', async () => {
  const a = await application(1_500, { draft: '40m', tutorReview: '30m', treasurerSignoff: '20m', submitted: '10m', escalateAfter: '1h', decisionChaseAfter: '1s' });
  await completeDraft(stack.outreach, a.ref, { by: a.student.email });
  await reviewApplication(stack.outreach, a.ref, { decision: 'approve', by: a.tutor.email });
  await signOffBudget(stack.outreach, a.ref, { by: a.treasurer.email });
  await recordSubmission(stack.outreach, a.ref, { by: a.student.email });
  await waitFor(async () => (await a.events()).filter((k) => k === 'reminder_sent').length >= 2, 'the chase');
  await recordDecision(stack.outreach, a.ref, { outcome: 'refused', reason: 'Hors périmètre', by: a.tutor.email });
  const handle = stack.client.workflow.getHandle(fundingApplicationId(a.applicationId));
  await handle.result();
  await writeHistory(handle.workflowId, undefined, 'funding-application-chased-refused');
});

it('records application: a run that continues as new', async () => {
  const docs = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'];
  const a = await application(3_600_000, { draft: '40m', tutorReview: '30m', treasurerSignoff: '20m', submitted: '10m', historyLimit: 20 }, docs);
  const handle = stack.client.workflow.getHandle(fundingApplicationId(a.applicationId));
  const firstRun = (await handle.describe()).runId;
  for (const document of docs) await markDocumentReady(stack.outreach, a.ref, { document, by: a.student.email });
  await waitFor(async () => (await handle.describe()).runId !== firstRun, 'continue-as-new');
  await writeHistory(handle.workflowId, firstRun, 'funding-application-continued-as-new');
});

// The whole sponsor relationship (since `sponsor-relationship`): `npm run histories:record -- -t relationship`.
const relationshipPolicy = { followUps: ['2s'], grace: '1h', sendTimeout: '10s', holidays: false, nextStep: '1h', escalateAfter: '1s', meetingReminder: '2s', instalmentGrace: '1s' };
async function relationship(policy: Record<string, unknown>) {
  const { student, tutor, sponsor } = await seed(stack.sql);
  const suffix = Math.random().toString(36).slice(2, 7);
  const treasurer = await addPerson(stack.sql, { role: 'treasurer', name: 'Nadia Benali', email: `nadia.${suffix}@tresorerie.test` });
  await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 3000, policy });
  const mails = async (to: string) => (await stack.catcher.store.list()).filter((m) => m.to.includes(to));
  const links = async (version: number) => {
    const request = await waitFor(async () => {
      for (const m of await mails(tutor.email)) {
        const full = (await stack.catcher.store.get(m.id))!;
        if (full.text.includes(`version ${version}`) && full.subject.includes(sponsor.name)) return full;
      }
      return null;
    }, `validation request v${version}`);
    return [...request.text.matchAll(/http:\/\/127\.0\.0\.1:3600(\/validation\/\S+)/g)].map((m) => m[1]);
  };
  return { student, tutor, sponsor, treasurer, mails, links };
}
const done = async (sponsorId: number, name: string) => {
  const handle = stack.client.workflow.getHandle(sponsorOutreachId(sponsorId));
  await handle.result();
  await writeHistory(handle.workflowId, undefined, `sponsor-relationship-${name}`);
};

it('records relationship: validation, meeting, pledge, payments, won', async () => {
  const r = await relationship(relationshipPolicy);
  const [approve] = await r.links(1);
  await stack.app.inject({ method: 'POST', url: approve });
  await waitFor(async () => (await r.mails(r.sponsor.contacts[0].email)).length >= 1, 'first email');
  await recordReply(stack.outreach, r.sponsor.slug, { outcome: 'meeting', note: 'RDV' });
  await scheduleMeeting(stack.outreach, r.sponsor.slug, { at: new Date(Date.now() + 3000).toISOString(), duration: 30, place: 'Paris', by: r.student.email });
  await waitFor(async () => (await stageOf(stack.sql, r.sponsor.id)) === 'meeting' && (await r.mails(r.student.email)).length >= 1, 'meeting reminder');
  await recordMeetingResult(stack.outreach, r.sponsor.slug, { meeting: 1, summary: 'accord', by: r.student.email });
  await recordPledge(stack.outreach, r.sponsor.slug, { amount: '3000', instalments: [{ expected: new Date(Date.now() + 500).toISOString(), amount: '1000' }, { expected: new Date(Date.now() + 86_400_000).toISOString(), amount: '2000' }], by: r.student.email });
  await new Promise((resolve) => setTimeout(resolve, 2500)); // the late instalment's reminder
  await recordPayment(stack.outreach, r.sponsor.slug, { amount: '1000', as: r.treasurer.email });
  await recordPayment(stack.outreach, r.sponsor.slug, { amount: '2000', as: r.treasurer.email });
  await done(r.sponsor.id, 'validation-meeting-pledge-won');
});

it('records relationship: changes, resubmission, callback, declined with a closing email', async () => {
  const r = await relationship(relationshipPolicy);
  const [, changes] = await r.links(1);
  await stack.app.inject({ method: 'POST', url: changes, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'comment=plus+de+d%C3%A9tails' });
  await waitFor(async () => (await stageOf(stack.sql, r.sponsor.id)) === 'changes_requested', 'changes requested');
  await resubmitProposal(stack.outreach, r.sponsor.slug, { ask: '3500', by: r.student.email });
  const [approve] = await r.links(2);
  await stack.app.inject({ method: 'POST', url: approve });
  await waitFor(async () => (await r.mails(r.sponsor.contacts[0].email)).length >= 1, 'first email');
  await recordReply(stack.outreach, r.sponsor.slug, { outcome: 'callback', note: 'plus tard', until: new Date(Date.now() + 2000).toISOString() });
  await waitFor(async () => (await r.mails(r.sponsor.contacts[0].email)).length >= 2, 'follow-up after the callback');
  await recordReply(stack.outreach, r.sponsor.slug, { outcome: 'declined', reason: 'budget', closingEmail: true, note: 'budget' });
  await done(r.sponsor.id, 'changes-callback-declined');
});

it('records relationship: pause, handover, restart after the alert, opted out', async () => {
  const r = await relationship({ ...relationshipPolicy, validation: 'none', grace: '1s' });
  const contact = r.sponsor.contacts[0];
  await waitFor(async () => (await r.mails(contact.email)).length >= 1, 'first email');
  await pauseDossier(stack.outreach, r.sponsor.slug, { reason: 'examens', by: r.tutor.email });
  await resumeDossier(stack.outreach, r.sponsor.slug, { by: r.tutor.email });
  const next = await addPerson(stack.sql, { role: 'student', name: 'Léa Fournier', email: `lea.${r.sponsor.slug}@etu.test` });
  await handOverDossier(stack.outreach, r.sponsor.slug, { to: next.email, by: r.tutor.email });
  await waitFor(async () => (await stageOf(stack.sql, r.sponsor.id)) === 'escalated', 'escalated');
  await restartFollowUps(stack.outreach, r.sponsor.slug, { by: r.tutor.email });
  await stack.app.inject({ method: 'POST', url: `/opt-out/${optOutToken(TEST_SECRET, contact.id)}` });
  await done(r.sponsor.id, 'pause-handover-restart-opted-out');
});
