import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parisDay } from '../../src/domain/dates';
import { addPerson } from '../../src/service/people';
import { addDays, setCampaignGoal } from '../../src/service/goal';
import { pipelineSummary } from '../../src/service/pipeline';
import { seedApplication, seedDossier, seedFunder, seedSponsorPayment } from '../support/funding-seed';
import { seed, startTestStack, type TestStack } from '../support/stack';

/**
 * What the treasurer sees: the pipeline page in a real Chromium, its two charts drawn, in
 * French, and the picture downloaded from the link as an SVG file Chromium's XML parser reads.
 */
const today = parisDay(new Date());
let stack: TestStack;
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  baseUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();

  const { student, tutor, sponsor } = await seed(stack.sql);
  const treasurer = await addPerson(stack.sql, { role: 'treasurer', name: 'Sophie Bertin', email: 'sophie@asso.test' });
  const people = { studentId: student.id, tutorId: tutor.id };
  const dossier = await seedDossier(stack.sql, { ...people, organisationId: sponsor.id, contactId: sponsor.contacts[0].id, amountAskedCents: 500_000, stage: 'meeting' });
  await seedSponsorPayment(stack.sql, dossier, 150_000, addDays(today, -20));
  const region = await seedFunder(stack.sql, 'Région Île-de-France');
  await seedApplication(stack.sql, {
    ...people, funderId: region.id, programme: 'Jeunesse 2027', amountRequestedCents: 2_000_000, stage: 'awarded', amountAwardedCents: 1_600_000,
    tranches: [{ expectedOn: addDays(today, -40), amountCents: 800_000 }, { expectedOn: addDays(today, -5), amountCents: 500_000 }, { expectedOn: addDays(today, 12), amountCents: 300_000 }],
    received: [{ tranche: 1, amountCents: 800_000, on: addDays(today, -38) }],
  });
  const fondation = await seedFunder(stack.sql, 'Fondation de France', 'foundation');
  await seedApplication(stack.sql, { ...people, funderId: fondation.id, amountRequestedCents: 1_000_000, stage: 'submitted' });
  await setCampaignGoal(stack.sql, { label: 'Campagne 2027', amount: '40 000', from: addDays(today, -60), to: addDays(today, 300), as: treasurer.email });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the pipeline page, in a browser', () => {
  it('draws both charts, in French, and downloads them as SVG pictures', async () => {
    const summary = await pipelineSummary(stack.sql);
    const context = await browser.newContext({ locale: 'fr-FR', acceptDownloads: true });
    const page = await context.newPage();
    const response = await page.goto(`${baseUrl}/pipeline`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Pipeline de financement');
    expect(await page.locator('h2').allTextContents()).toEqual([
      'Argent', 'Reçu face à l’objectif', 'Pipeline par étape', 'Versements en retard (1)', 'Rapports en retard (0)',
      `Argent attendu dans les 30 prochains jours : 3\u202f000,00\u00a0€`,
    ]);
    expect(await page.textContent('#money')).toContain('Objectif « Campagne 2027 » : 40\u202f000,00\u00a0€');

    // The stage chart: an asked and a weighted bar per stage, drawn with a real width.
    const bars = await page.locator('#stages svg rect.bar').evaluateAll((rects) =>
      rects.map((r) => ({ kind: r.classList.contains('asked') ? 'asked' : 'weighted', cents: Number(r.getAttribute('data-cents')), width: (r as unknown as { getBBox(): { width: number } }).getBBox().width })),
    );
    expect(bars).toHaveLength(summary.stages.length * 2);
    expect(bars.filter((b) => b.kind === 'asked').map((b) => b.cents)).toEqual(summary.stages.map((s) => s.askedCents));
    expect(bars.every((b) => b.width > 0)).toBe(true);
    const widest = bars.reduce((a, b) => (b.cents > a.cents ? b : a));
    expect(bars.every((b) => b.width <= widest.width)).toBe(true);
    expect(await page.locator('#stages svg text.stage').allTextContents()).toEqual(['rendez-vous (1)', 'déposée (1)', 'accordée (1)']);

    // The received chart: the cumulative line and the goal line, drawn.
    // (Code run in the page: the project's TypeScript has no DOM types, hence the `any`.)
    const lines = await page.evaluate(() => {
      const document = (globalThis as any).document;
      const line = document.querySelector('#received svg path.received');
      const goal = document.querySelector('#received svg line.goal');
      return { length: line.getTotalLength() as number, cents: line.getAttribute('data-cents') as string, goal: goal.getAttribute('data-cents') as string, goalWidth: goal.getBBox().width as number };
    });
    expect(lines.length).toBeGreaterThan(100);
    expect(lines.cents).toBe('950000');
    expect(lines.goal).toBe('4000000');
    expect(lines.goalWidth).toBeGreaterThan(500);

    // The download link: a file named for the day, an SVG picture Chromium's XML parser reads.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#received a[download]')]);
    expect(download.suggestedFilename()).toBe(`recu-objectif-${today}.svg`);
    const file = await readFile((await download.path())!, 'utf8');
    const href = await page.getAttribute('#stages a[download]', 'href');
    const stages = await page.request.get(`${baseUrl}${href}`);
    expect(stages.headers()['content-type']).toMatch(/^image\/svg\+xml/);
    expect(stages.headers()['content-disposition']).toBe(`attachment; filename="pipeline-etapes-${today}.svg"`);
    const parsed = await page.evaluate(
      (texts) =>
        texts.map((text) => {
          const doc = new (globalThis as any).DOMParser().parseFromString(text, 'image/svg+xml');
          const root = doc.documentElement;
          return { errors: doc.getElementsByTagName('parsererror').length, root: root.nodeName, ns: root.namespaceURI, width: root.getAttribute('width'), bars: doc.querySelectorAll('rect.bar').length, received: doc.querySelectorAll('path.received').length };
        }),
      [file, await stages.text()],
    );
    expect(parsed).toEqual([
      { errors: 0, root: 'svg', ns: 'http://www.w3.org/2000/svg', width: '720', bars: 0, received: 1 },
      { errors: 0, root: 'svg', ns: 'http://www.w3.org/2000/svg', width: '720', bars: summary.stages.length * 2, received: 0 },
    ]);
    await context.close();
  });

  it('switches to English', async () => {
    const page = await browser.newPage({ locale: 'fr-FR' });
    await page.goto(`${baseUrl}/pipeline`);
    expect(await page.locator('h1').textContent()).toBe('Pipeline de financement');
    await page.click('nav a');
    await page.waitForURL(/lang=en/);
    expect(await page.locator('h1').textContent()).toBe('Funding pipeline');
    expect(await page.locator('#stages svg text.stage').allTextContents()).toEqual(['meeting (1)', 'submitted (1)', 'awarded (1)']);
    expect(await page.getAttribute('#received a[download]', 'href')).toBe('/pipeline/received.svg?lang=en');
    await page.close();
  });
});
