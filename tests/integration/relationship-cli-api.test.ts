import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPerson } from '../../src/service/people';
import { runMecene } from '../support/cli';
import { seed, stageOf, startTestStack, waitFor, type TestStack } from '../support/stack';

let stack: TestStack;
let policy: string;
beforeAll(async () => {
  stack = await startTestStack();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mecene-rel-'));
  policy = path.join(dir, 'policy.yaml');
  await writeFile(policy, 'followUps: [1h]\ngrace: 1h\nvalidation: none\nholidays: false\nsendWindow: { days: mon-sun, opens: "00:00", closes: "24:00" }\n');
});
afterAll(async () => {
  await stack?.stop();
});

const mecene = (args: string[]) => runMecene(stack, args);
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);

describe('the relationship from the CLI, in French', () => {
  it('records an absence, pauses and resumes, refuses a payment before any pledge, withdraws; bad input is one French line', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const contact = sponsor.contacts[0].email;
    expect((await mecene(['outreach', 'start', sponsor.slug, '--student', student.email, '--tutor', tutor.email, '--ask', '1500', '--policy', policy])).code).toBe(0);
    await waitFor(async () => (await stack.catcher.store.list()).some((m) => m.to.includes(contact)), 'the first email');
    await waitFor(async () => (await stageOf(stack.sql, sponsor.id)) === 'contacted', 'contacted');

    const away = await mecene(['outreach', 'reply', sponsor.slug, '--outcome', 'out_of_office', '--until', inDays(10), '--note', 'congés']);
    expect(away).toMatchObject({ code: 0, stderr: '' });
    expect(away.stdout).toContain('à recontacter');

    const paused = await mecene(['outreach', 'pause', sponsor.slug, '--reason', 'semaine d’examens', '--by', tutor.email]);
    expect(paused.stdout).toBe(`${sponsor.name} : à recontacter. (suspendu)\n`);
    const status = await mecene(['outreach', 'status', sponsor.slug]);
    expect(status.stdout).toMatch(/Suspendu depuis le .* : semaine d’examens/);
    expect(status.stdout).toMatch(/À recontacter à partir du /);
    expect(status.stdout).toContain('dossier suspendu');
    expect((await mecene(['outreach', 'resume', sponsor.slug, '--by', tutor.email])).code).toBe(0);

    const treasurer = await addPerson(stack.sql, { role: 'treasurer', name: 'Nadia Benali', email: `nadia.${sponsor.slug}@tresorerie.test` });
    const early = await mecene(['outreach', 'payment', sponsor.slug, '--amount', '500', '--as', treasurer.email]);
    expect(early.code).toBe(1);
    expect(early.stderr).toBe(`Étape impossible pour « ${sponsor.name} » à ce stade (étape actuelle : à recontacter).\n`);
    const badDate = await mecene(['outreach', 'meeting', sponsor.slug, '--at', 'jeudi', '--place', 'Paris', '--by', student.email]);
    expect(badDate.code).toBe(1);
    expect(badDate.stderr).toMatch(/^Données invalides : at : date attendue/);

    const ended = await mecene(['outreach', 'end', sponsor.slug, '--outcome', 'withdrawn', '--reason', 'priorités revues', '--by', tutor.email]);
    expect(ended.stdout).toContain('retiré');
    const [row] = await stack.sql<{ stage: string; close_reason: string }[]>`SELECT stage, close_reason FROM dossiers WHERE organisation_id = ${sponsor.id}`;
    expect(row).toEqual({ stage: 'withdrawn', close_reason: 'priorités revues' });
  });
});

describe('the relationship over HTTP', () => {
  it('pauses with the right role, says who may not (403, in English on request), 404 for an unknown sponsor, 400 for a bad body', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    await stack.app.inject({ method: 'POST', url: '/api/outreach', payload: { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 900, policy: { followUps: ['1h'], grace: '1h', validation: 'none', holidays: false } } });
    await waitFor(async () => (await stageOf(stack.sql, sponsor.id)) === 'contacted', 'contacted');
    const outsider = await addPerson(stack.sql, { role: 'treasurer', name: 'Paul Martin', email: `paul.${sponsor.slug}@tresorerie.test` });
    const forbidden = await stack.app.inject({ method: 'POST', url: `/api/outreach/${sponsor.slug}/handover`, payload: { to: student.email, by: outsider.email }, headers: { 'accept-language': 'en' } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.message).toBe(`${outsider.email} is registered as treasurer, not as tutor or student.`);
    const bad = await stack.app.inject({ method: 'POST', url: `/api/outreach/${sponsor.slug}/pause`, payload: { by: tutor.email } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: { field: string }) => d.field)).toEqual(['reason']);
    expect((await stack.app.inject({ method: 'POST', url: '/api/outreach/inconnu/pause', payload: { reason: 'x', by: tutor.email } })).statusCode).toBe(404);
    const paused = await stack.app.inject({ method: 'POST', url: `/api/outreach/${sponsor.slug}/pause`, payload: { reason: 'attente du budget', by: tutor.email } });
    expect(paused.statusCode).toBe(200);
    expect(paused.json().paused).toMatchObject({ reason: 'attente du budget', by: tutor.email });
    const again = await stack.app.inject({ method: 'POST', url: `/api/outreach/${sponsor.slug}/pause`, payload: { reason: 'encore', by: tutor.email } });
    expect(again.statusCode).toBe(409);
    const [row] = await stack.sql<{ paused_reason: string | null }[]>`SELECT paused_reason FROM dossiers WHERE organisation_id = ${sponsor.id}`;
    expect(row.paused_reason).toBe('attente du budget');
  });
});
