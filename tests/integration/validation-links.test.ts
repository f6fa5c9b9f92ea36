import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMeetingActivities } from '../../src/activities/meeting';
import { composeInitialEmail } from '../../src/activities/mail';
import { loadDossierContext } from '../../src/activities/dossier-context';
import { createPdfActivities } from '../../src/activities/pdf';
import { createValidationActivities } from '../../src/activities/validation';
import { formatEuros } from '../../src/domain/money';
import { signValidationLink, type ValidationAction } from '../../src/domain/signed-link';
import { seedDossier } from '../support/funding-seed';
import { TEST_SECRET } from '../support/deps';
import { seed, startTestStack, type TestStack } from '../support/stack';

/**
 * Signed validation links on real PostgreSQL, SMTP catcher and Temporal: the request email and
 * its links, the pages, and every refusal (forged, malformed, expired, reused, outdated,
 * already decided, missing comment, refused by the process), each changing nothing. The
 * successful decision needs the dossier's process (the relationship workflow): its test lives
 * with the workflow's.
 */
let stack: TestStack;
let validation: ReturnType<typeof createValidationActivities>;
let pdf: ReturnType<typeof createPdfActivities>;

beforeAll(async () => {
  // No worker: a decision reaching Temporal finds no process, which is the "refused by the process" case.
  stack = await startTestStack({ worker: false });
  validation = createValidationActivities(stack.deps);
  pdf = createPdfActivities(stack.deps);
});
afterAll(async () => {
  await stack?.stop();
});

const IN_A_WEEK = () => new Date(Date.now() + 7 * 86_400_000).toISOString();

/** A dossier in PostgreSQL, its proposal v1 rendered and its validation request emailed to the tutor. */
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
  const doc = await pdf.renderProposal({ dossierId, version: 1 });
  const result = await validation.sendValidationRequest({ dossierId, version: 1, key: `${dossierId}:validation:v1`, documentId: doc.documentId, expiresAt: IN_A_WEEK() });
  return { ...people, dossierId, documentId: doc.documentId, result };
}

/** The two links of the last email to `to` (as the tutor's mail client shows them). */
async function linksIn(to: string): Promise<Record<ValidationAction, string>> {
  const mails = (await stack.catcher.store.list()).filter((m) => m.to.includes(to));
  const mail = (await stack.catcher.store.get(mails.at(-1)!.id))!;
  const links = [...mail.text.matchAll(/http:\/\/127\.0\.0\.1:3600(\/validation\/[\w.-]+)/g)].map((m) => m[1]);
  expect(links).toHaveLength(2);
  return { approve: links[0], changes: links[1] };
}

const tokenOf = (path: string) => path.split('/').pop()!;
const get = (url: string) => stack.app.inject({ method: 'GET', url });
const post = (url: string, comment?: string) =>
  stack.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: comment === undefined ? '' : new URLSearchParams({ comment }).toString(),
  });

async function nothingRecorded(dossierId: string) {
  const uses = await stack.sql`SELECT jti FROM link_uses WHERE dossier_id = ${dossierId}`;
  const decided = await stack.sql`SELECT version FROM validation_requests WHERE dossier_id = ${dossierId} AND decided_at IS NOT NULL`;
  expect(uses.length, 'link uses').toBe(0);
  expect(decided.length, 'decisions').toBe(0);
}

