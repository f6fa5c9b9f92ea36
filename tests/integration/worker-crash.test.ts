import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { closeOutreach, startOutreach } from '../../src/service/outreach';
import { seed, stageOf, startTestStack, waitFor, type TestStack, SEND_NOW } from '../support/stack';

/**
 * The worker is a separate process killed with SIGKILL, as when a machine dies: the dossier
 * must carry on after a restart, and the SMTP server must count each Message-ID exactly once.
 */
let stack: TestStack;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await stack?.stop();
});

async function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/worker-process.ts'], {
    env: {
      ...process.env,
      TEST_DB_URL: stack.db.url,
      TEST_SMTP_PORT: String(stack.catcher.port),
      TEST_TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEST_TASK_QUEUE: stack.taskQueue,
      TEST_BUNDLE: inject('workflowBundlePath'),
      TEST_DATA_DIR: stack.dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      if (output.includes('ready')) resolve();
    });
    child.stderr!.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before ready:\n${output}`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** Messages received per Message-ID for one recipient. */
async function countsByMessageId(address: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const m of await stack.catcher.store.list()) if (m.to.includes(address)) counts.set(m.messageId!, (counts.get(m.messageId!) ?? 0) + 1);
  return counts;
}

describe('a worker that dies', () => {
  it('while the dossier waits: the follow-up still goes out once after the restart', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const contact = sponsor.contacts[0].email;
    let worker = await startWorkerProcess();
    await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 3000, policy: { ...SEND_NOW, followUps: ['5s'], grace: '1h', sendTimeout: '5s' } });
    await waitFor(async () => (await countsByMessageId(contact)).size === 1, 'the first email');
    await kill(worker);
    await new Promise((r) => setTimeout(r, 6000)); // the follow-up falls due while no worker runs
    expect((await countsByMessageId(contact)).size).toBe(1);
    worker = await startWorkerProcess();
    await waitFor(async () => (await countsByMessageId(contact)).size === 2, 'the follow-up after restart', 60_000);
    await waitFor(async () => (await stageOf(stack.sql, sponsor.id)) === 'followed_up', 'stage followed_up');
    expect([...(await countsByMessageId(contact)).values()]).toEqual([1, 1]);
    await closeOutreach(stack.outreach, sponsor.slug, { reason: 'test' });
    await kill(worker);
  });

  it('in the middle of sending: the email arrives exactly once after the restart', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const contact = sponsor.contacts[0].email;
    let worker = await startWorkerProcess();
    // The SMTP server receives the whole message but withholds its "250 OK": the sender is mid-send.
    const held = stack.catcher.holdNext((envelope) => envelope.to.includes(contact));
    await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 3000, policy: { ...SEND_NOW, followUps: ['1h'], grace: '1h', sendTimeout: '4s' } });
    const hold = await held;
    await kill(worker);
    hold.release(); // the connection is gone: a real MTA discards an unacknowledged message
    await new Promise((r) => setTimeout(r, 300));
    expect((await countsByMessageId(contact)).size).toBe(0);
    const [row] = await stack.sql<{ status: string; attempts: number }[]>`
      SELECT e.status, e.attempts FROM emails e JOIN dossiers d ON d.id = e.dossier_id WHERE d.organisation_id = ${sponsor.id}`;
    expect(row).toMatchObject({ status: 'sending', attempts: 1 });

    worker = await startWorkerProcess();
    await waitFor(async () => (await countsByMessageId(contact)).size === 1, 'the email after restart', 60_000);
    await waitFor(async () => (await stageOf(stack.sql, sponsor.id)) === 'contacted', 'stage contacted');
    await new Promise((r) => setTimeout(r, 1000));
    expect([...(await countsByMessageId(contact)).values()]).toEqual([1]);
    const [after] = await stack.sql<{ status: string; attempts: number }[]>`
      SELECT e.status, e.attempts FROM emails e JOIN dossiers d ON d.id = e.dossier_id WHERE d.organisation_id = ${sponsor.id}`;
    expect(after.status).toBe('sent');
    expect(after.attempts).toBeGreaterThanOrEqual(2);
    await closeOutreach(stack.outreach, sponsor.slug, { reason: 'test' });
    await kill(worker);
  });
});
