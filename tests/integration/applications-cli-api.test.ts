import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPerson } from '../../src/service/people';
import { runMecene } from '../support/cli';
import { seed, startTestStack, type TestStack } from '../support/stack';

let stack: TestStack;
let people: { student: string; tutor: string; treasurer: string };
beforeAll(async () => {
  stack = await startTestStack();
  const { student, tutor } = await seed(stack.sql);
  const treasurer = await addPerson(stack.sql, { role: 'treasurer', name: 'Nadia Benali', email: 'nadia@tresorerie.test' });
  people = { student: student.email, tutor: tutor.email, treasurer: treasurer.email };
});
afterAll(async () => {
  await stack?.stop();
});

const mecene = (args: string[], env: Record<string, string | undefined> = {}) => runMecene(stack, args, env);
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('applications from the CLI, in French', () => {
  it('registers a funder, starts an application, shows its milestones, records steps and refuses bad ones clearly', async () => {
    const funder = await mecene(['funders', 'add', '--name', 'Fondation de France']);
    expect(funder).toMatchObject({ code: 0, stderr: '' });
    expect(funder.stdout).toBe('Financeur ajouté : Fondation de France (identifiant « fondation-de-france »)\n');

    const started = await mecene([
      'applications', 'start', '--funder', 'fondation-de-france', '--programme', 'Initiatives citoyennes', '--ask', '8 000',
      '--deadline', `${inDays(40)} 12:00`, '--student', people.student, '--tutor', people.tutor, '--document', 'Budget prévisionnel', '--document', 'Statuts',
    ]);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const ref = /référence ([0-9a-f]{8})/.exec(started.stdout)![1];
    expect(started.stdout).toContain('brouillon terminé');
    expect(started.stdout).toContain('dépôt auprès du financeur');

    const list = await mecene(['applications', 'list']);
    expect(list.stdout).toContain('Fondation de France');
    expect(list.stdout).toContain('8\u202f000,00');
    expect(list.stdout).toContain('rédaction');

    const draft = await mecene(['applications', 'draft-done', ref, '--by', people.student]);
    expect(draft).toMatchObject({ code: 0, stderr: '' });
    expect(draft.stdout).toContain('Fondation de France — Initiatives citoyennes : relecture tuteur.');
    expect(draft.stdout).toMatch(/Prochain rappel : rappel du jalon « tutor_review », le /);

    // Wrong role, wrong step, bad option, unknown reference: one French line, non-zero exit, nothing changed.
    const wrongRole = await mecene(['applications', 'review', ref, '--approve', '--as', people.student]);
    expect(wrongRole.code).not.toBe(0);
    expect(wrongRole.stderr).toMatch(/est enregistré·e comme étudiant·e, pas comme tuteur·rice/);
    const wrongStep = await mecene(['applications', 'submit', ref, '--by', people.student]);
    expect(wrongStep.stderr).toBe(`Impossible à cette étape de la candidature « Fondation de France — Initiatives citoyennes » (étape actuelle : relecture tuteur).\n`);
    const both = await mecene(['applications', 'review', ref, '--as', people.tutor]);
    expect(both.stderr).toContain('choisissez --approve ou --changes');
    const unknown = await mecene(['applications', 'show', 'ffffffff']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('Candidature inconnue : « ffffffff »');

    expect((await mecene(['applications', 'review', ref, '--approve', '--as', people.tutor])).code).toBe(0);
    expect((await mecene(['applications', 'sign-off', ref, '--as', people.treasurer])).code).toBe(0);
    const missing = await mecene(['applications', 'submit', ref, '--by', people.student]);
    expect(missing.stderr).toContain('pièces non prêtes : Budget prévisionnel, Statuts');

    const show = await mecene(['applications', 'show', ref]);
    expect(show.stdout).toContain('Étape : visa trésorier'.replace('visa trésorier', 'prête à déposer'));
    expect(show.stdout).toMatch(/✓ .* brouillon terminé/);
    expect(show.stdout).toContain('· Statuts');
    const json = JSON.parse((await mecene(['applications', 'show', ref, '--json'])).stdout);
    expect(json.milestones.filter((m: { reachedAt: string | null }) => m.reachedAt)).toHaveLength(3);

    const bad = await mecene(['applications', 'start', '--funder', 'fondation-de-france', '--programme', 'X', '--ask', 'beaucoup', '--deadline', '2020-13-45', '--student', people.student, '--tutor', people.tutor]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('ask');
    expect(bad.stderr).toContain('deadline');
  });
});

describe('applications over HTTP', () => {
  it('starts, steps and reads an application; bad bodies get 400 with the fields, roles 403, unknown 404', async () => {
    const funder = await stack.app.inject({ method: 'POST', url: '/api/funders', payload: { name: 'Ville de Lyon' } });
    expect(funder.statusCode).toBe(201);
    const bad = await stack.app.inject({ method: 'POST', url: '/api/applications', payload: { funder: 'ville-de-lyon', programme: 'X', ask: -3, deadline: 'demain' } });
    expect(bad.statusCode).toBe(400);
    const fields = bad.json().error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['ask', 'deadline', 'student', 'tutor']));

    const started = await stack.app.inject({
      method: 'POST',
      url: '/api/applications',
      payload: { funder: 'ville-de-lyon', programme: 'Fonds d’initiative locale', ask: '3000', deadline: `${inDays(30)} 18:00`, student: people.student, tutor: people.tutor },
    });
    expect(started.statusCode).toBe(201);
    const { ref } = started.json();
    const draft = await stack.app.inject({ method: 'POST', url: `/api/applications/${ref}/draft-done`, payload: { by: people.student } });
    expect(draft.statusCode).toBe(200);
    expect(draft.json().stage).toBe('review');
    const forbidden = await stack.app.inject({ method: 'POST', url: `/api/applications/${ref}/sign-off`, payload: { by: people.tutor }, headers: { 'accept-language': 'en' } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.message).toContain('is registered as tutor, not as treasurer');
    const conflict = await stack.app.inject({ method: 'POST', url: `/api/applications/${ref}/sign-off`, payload: { by: people.treasurer } });
    expect(conflict.statusCode).toBe(409);
    const view = await stack.app.inject({ method: 'GET', url: `/api/applications/${ref}` });
    expect(view.json().application.stage).toBe('review');
    expect(view.json().upcoming[0]).toMatchObject({ about: 'milestone', ref: 'tutor_review', to: 'tutor' });
    expect((await stack.app.inject({ method: 'GET', url: '/api/applications/00000000' })).statusCode).toBe(404);
    const listed = (await stack.app.inject({ method: 'GET', url: '/api/applications' })).json();
    expect(listed.map((a: { ref: string }) => a.ref)).toContain(ref);
  });
});
