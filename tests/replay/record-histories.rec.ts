import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { optOutToken } from '../../src/domain/opt-out';
import { closeOutreach, recordReply, restartFollowUps, startOutreach } from '../../src/service/outreach';
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
  // The CLI's JSON is the format Temporal's tools exchange (`temporal workflow show -o json`).
  const shown = spawnSync(inject('temporalCli'), ['workflow', 'show', '-w', handle.workflowId, '-o', 'json', '--address', inject('temporalAddress')], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(shown.status, shown.stderr).toBe(0);
  const history = JSON.parse(shown.stdout);
  expect(history.events.length).toBeGreaterThan(5);
  await writeFile(path.join(OUT, `sponsor-outreach-${scenario}-${VERSION}.json`), JSON.stringify(history, null, 1) + '\n');
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