describe('the validation request email', () => {
  it('sends the tutor the PDF, the first email exactly as it will be sent and two signed links, once', async () => {
    const d = await dossierAwaitingValidation();
    expect(d.result.status).toBe('sent');
    const again = await validation.sendValidationRequest({ dossierId: d.dossierId, version: 1, key: `${d.dossierId}:validation:v1`, documentId: d.documentId, expiresAt: IN_A_WEEK() });
    expect(again.emails[0].messageId).toBe(d.result.emails[0].messageId);

    const mails = (await stack.catcher.store.list()).filter((m) => m.to.includes(d.tutor.email));
    expect(mails).toHaveLength(1);
    const mail = (await stack.catcher.store.get(mails[0].id))!;
    expect(mail.subject).toBe(`[Mécène] À valider : proposition pour ${d.sponsor.name} (version 1, Camille Martin)`);
    expect(mail.replyTo).toContain(d.student.email);
    expect(mail.attachments.map((a) => [a.filename, a.contentType])).toEqual([[`Proposition-${d.sponsor.slug}-v1.pdf`, 'application/pdf']]);
    const attached = await stack.catcher.store.attachment(mail.id, 0);
    expect(attached!.content.subarray(0, 5).toString()).toBe('%PDF-');

    const initial = composeInitialEmail(stack.deps, await loadDossierContext(stack.sql, d.dossierId));
    expect(mail.text).toContain(`Objet : ${initial.rendered.subject}`);
    expect(mail.text).toContain(`À : ${d.sponsor.contacts[0].email}`);
    // The whole first email, quoted line by line.
    for (const line of initial.rendered.text.split('\n').filter((l) => l.trim())) expect(mail.text).toContain(`> ${line}`);
    expect(mail.text).toMatch(/jusqu'au \d{1,2} \S+ \d{4} à \d{2}:\d{2}/);

    const [row] = await stack.sql<{ email_subject: string; email_text: string; tutor_id: string; decided_at: Date | null }[]>`
      SELECT * FROM validation_requests WHERE dossier_id = ${d.dossierId}`;
    expect(row.email_subject).toBe(initial.rendered.subject);
    expect(row.email_text).toBe(initial.rendered.text);
    expect(Number(row.tutor_id)).toBe(d.tutor.id);
    expect(row.decided_at).toBeNull();
    // Internal email: never counted as a contact with the sponsor.
    const [email] = await stack.sql<{ dossier_id: string | null; kind: string }[]>`SELECT dossier_id, kind FROM emails WHERE idempotency_key = ${`${d.dossierId}:validation:v1`}`;
    expect(email).toEqual({ dossier_id: null, kind: 'validation_request' });
  });
});

describe('the validation pages', () => {
  it('GET shows the proposal and the email, in French, and decides nothing', async () => {
    const d = await dossierAwaitingValidation();
    const links = await linksIn(d.tutor.email);
    const approve = await get(links.approve);
    expect(approve.statusCode).toBe(200);
    expect(approve.headers['content-type']).toContain('text/html');
    expect(approve.body).toContain('<html lang="fr">');
    expect(approve.body).toContain(`Approuver la proposition pour ${d.sponsor.name}`);
    expect(approve.body).toContain(formatEuros(250_000, 'fr'));
    expect(approve.body).toContain(`Proposition, version 1 : <a href="/api/documents/${d.documentId}">`);
    expect(approve.body).toContain('Le courriel qui sera envoyé');
    expect(approve.body).toContain('Approuver et autoriser l’envoi');
    expect(approve.body).not.toContain('<textarea');

    const changes = await get(links.changes);
    expect(changes.statusCode).toBe(200);
    expect(changes.body).toContain('Demander des modifications pour');
    expect(changes.body).toMatch(/<textarea id="comment" name="comment"[^>]* required/);

    const english = await get(`${links.approve}?lang=en`);
    expect(english.body).toContain('<html lang="en">');
    expect(english.body).toContain(`Approve the proposal for ${d.sponsor.name}`);

    const pdfResponse = await get(`/api/documents/${d.documentId}`);
    expect(pdfResponse.statusCode).toBe(200);
    await nothingRecorded(d.dossierId);
  });

  it('refuses a forged or altered link with a French page (400), and records nothing', async () => {
    const d = await dossierAwaitingValidation();
    const links = await linksIn(d.tutor.email);
    const [payload, signature] = tokenOf(links.approve).split('.');
    const changed = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forgedPayload = `/validation/${Buffer.from(JSON.stringify({ ...changed, e: changed.e + 86_400 * 365 })).toString('base64url')}.${signature}`;
    const otherSecret = `/validation/${signValidationLink('not-the-secret-0123456789', { d: d.dossierId, v: 1, a: 'approve', e: changed.e })}`;
    for (const url of [forgedPayload, otherSecret, `${links.approve.slice(0, -2)}xy`]) {
      for (const response of [await get(url), await post(url)]) {
        expect(response.statusCode, url).toBe(400);
        expect(response.body).toContain('Ce lien de validation n’est pas valide ou a été modifié.');
        expect(response.body).toContain('Rien n’a été enregistré.');
      }
    }
    const malformed = await post('/validation/not-a-token');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.body).toContain('Ce lien de validation est incomplet ou illisible.');
    const english = await get(`${forgedPayload}?lang=en`);
    expect(english.body).toContain('This validation link is not valid or has been altered.');
    await nothingRecorded(d.dossierId);
  });

  it('refuses an expired link (410), and records nothing', async () => {
    const d = await dossierAwaitingValidation();
    const expired = `/validation/${signValidationLink(TEST_SECRET, { d: d.dossierId, v: 1, a: 'approve', e: Math.floor(Date.now() / 1000) - 60 })}`;
    for (const response of [await get(expired), await post(expired)]) {
      expect(response.statusCode).toBe(410);
      expect(response.body).toContain('Ce lien de validation a expiré.');
      expect(response.body).toContain('Rien n’a été enregistré.');
    }
    // The request's own expiry counts too (a link cannot outlive its request).
    await stack.sql`UPDATE validation_requests SET expires_at = now() - interval '1 minute' WHERE dossier_id = ${d.dossierId}`;
    const links = await linksIn(d.tutor.email);
    expect((await post(links.approve)).statusCode).toBe(410);
    await nothingRecorded(d.dossierId);
  });

  it('refuses a reused link (409), and records nothing more', async () => {
    const d = await dossierAwaitingValidation();
    const links = await linksIn(d.tutor.email);
    const { j } = JSON.parse(Buffer.from(tokenOf(links.approve).split('.')[0], 'base64url').toString());
    // As left by an earlier use of this very link.
    await stack.sql`INSERT INTO link_uses (jti, dossier_id, outcome) VALUES (${j}, ${d.dossierId}, 'approve')`;
    for (const response of [await get(links.approve), await post(links.approve)]) {
      expect(response.statusCode).toBe(409);
      expect(response.body).toContain('Ce lien a déjà été utilisé : un lien de validation ne fonctionne qu’une seule fois.');
    }
    const uses = await stack.sql`SELECT jti FROM link_uses WHERE dossier_id = ${d.dossierId}`;
    expect(uses).toHaveLength(1);
    const [row] = await stack.sql`SELECT decided_at FROM validation_requests WHERE dossier_id = ${d.dossierId}`;
    expect(row.decided_at).toBeNull();
  });

  it('refuses a link for an older version after a resubmission (410), and records nothing', async () => {
    const d = await dossierAwaitingValidation();
    const old = await linksIn(d.tutor.email);
    const v2 = await pdf.renderProposal({ dossierId: d.dossierId, version: 2 });
    await validation.sendValidationRequest({ dossierId: d.dossierId, version: 2, key: `${d.dossierId}:validation:v2`, documentId: v2.documentId, expiresAt: IN_A_WEEK() });
    for (const response of [await get(old.approve), await post(old.changes, 'Revoir le montant')]) {
      expect(response.statusCode).toBe(410);
      expect(response.body).toContain('Ce lien concerne la version 1 de la proposition, remplacée depuis par la version 2.');
      expect(response.body).toContain('Rien n’a été enregistré.');
    }
    const current = await linksIn(d.tutor.email);
    const page = await get(current.approve);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Proposition, version 2');
    await nothingRecorded(d.dossierId);
  });

  it('refuses a link once the version is decided (409), whichever link decided it', async () => {
    const d = await dossierAwaitingValidation();
    const links = await linksIn(d.tutor.email);
    await stack.sql`UPDATE validation_requests SET decided_at = now(), decision = 'approve', decided_by = ${d.tutor.email} WHERE dossier_id = ${d.dossierId}`;
    for (const response of [await get(links.changes), await post(links.changes, 'Trop tard')]) {
      expect(response.statusCode).toBe(409);
      expect(response.body).toContain(`La version 1 de la proposition pour ${d.sponsor.name} a déjà été approuvée le`);
      expect(response.body).toContain(d.tutor.email);
    }
    const uses = await stack.sql`SELECT jti FROM link_uses WHERE dossier_id = ${d.dossierId}`;
    expect(uses).toHaveLength(0);
    const [row] = await stack.sql`SELECT decision, comment FROM validation_requests WHERE dossier_id = ${d.dossierId}`;
    expect(row).toEqual({ decision: 'approve', comment: null });
  });

  it('requires a comment to request changes (400, the form again), and records nothing', async () => {
    const d = await dossierAwaitingValidation();
    const links = await linksIn(d.tutor.email);
    for (const comment of [undefined, '   \n  ']) {
      const response = await post(links.changes, comment);
      expect(response.statusCode).toBe(400);
      expect(response.body).toContain('Indiquez les modifications demandées : le commentaire est obligatoire.');
      expect(response.body).toContain('<textarea');
    }
    const json = await stack.app.inject({ method: 'POST', url: links.changes, payload: { comment: 'x'.repeat(5001) } });
    expect(json.statusCode).toBe(400);
    expect(json.body).toContain('Le commentaire est trop long (5001 caractères, au plus 5000).');
    await nothingRecorded(d.dossierId);
  });

  it('when the process refuses the decision (here: no process), says why, releases the link and records nothing', async () => {
    const d = await dossierAwaitingValidation();
    const links = await linksIn(d.tutor.email);
    const response = await post(links.changes, 'Précisez les contreparties.');
    expect(response.statusCode).toBe(409);
    expect(response.body).toContain('La décision n’a pas pu être prise en compte : aucun processus en cours pour ce dossier. Le lien reste utilisable.');
    await nothingRecorded(d.dossierId);
    // The link still works.
    expect((await get(links.changes)).statusCode).toBe(200);
  });

  it('answers 404 for a well-signed link to a request that does not exist', async () => {
    const d = await dossierAwaitingValidation();
    const unknown = `/validation/${signValidationLink(TEST_SECRET, { d: d.dossierId, v: 9, a: 'approve', e: Math.floor(Date.now() / 1000) + 3600 })}`;
    const response = await post(unknown);
    expect(response.statusCode).toBe(404);
    expect(response.body).toContain('Cette demande de validation n’existe pas ou plus.');
    await nothingRecorded(d.dossierId);
  });
});

