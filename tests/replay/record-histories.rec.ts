import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { optOutToken } from '../../src/domain/opt-out';
import { closeOutreach, recordReply, restartFollowUps, startOutreach } from '../../src/service/outreach';
import { addFunder, completeDraft, markDocumentReady, moveDeadline, recordDecision, recordMoney, recordReportSubmitted, recordSubmission, reviewApplication, signOffBudget, startApplication } from '../../src/service/applications';
import { addPerson } from '../../src/service/people';
import { fundingApplicationId } from '../../src/workflows/funding-application/messages';
import { sponsorOutreachId } from '../../src/workflows/sponsor-outreach/messages';
import { TEST_SECRET } from '../support/deps';
import { seed, stageOf, startTestStack, waitFor, type TestStack } from '../support/stack';

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
  await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 2500, policy: { followUps: ['1s', '2s'], grace: '1s', sendTimeout: '10s' } });
  await waitFor(async () => (await stage(sponsor.id)) === 'escalated', 'escalated');
  await restartFollowUps(stack.outreach, sponsor.slug, { by: tutor.email });
  await waitFor(async () => (await stage(sponsor.id)) === 'escalated', 'escalated again');
  await closeOutreach(stack.outreach, sponsor.slug, { reason: 'sans réponse', by: tutor.email });
  await save(sponsor.id, 'silence-restart-close');
});

it('records: reply meeting, then declined', async () => {
  const { student, tutor, sponsor } = await seed(stack.sql);
  await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 900, policy: { followUps: ['1s', '60s'], grace: '60s', sendTimeout: '10s' } });
  await waitFor(async () => (await stage(sponsor.id)) === 'followed_up', 'followed_up');
  await recordReply(stack.outreach, sponsor.slug, { outcome: 'meeting', note: 'RDV' });
  await recordReply(stack.outreach, sponsor.slug, { outcome: 'declined', note: 'budget' });
  await save(sponsor.id, 'reply-meeting-declined');
});

it('records: the contact objects before a follow-up', async () => {
  const { student, tutor, sponsor } = await seed(stack.sql);
  await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 300, policy: { followUps: ['2s'], grace: '60s', sendTimeout: '10s' } });
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
