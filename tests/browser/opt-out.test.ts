import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutreach } from '../../src/service/outreach';
import { seed, startTestStack, waitFor, type TestStack, SEND_NOW } from '../support/stack';

/**
 * What a sponsor sees: the opt-out link of the email they received, opened in a real
 * Chromium, confirmed with the button; the objection is recorded and the next follow-up
 * is not sent.
 */
let stack: TestStack;
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  stack = await startTestStack();
  baseUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the opt-out page, in a browser', () => {
  it('records the objection from the link in the email, and stops the follow-ups', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const contact = sponsor.contacts[0].email;
    await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 1000, policy: { ...SEND_NOW, followUps: ['4s'], grace: '1h', sendTimeout: '10s' } });
    const [summary] = await waitFor(async () => {
      const m = (await stack.catcher.store.list()).filter((x) => x.to.includes(contact));
      return m.length === 1 && m;
    }, 'the first email');
    const mail = (await stack.catcher.store.get(summary.id))!;
    // The link as the sponsor's mail client shows it, pointed at this test's server.
    const link = /href="(http:\/\/127\.0\.0\.1:3600\/opt-out\/[^"]+)"/.exec(mail.html!)![1].replace('http://127.0.0.1:3600', baseUrl);

    const page = await browser.newPage({ locale: 'fr-FR' });
    await page.goto(link);
    expect(await page.title()).toBe('Désinscription');
    expect(await page.textContent('body')).toContain(`à l’adresse ${contact}`);
    const [before] = await stack.sql<{ opted_out_at: Date | null }[]>`SELECT opted_out_at FROM contacts WHERE email = ${contact}`;
    expect(before.opted_out_at).toBeNull(); // opening the page (as a link scanner would) changes nothing
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    await page.waitForSelector('text=C’est fait');
    expect(await page.textContent('body')).toContain(`${contact} ne recevra plus de courriels`);
    await page.close();

    const [after] = await stack.sql<{ opted_out_at: Date | null }[]>`SELECT opted_out_at FROM contacts WHERE email = ${contact}`;
    expect(after.opted_out_at).not.toBeNull();
    await waitFor(async () => {
      const [d] = await stack.sql<{ stage: string }[]>`SELECT stage FROM dossiers WHERE organisation_id = ${sponsor.id}`;
      return d.stage === 'opted_out';
    }, 'stage opted_out');
    expect((await stack.catcher.store.list()).filter((x) => x.to.includes(contact))).toHaveLength(1);
  });

  it('shows a clear French page for an altered link', async () => {
    const page = await browser.newPage({ locale: 'fr-FR' });
    const response = await page.goto(`${baseUrl}/opt-out/1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
    expect(response?.status()).toBe(404);
    expect(await page.textContent('body')).toContain('Ce lien de désinscription n’est pas valide ou a été modifié.');
    await page.close();
  });
});