describe('reminders, escalation and changes requested', () => {
  it('reminds the tutor, then the other tutors with links of their own, then flags everyone; nothing once decided', async () => {
    const d = await dossierAwaitingValidation();
    const suffix = Math.random().toString(36).slice(2, 7);
    const { addPerson } = await import('../../src/service/people');
    const other = await addPerson(stack.sql, { role: 'tutor', name: 'Sophie Bernard', email: `sophie.${suffix}@tuteurs.test` });
    const treasurer = await addPerson(stack.sql, { role: 'treasurer', name: 'Nadia Benali', email: `nadia.${suffix}@asso.test` });
    const key = `${d.dossierId}:validation:v1:reminder`;

    const tutor = await validation.sendValidationReminder({ dossierId: d.dossierId, version: 1, key: `${key}:0`, to: 'tutor' });
    expect(tutor.emails.map((e) => e.to)).toEqual([d.tutor.email]);
    const tutorMail = (await stack.catcher.store.get((await stack.catcher.store.list()).find((m) => m.messageId === tutor.emails[0].messageId)!.id))!;
    expect(tutorMail.text).toContain(`La proposition pour ${d.sponsor.name} attend votre validation depuis le`);

    const others = await validation.sendValidationReminder({ dossierId: d.dossierId, version: 1, key: `${key}:1`, to: 'other_tutors' });
    expect(others.emails.map((e) => e.to)).toContain(other.email);
    expect(others.emails.map((e) => e.to)).not.toContain(d.tutor.email);
    const otherLinks = await linksIn(other.email);
    const page = await get(otherLinks.approve);
    expect(page.statusCode).toBe(200);
    const { p } = JSON.parse(Buffer.from(tokenOf(otherLinks.approve).split('.')[0], 'base64url').toString());
    expect(p).toBe(other.id); // the decision would be recorded under Sophie's address

    const everyone = await validation.sendValidationReminder({ dossierId: d.dossierId, version: 1, key: `${key}:2`, to: 'everyone' });
    const to = everyone.emails.map((e) => e.to);
    expect(to).toEqual(expect.arrayContaining([d.tutor.email, other.email, d.student.email, treasurer.email]));
    const studentMail = (await stack.catcher.store.get((await stack.catcher.store.list()).find((m) => m.messageId === everyone.emails.find((e) => e.to === d.student.email)!.messageId)!.id))!;
    expect(studentMail.text).toContain('ni Jérôme Leroy ni les autres tuteurs n’ont répondu');
    expect(studentMail.text).not.toContain('/validation/'); // no links for the student

    // Retried: nothing more.
    const before = (await stack.catcher.store.list()).length;
    await validation.sendValidationReminder({ dossierId: d.dossierId, version: 1, key: `${key}:2`, to: 'everyone' });
    expect((await stack.catcher.store.list()).length).toBe(before);

    await stack.sql`UPDATE validation_requests SET decided_at = now(), decision = 'approve', decided_by = ${d.tutor.email} WHERE dossier_id = ${d.dossierId}`;
    const late = await validation.sendValidationReminder({ dossierId: d.dossierId, version: 1, key: `${key}:3`, to: 'tutor' });
    expect(late).toEqual({ status: 'decided', emails: [] });
    expect((await stack.catcher.store.list()).length).toBe(before);
  });

  it('emails the student the comment of the changes requested, once', async () => {
    const d = await dossierAwaitingValidation();
    const input = { dossierId: d.dossierId, version: 1, comment: 'Précisez les contreparties ;\nramenez le montant à 2 000 €.', by: d.tutor.email, key: `${d.dossierId}:changes:v1` };
    const sent = await validation.sendChangesRequested(input);
    await validation.sendChangesRequested(input);
    const mails = (await stack.catcher.store.list()).filter((m) => m.to.includes(d.student.email));
    expect(mails).toHaveLength(1);
    const mail = (await stack.catcher.store.get(mails[0].id))!;
    expect(mail.messageId).toBe(sent.emails[0].messageId);
    expect(mail.subject).toBe(`[Mécène] Modifications demandées : proposition pour ${d.sponsor.name} (version 1)`);
    expect(mail.text).toContain('Jérôme Leroy a relu la proposition');
    expect(mail.text).toContain('Précisez les contreparties ;\nramenez le montant à 2 000 €.');
    expect(mail.replyTo).toContain(d.tutor.email);
  });
});

