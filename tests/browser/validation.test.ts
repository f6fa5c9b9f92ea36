import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPdfActivities } from '../../src/activities/pdf';
import { createValidationActivities } from '../../src/activities/validation';
import { signValidationLink } from '../../src/domain/signed-link';
import { TEST_SECRET } from '../support/deps';
import { seedDossier } from '../support/funding-seed';
import { seed, startTestStack, type TestStack } from '../support/stack';

/**
 * What a tutor sees: the validation links of the email they received, opened in a real
 * Chromium. An expired link gets a clear French page; the "request changes" page will not
 * submit without a comment (and records nothing); with one, the decision goes to the process.
 */
let stack: TestStack;
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  // No worker: a decision finds no process, so the last step shows the "refused" page.
  stack = await startTestStack({ worker: false });
  baseUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function dossierAwaitingValidation() {
  const people = await seed(stack.sql);
  const dossierId = await seedDossier(stack.sql, {
    organisationId: people.sponsor.id,
    contactId: people.sponsor.contacts[0].id,
    studentId: people.student.id,
    tutorId: people.tutor.id,
    amountAskedCents: 250_000,
    stage: 'preparing',
  });
  const doc = await createPdfActivities(stack.deps).renderProposal({ dossierId, version: 1 });
  await createValidationActivities(stack.deps).sendValidationRequest({
    dossierId,
    version: 1,
    key: `${dossierId}:validation:v1`,
    documentId: doc.documentId,
    expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
  });
  const [summary] = (await stack.catcher.store.list()).filter((m) => m.to.includes(people.tutor.email));
  const mail = (await stack.catcher.store.get(summary.id))!;
  // The links as the tutor's mail client shows them, pointed at this test's server.
  const links = [...mail.html!.matchAll(/href="http:\/\/127\.0\.0\.1:3600(\/validation\/[^"]+)"/g)].map((m) => `${baseUrl}${m[1]}`);
  return { ...people, dossierId, approve: links[0], changes: links[1] };
}

describe('the validation pages, in a browser', () => {
  it('shows a clear French page for an expired link', async () => {
    const d = await dossierAwaitingValidation();
    const expired = `${baseUrl}/validation/${signValidationLink(TEST_SECRET, { d: d.dossierId, v: 1, a: 'approve', e: Math.floor(Date.now() / 1000) - 3600 })}`;
    const page = await browser.newPage({ locale: 'fr-FR' });
    const response = await page.goto(expired);
    expect(response?.status()).toBe(410);
    expect(await page.title()).toBe('Validation de la proposition');
    const body = await page.textContent('body');
    expect(body).toContain('Ce lien de validation a expiré.');
    expect(body).toContain('Rien n’a été enregistré.');
    expect(await page.locator('form').count()).toBe(0);
    await page.close();
  });

  it('will not request changes without a comment, and records nothing', async () => {
    const d = await dossierAwaitingValidation();
    const page = await browser.newPage({ locale: 'fr-FR' });
    const response = await page.goto(d.changes);
    expect(response?.status()).toBe(200);
    expect(await page.textContent('h1')).toBe(`Demander des modifications pour ${d.sponsor.name}`);
    expect(await page.textContent('body')).toContain('Le courriel qui sera envoyé');
    const textarea = page.locator('textarea[name=comment]');
    expect(await textarea.getAttribute('required')).not.toBeNull();

    // Submitting empty: the browser refuses (the textarea is required), the page stays.
    await page.click('button[type=submit]');
    expect(await textarea.evaluate((el) => (el as unknown as { validity: { valueMissing: boolean } }).validity.valueMissing)).toBe(true);
    expect(page.url()).toBe(d.changes);
    expect(await stack.sql`SELECT jti FROM link_uses WHERE dossier_id = ${d.dossierId}`).toHaveLength(0);

    // With a comment the form posts; here no process runs, so the decision is refused and the link kept.
    await textarea.fill('Précisez les contreparties proposées.');
    const [posted] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('button[type=submit]')]);
    expect(posted.status()).toBe(409);
    await page.waitForSelector('text=Le lien reste utilisable');
    expect(await page.textContent('body')).toContain('Rien n’a été enregistré.');
    expect(await stack.sql`SELECT jti FROM link_uses WHERE dossier_id = ${d.dossierId}`).toHaveLength(0);
    const [row] = await stack.sql`SELECT decided_at FROM validation_requests WHERE dossier_id = ${d.dossierId}`;
    expect(row.decided_at).toBeNull();
    await page.close();
  });
});
