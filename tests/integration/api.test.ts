import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optOutToken } from '../../src/domain/opt-out';
import { TEST_SECRET } from '../support/deps';
import { seed, startTestStack, waitFor, type TestStack, SEND_NOW } from '../support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
  stack.app.inject({ method: 'POST', url, payload: payload as never, headers });

describe('HTTP API', () => {
  it('registers people and refuses bad ones with a French message naming the field', async () => {
    const ok = await post('/api/people', { role: 'tutor', name: 'Anne Petit', email: 'Anne.Petit@Tuteurs.test' });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ email: 'anne.petit@tuteurs.test', role: 'tutor' });

    const dup = await post('/api/people', { role: 'tutor', name: 'Anne Petit', email: 'anne.petit@tuteurs.test' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.message).toBe('Une personne avec l’adresse anne.petit@tuteurs.test existe déjà.');

    const bad = await post('/api/people', { role: 'director', name: '', email: 'pas-une-adresse' });
    expect(bad.statusCode).toBe(400);
    const body = bad.json().error;
    expect(body.code).toBe('invalid_input');
    expect(body.message).toMatch(/^Données invalides : /);
    expect(body.details.map((d: { field: string }) => d.field).sort()).toEqual(['email', 'name', 'role']);

    const english = await post('/api/people', { role: 'director', name: 'X', email: 'x@y.test' }, { 'accept-language': 'en-GB' });
    expect(english.json().error.message).toMatch(/^Invalid input: role/);

    const notJson = await stack.app.inject({ method: 'POST', url: '/api/people', payload: '{oops', headers: { 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.message).toMatch(/^Requête invalide/);
  });

  it('imports sponsors from CSV: all or nothing, or the valid rows with skipInvalid', async () => {
    const csv = '\ufeffnom;type;contact_nom;contact_email;source\n' + 'Mairie de Lyon;public_funder;Luc Bernard;luc@lyon.test;annuaire\n' + 'Sans Contact;company;;pas-une-adresse;salon\n';
    const rejected = await post('/api/sponsors/import?file=mecenes.csv', csv, { 'content-type': 'text/csv' });
    expect(rejected.statusCode).toBe(422);
    const err = rejected.json().error;
    expect(err.message).toBe('1 ligne(s) rejetée(s) dans mecenes.csv ; rien n’a été importé. Corrigez-les ou relancez avec --skip-invalid.');
    expect(err.details[0].line).toBe(3);
    expect(err.details[0].issues.map((i: { field: string }) => i.field).sort()).toEqual(['contactEmail', 'contactName']);
    expect((await stack.app.inject('/api/sponsors/mairie-de-lyon')).statusCode).toBe(404);

    const partial = await post('/api/sponsors/import?skipInvalid=true', csv, { 'content-type': 'text/csv' });
    expect(partial.statusCode).toBe(201);
    expect(partial.json().imported).toEqual([{ line: 2, slug: 'mairie-de-lyon', name: 'Mairie de Lyon' }]);
    const sponsor = (await stack.app.inject('/api/sponsors/mairie-de-lyon')).json();
    expect(sponsor.contacts[0]).toMatchObject({ email: 'luc@lyon.test', source: 'annuaire', optedOut: false });
  });

  it('runs an outreach through the API and serves the caught mail with its attachment', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const start = await post('/api/outreach', { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: '1 500,50', policy: { ...SEND_NOW, followUps: ['1h'], grace: '1h', sendTimeout: '10s' } });
    expect(start.statusCode).toBe(201);
    const again = await post('/api/outreach', { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 10 });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.message).toContain(`Une démarche est déjà en cours pour « ${sponsor.name} »`);

    const mail = await waitFor(async () => (await stack.app.inject('/api/mail')).json().find((m: { to: string[] }) => m.to.includes(sponsor.contacts[0].email)), 'the email');
    const attachment = await stack.app.inject(`/api/mail/${mail.id}/attachments/0`);
    expect(attachment.headers['content-type']).toBe('application/pdf');
    expect(attachment.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');

    const status = await waitFor(async () => {
      const s = (await stack.app.inject(`/api/outreach/${sponsor.slug}`)).json();
      return s.dossier.stage === 'contacted' && s;
    }, 'stage contacted');
    expect(status.dossier.amountAskedCents).toBe(150_050);
    expect(status.live.next.action).toBe('followup');
    const doc = await stack.app.inject(`/api/documents/${status.documents[0].id}`);
    expect(doc.headers['content-type']).toBe('application/pdf');

    const badReply = await post(`/api/outreach/${sponsor.slug}/reply`, { outcome: 'maybe' });
    expect(badReply.statusCode).toBe(400);
    expect(badReply.json().error.details[0].field).toBe('outcome');

    const reply = await post(`/api/outreach/${sponsor.slug}/reply`, { outcome: 'interested', note: 'Rappeler en janvier' });
    expect(reply.statusCode).toBe(200);
    expect(reply.json().stage).toBe('interested');
    const list = (await stack.app.inject('/api/outreach')).json();
    expect(list.find((d: { sponsor: { slug: string } }) => d.sponsor.slug === sponsor.slug).stage).toBe('interested');

    const restart = await post(`/api/outreach/${sponsor.slug}/restart`, {});
    expect(restart.statusCode).toBe(409);
    const close = await post(`/api/outreach/${sponsor.slug}/close`, {});
    expect(close.statusCode).toBe(400);
    expect((await post(`/api/outreach/${sponsor.slug}/close`, { reason: 'convention signée' })).json().stage).toBe('lost');
    const after = await post(`/api/outreach/${sponsor.slug}/reply`, { outcome: 'interested' });
    expect(after.statusCode).toBe(404);
    expect(after.json().error.message).toBe(`Aucune démarche en cours pour « ${sponsor.name} ».`);
  });

  it('sums the pipeline by stage exactly, and exports dossiers as CSV for French Excel', async () => {
    const dossiers = await stack.sql<{ stage: string; amount_asked_cents: number }[]>`SELECT stage, amount_asked_cents FROM dossiers`;
    expect(dossiers.length).toBeGreaterThan(0);
    const p = (await stack.app.inject('/api/pipeline')).json();
    const sum = dossiers.reduce((s, d) => s + Number(d.amount_asked_cents), 0);
    expect(p.stages.reduce((s: number, x: { askedCents: number }) => s + x.askedCents, 0)).toBe(sum);
    expect(p.totals.askedCents).toBe(sum);
    expect(p.totals.count).toBe(dossiers.length);

    const csv = await stack.app.inject('/api/outreach.csv');
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const text = csv.rawPayload.toString('utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const { parseCsv } = await import('../../src/domain/csv');
    const parsed = parseCsv(text);
    expect(parsed.headers.slice(0, 4)).toEqual(['identifiant', 'mecene', 'etape', 'montant_sollicite_eur']);
    expect(parsed.records).toHaveLength(dossiers.length);
    expect(parsed.records.some((r) => r.values.mecene.startsWith('Fondation Société Générale'))).toBe(true);
    expect(parsed.records.some((r) => r.values.montant_sollicite_eur === '1500,50')).toBe(true);
  });

  it('answers unknown sponsors, routes and mail ids with clear 404s', async () => {
    const unknown = await stack.app.inject('/api/outreach/nobody');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toBe('Mécène inconnu : « nobody ». Voir `mecene sponsors list`.');
    expect((await stack.app.inject('/api/nothing')).statusCode).toBe(404);
    expect((await stack.app.inject('/api/mail/..%2F..%2Fetc%2Fpasswd')).statusCode).toBe(404);
  });

  it('records an objection from the opt-out link, and refuses a forged link', async () => {
    const { sponsor } = await seed(stack.sql);
    const contactId = sponsor.contacts[0].id;
    const token = optOutToken(TEST_SECRET, contactId);
    const page = await stack.app.inject(`/opt-out/${token}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Confirmer la désinscription');
    const forged = await stack.app.inject({ method: 'POST', url: `/opt-out/${contactId + 1}.${token.split('.')[1]}` });
    expect(forged.statusCode).toBe(404);
    expect(forged.body).toContain('pas valide');
    const [before] = await stack.sql<{ opted_out_at: Date | null }[]>`SELECT opted_out_at FROM contacts WHERE id = ${contactId}`;
    expect(before.opted_out_at).toBeNull();
    const done = await stack.app.inject({ method: 'POST', url: `/opt-out/${token}`, payload: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(done.statusCode).toBe(200);
    const [after] = await stack.sql<{ opted_out_at: Date | null }[]>`SELECT opted_out_at FROM contacts WHERE id = ${contactId}`;
    expect(after.opted_out_at).not.toBeNull();
  });

  it('stops a dossier whose contact objected before the next send', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const contact = sponsor.contacts[0];
    await post('/api/outreach', { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 700, policy: { ...SEND_NOW, followUps: ['3s'], grace: '1h', sendTimeout: '10s' } });
    await waitFor(async () => (await stack.catcher.store.list()).some((m) => m.to.includes(contact.email)), 'the first email');
    await stack.app.inject({ method: 'POST', url: `/opt-out/${optOutToken(TEST_SECRET, contact.id)}` });
    const view = await waitFor(async () => {
      const s = (await stack.app.inject(`/api/outreach/${sponsor.slug}`)).json();
      return s.dossier.stage === 'opted_out' && s;
    }, 'stage opted_out');
    expect(view.dossier.closedAt).not.toBeNull();
    expect((await stack.catcher.store.list()).filter((m) => m.to.includes(contact.email))).toHaveLength(1);
  });
});
