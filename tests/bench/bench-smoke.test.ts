import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignBaseline, campaignWithTemporal } from '../../bench/campaign';
import { figure, percentile, pool } from '../../bench/stats';
import { fillWaiting, pipelineLatency, reactionLatency, drain } from '../../bench/waiting';
import { startTestStack, type TestStack } from '../support/stack';

/** Keeps `npm run bench` working: every measure at a tiny size, checking outcomes, not times. */
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('benchmark smoke run (N = 10)', () => {
  it('campaign through Temporal and as a plain script close every dossier, each email once', async () => {
    const seconds = await campaignWithTemporal({ sql: stack.sql, client: stack.client, taskQueue: stack.taskQueue, n: 10, prefix: 'smoke-t' });
    const baseline = await campaignBaseline({ sql: stack.sql, smtpPort: stack.catcher.port, dataDir: stack.dataDir, n: 10, prefix: 'smoke-b' });
    expect(seconds).toBeGreaterThan(0);
    expect(baseline).toBeGreaterThan(0);
    const closed = await stack.sql<{ stage: string; closed: boolean }[]>`
      SELECT d.stage, d.closed_at IS NOT NULL AS closed FROM dossiers d JOIN organisations o ON o.id = d.organisation_id WHERE o.slug LIKE 'smoke-%'`;
    expect(closed).toHaveLength(20);
    expect(closed.every((d) => d.stage === 'lost' && d.closed)).toBe(true);
    const mails = (await stack.catcher.store.list()).filter((m) => m.to.some((t) => t.includes('@smoke-')));
    expect(mails).toHaveLength(20);
    expect(new Set(mails.map((m) => m.messageId)).size).toBe(20);
  });

  it('waiting, reaction through the HTTP API, drain and pipeline views', async () => {
    const filled = await fillWaiting({ sql: stack.sql, client: stack.client, taskQueue: stack.taskQueue, n: 6, prefix: 'smoke-w' });
    const baseUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
    const reaction = await reactionLatency({ app: stack.app, baseUrl, sql: stack.sql, slugs: filled.sponsors.slice(0, 3) });
    expect(reaction.n).toBe(3);
    await drain({ sql: stack.sql, client: stack.client, ids: filled.sponsors.slice(3).map((s) => s.id) });
    const views = await pipelineLatency(baseUrl, 2);
    expect(views.view.p95).toBeGreaterThan(0);
  });

  it('computes medians, percentiles and bounded pools', async () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([5], 95)).toBe(5);
    expect(figure([3, 1, 2])).toMatchObject({ median: 2, min: 1, max: 3 });
    let inFlight = 0;
    let peak = 0;
    const out = await pool([1, 2, 3, 4, 5, 6], 2, async (x) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return x * 2;
    });
    expect(out).toEqual([2, 4, 6, 8, 10, 12]);
    expect(peak).toBe(2);
  });
});