describe('the meeting invitation', () => {
  it('emails the contact and the student an .ics invitation in Paris time', async () => {
    const d = await dossierAwaitingValidation();
    const meeting = createMeetingActivities(stack.deps);
    const result = await meeting.sendMeetingInvitation({
      dossierId: d.dossierId,
      key: `${d.dossierId}:meeting:1`,
      meeting: { id: 1, at: '2027-03-30T12:30:00.000Z', durationMin: 45, place: '29 boulevard Haussmann, Paris', videoUrl: 'https://visio.example.org/rdv-1' },
    });
    const contact = d.sponsor.contacts[0].email;
    expect(result.to).toEqual([contact, d.student.email]);
    expect(result.contactSkipped).toBe(false);
    const summary = (await stack.catcher.store.list()).find((m) => m.messageId === result.messageId)!;
    expect(summary.to).toEqual(expect.arrayContaining([contact, d.student.email]));
    const mail = (await stack.catcher.store.get(summary.id))!;
    expect(mail.subject).toContain('30 mars 2027 à 14:30');
    expect(mail.text).toContain('29 boulevard Haussmann, Paris — Visioconférence : https://visio.example.org/rdv-1');
    expect(mail.headers['list-unsubscribe']).toContain('/opt-out/');
    const index = mail.attachments.findIndex((a) => a.contentType.startsWith('text/calendar') || a.filename.endsWith('.ics'));
    expect(index).toBeGreaterThanOrEqual(0);
    const ics = (await stack.catcher.store.attachment(mail.id, index))!.content.toString('utf8');
    expect(ics).toContain('METHOD:REQUEST\r\n');
    expect(ics).toContain('DTSTART;TZID=Europe/Paris:20270330T143000\r\n');
    expect(ics).toContain('DTEND;TZID=Europe/Paris:20270330T151500\r\n');
    expect(ics).toContain(`UID:meeting-${d.dossierId}-1@asso.test\r\n`);
    expect(ics.replace(/\r\n /g, '')).toContain(`ATTENDEE;CN="Hélène Dupré";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${contact}`);
  });

  it('invites only the student when the contact objected to emails', async () => {
    const d = await dossierAwaitingValidation();
    await stack.sql`UPDATE contacts SET opted_out_at = now() WHERE id = ${d.sponsor.contacts[0].id}`;
    const result = await createMeetingActivities(stack.deps).sendMeetingInvitation({
      dossierId: d.dossierId,
      key: `${d.dossierId}:meeting:1`,
      meeting: { id: 1, at: '2027-03-30T12:30:00.000Z', durationMin: 45, videoUrl: 'https://visio.example.org/rdv-1' },
    });
    expect(result).toMatchObject({ to: [d.student.email], contactSkipped: true });
    const summary = (await stack.catcher.store.list()).find((m) => m.messageId === result.messageId)!;
    expect(summary.to).toEqual([d.student.email]);
  });
});
