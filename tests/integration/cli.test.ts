import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMecene } from '../support/cli';
import { startTestStack, waitFor, type TestStack } from '../support/stack';

let stack: TestStack;
let work: string;
beforeAll(async () => {
  stack = await startTestStack();
  work = await mkdtemp(path.join(os.tmpdir(), 'mecene-cli-'));
});
afterAll(async () => {
  await stack?.stop();
});

/** Runs the real `mecene` command against the test stack's services. */
const mecene = (args: string[], env: Record<string, string | undefined> = {}) => runMecene(stack, args, env);

describe('mecene CLI', () => {
  it('registers people and sponsors, in French', async () => {
    const student = await mecene(['people', 'add', '--role', 'student', '--name', 'Léa Fournier', '--email', 'lea@etu.test']);
    expect(student).toMatchObject({ code: 0, stderr: '' });
    expect(student.stdout).toMatch(/^étudiant·e ajouté·e : Léa Fournier <lea@etu.test> \(n° \d+\)\n$/);
    expect((await mecene(['people', 'add', '--role', 'tutor', '--name', 'Marc Roux', '--email', 'marc@tuteurs.test'])).code).toBe(0);
    const people = JSON.parse((await mecene(['people', 'list', '--json'])).stdout);
    expect(people.map((p: { email: string }) => p.email)).toEqual(expect.arrayContaining(['lea@etu.test', 'marc@tuteurs.test']));

    const sponsor = await mecene(['sponsors', 'add', '--name', 'Crédit Coopératif', '--kind', 'company', '--contact-name', 'Paul Girard', '--contact-email', 'paul@credit.test', '--source', 'site web de l’entreprise']);
    expect(sponsor.stdout).toBe('Mécène ajouté : Crédit Coopératif (identifiant « credit-cooperatif »)\n');
    const list = await mecene(['sponsors', 'list']);
    expect(list.stdout).toContain('credit-cooperatif');
    expect(list.stdout).toContain('Paul Girard <paul@credit.test>');
  });

  it('reports rejected CSV rows and imports nothing, unless --skip-invalid', async () => {
    const file = path.join(work, 'mecenes.csv');
    await writeFile(file, 'name,kind,contact_name,contact_email,source\n"Fondation ""Avenir""",foundation,Zoé Lambert,zoe@avenir.test,salon\nMauvaise,spaceship,Jean,jean@x.test,\n');
    const refused = await mecene(['sponsors', 'import', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ligne 3 : kind');
    expect(refused.stderr).toContain('source');
    expect(refused.stderr.trim().split('\n').at(-1)).toBe(`1 ligne(s) rejetée(s) dans ${file} ; rien n’a été importé. Corrigez-les ou relancez avec --skip-invalid.`);
    expect((await mecene(['sponsors', 'show', 'fondation-avenir'])).code).toBe(1);
    const skipped = await mecene(['sponsors', 'import', file, '--skip-invalid']);
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain('1 mécène(s) importé(s)');
    expect((await mecene(['sponsors', 'show', 'fondation-avenir'])).stdout).toContain('Fondation "Avenir"');
  });

  it('starts, follows and closes an outreach with a policy file; reads the caught mail', async () => {
    const policy = path.join(work, 'policy.yaml');
    await writeFile(policy, 'followUps: [1h]\ngrace: 1h\nsendTimeout: 10s\nvalidation: none\nholidays: false\nsendWindow: { days: mon-sun, opens: "00:00", closes: "24:00" }\n');
    const start = await mecene(['outreach', 'start', 'fondation-avenir', '--student', 'lea@etu.test', '--tutor', 'marc@tuteurs.test', '--ask', '4000', '--policy', policy]);
    expect(start.stderr).toBe('');
    expect(start.stdout).toMatch(/^Démarche lancée pour « Fondation "Avenir" » : processus sponsor-\d+, dossier [0-9a-f-]{36}\.\n$/);

    await waitFor(async () => (await mecene(['outreach', 'status', 'fondation-avenir', '--json'])).stdout.includes('"stage": "contacted"'), 'stage contacted');
    const status = await mecene(['outreach', 'status', 'fondation-avenir']);
    expect(status.stdout).toContain('Étape : contacté');
    expect(status.stdout).toContain('Prochaine action : relance n° 1 le');
    expect((await mecene(['outreach', 'list'])).stdout).toContain('fondation-avenir');

    const second = await mecene(['outreach', 'start', 'fondation-avenir', '--student', 'lea@etu.test', '--tutor', 'marc@tuteurs.test', '--ask', '10']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^Une démarche est déjà en cours pour « Fondation "Avenir" » \(processus sponsor-\d+, étape : contacté\)/);

    const mails = JSON.parse((await mecene(['mail', 'list', '--json'])).stdout);
    const mail = mails.find((m: { to: string[] }) => m.to.includes('zoe@avenir.test'));
    const saveDir = path.join(work, 'pj');
    const shown = await mecene(['mail', 'show', mail.id, '--save-attachments', saveDir]);
    expect(shown.stdout).toContain('Objet : Rencontres du service public 2027 : proposition de partenariat pour Fondation "Avenir"');
    expect(shown.stdout).toContain('Reply-To : lea@etu.test');
    expect(await readdir(saveDir)).toEqual(['Proposition-fondation-avenir.pdf']);

    const reply = await mecene(['outreach', 'reply', 'fondation-avenir', '--outcome', 'interested', '--note', 'Appeler Zoé']);
    expect(reply.stdout).toBe('Réponse enregistrée pour « Fondation "Avenir" » : intéressé. Étape : intéressé.\n');
    const close = await mecene(['outreach', 'close', 'fondation-avenir', '--reason', 'reporté à 2028']);
    expect(close.stdout).toBe('Démarche clôturée pour « Fondation "Avenir" » : reporté à 2028.\n');
  });

  it('ends every failure with one French line and a non-zero code', async () => {
    const cases: [string[], Record<string, string | undefined>, number, RegExp][] = [
      [['outreach', 'start', 'x', '--student', 'a@b.test'], {}, 2, /^Option invalide : option obligatoire manquante : --tutor <adresse>$/],
      [['outreach', 'reply', 'x', '--outcome', 'peut-être'], {}, 2, /^Option invalide : valeur « peut-être » invalide pour --outcome <issue> ; choix possibles : interested, meeting, declined, callback, out_of_office$/],
      [['sponsors', 'frobnicate'], {}, 2, /^Option invalide : (commande inconnue|trop d’arguments)/],
      [['outreach', 'status', 'personne'], {}, 1, /^Mécène inconnu : « personne »\. Voir `mecene sponsors list`\.$/],
      [['outreach', 'start', 'credit-cooperatif', '--student', 'lea@etu.test', '--tutor', 'marc@tuteurs.test', '--ask', 'beaucoup'], {}, 1, /^Données invalides : ask : montant en euros attendu/],
      [['outreach', 'start', 'credit-cooperatif', '--student', 'marc@tuteurs.test', '--tutor', 'marc@tuteurs.test', '--ask', '10'], {}, 1, /^marc@tuteurs\.test est enregistré·e comme tuteur·rice, pas comme étudiant·e\.$/],
      [['outreach', 'start', 'credit-cooperatif', '--student', 'lea@etu.test', '--tutor', 'marc@tuteurs.test', '--ask', '10', '--policy', '/nonexistent.yaml'], {}, 1, /^Fichier introuvable : \/nonexistent\.yaml$/],
      [['outreach', 'status', 'credit-cooperatif'], { TEMPORAL_ADDRESS: '127.0.0.1:1' }, 1, /^Serveur Temporal injoignable \(127\.0\.0\.1:1\)/],
      [['sponsors', 'list'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' }, 1, /^Base de données injoignable/],
      [['sponsors', 'list'], { DATABASE_URL: undefined, DATA_DIR: work }, 1, /^Mécène ne semble pas démarré/],
      [['sponsors', 'list'], { HTTP_PORT: 'abc' }, 2, /^Variable d'environnement HTTP_PORT invalide \("abc"\) : .* \/ Invalid environment variable HTTP_PORT: /],
    ];
    for (const [args, env, code, message] of cases) {
      const r = await mecene(args, env);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code, stdout: '' });
      expect({ args, lines: r.stderr.trim().split('\n') }).toEqual({ args, lines: [expect.stringMatching(message)] });
    }
  });

  it('rejects an invalid policy file naming the field', async () => {
    const policy = path.join(work, 'bad-policy.json');
    await writeFile(policy, JSON.stringify({ followUps: ['7d', '3d'], grace: 'bientôt' }));
    const r = await mecene(['outreach', 'start', 'credit-cooperatif', '--student', 'lea@etu.test', '--tutor', 'marc@tuteurs.test', '--ask', '10', '--policy', policy]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Politique de relance invalide (${policy}) : followUps.1 : doit être plus tard que la relance précédente`);
    expect(r.stderr).toContain('grace : durée attendue');
  });

  it('speaks English when MECENE_LANG=en', async () => {
    const r = await mecene(['outreach', 'status', 'nobody'], { MECENE_LANG: 'en' });
    expect(r.stderr.trim()).toBe('Unknown sponsor: "nobody". See `mecene sponsors list`.');
  });

  it('checks and previews templates', async () => {
    expect((await mecene(['templates', 'check'])).stdout).toContain('Modèles valides');
    const preview = await mecene(['templates', 'preview', 'followup', '--lang', 'en']);
    expect(preview.stdout).toContain('Objet : Re: Rencontres du service public 2027');
    expect(preview.stdout).toContain('sent on 2 December 2026');
    expect(preview.stdout).toContain('To stop receiving emails from us');
  });
});
