import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optOutToken } from '../../src/domain/opt-out';
import { parisParts } from '../../src/workflows/shared/send-window';
import { recordReply, startOutreach } from '../../src/service/outreach';
import { addPerson, type Person } from '../../src/service/people';
import { addSponsor } from '../../src/service/sponsors';
import {
  endDossier,
  handOverDossier,
  pauseDossier,
  recordMeetingResult,
  recordPayment,
  recordPledge,
  resubmitProposal,
  resumeDossier,
  scheduleMeeting,
} from '../../src/service/relationship';
import { sponsorOutreachId, type RelationshipState } from '../../src/workflows/sponsor-outreach/messages';
import { TEST_SECRET } from '../support/deps';
import { pdfText } from '../support/pdf-text';
import { SEND_NOW, TEST_SENDING, seed, stageOf, startTestStack, waitFor, type TestStack } from '../support/stack';

/**
 * The whole sponsor relationship on real Temporal, PostgreSQL and SMTP: tutor validation by
 * signed links, the send window and caps, every reply outcome, several contacts, meetings,
 * pledge and receipts, pause, handover, continue-as-new. Durations are seconds.
 */
let stack: TestStack;
let treasurer: Person;
beforeAll(async () => {
  stack = await startTestStack();
  treasurer = await addPerson(stack.sql, { role: 'treasurer', name: 'Nadia Benali', email: 'nadia@tresorerie.test' });
});
afterAll(async () => {
  await stack?.stop();
});

const base = { followUps: ['1h'], grace: '1h', sendTimeout: '10s', holidays: false };
const mailsTo = async (address: string) => (await stack.catcher.store.list()).filter((m) => m.to.includes(address));
const full = async (id: string) => (await stack.catcher.store.get(id))!;
const eventsOf = async (sponsorId: number) =>
  stack.sql<{ kind: string; detail: any }[]>`
    SELECT e.kind, e.detail FROM events e JOIN dossiers d ON d.id = e.dossier_id WHERE d.organisation_id = ${sponsorId} ORDER BY e.id`;
const links = (text: string) => [...text.matchAll(/http:\/\/127\.0\.0\.1:3600(\/validation\/\S+)/g)].map((m) => m[1]);
const live = (sponsorId: number) => stack.client.workflow.getHandle(sponsorOutreachId(sponsorId)).query<RelationshipState>('relationshipStatus');

async function validationRequest(tutorEmail: string, sponsorName: string, version = 1) {
  const request = await waitFor(async () => {
    for (const m of await mailsTo(tutorEmail)) {
      const mail = await full(m.id);
      if (mail.subject.includes(sponsorName) && mail.text.includes(`version ${version}`)) return mail;
    }
    return null;
  }, `the validation request v${version}`);
  const [approve, changes] = links(request.text);
  return { request, approve, changes };
}

describe('tutor validation by signed links', () => {
  it('waits for the tutor, who approves through the link; the link works once and nothing leaves before', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const contact = sponsor.contacts[0].email;
    await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: '2 500', policy: base });
    const { request, approve } = await validationRequest(tutor.email, sponsor.name);
    expect(request.attachments.some((a) => a.contentType === 'application/pdf')).toBe(true);
    expect(request.text).toContain(`À : ${contact}`);
    expect(await stageOf(stack.sql, sponsor.id)).toBe('validation');
    expect(await mailsTo(contact)).toHaveLength(0);

    expect((await stack.app.inject({ method: 'GET', url: approve })).statusCode).toBe(200);
    expect(await mailsTo(contact)).toHaveLength(0); // opening the link decides nothing
    const approved = await stack.app.inject({ method: 'POST', url: approve });
    expect(approved.statusCode).toBe(200);
    const [first] = await waitFor(async () => {
      const m = await mailsTo(contact);
      return m.length === 1 && m;
    }, 'the first email after approval');
    expect(first.attachments).toHaveLength(1);
    expect(await waitFor(async () => (await stageOf(stack.sql, sponsor.id)) === 'contacted', 'contacted')).toBe(true);

    const reused = await stack.app.inject({ method: 'POST', url: approve });
    expect(reused.statusCode).toBe(409);
    expect(reused.body).toMatch(/déjà/);
    expect((await eventsOf(sponsor.id)).filter((e) => e.kind === 'proposal_approved')).toHaveLength(1);
  });

  it('requests changes with a comment the student receives; the resubmitted version goes back to the tutor and the old link is refused', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const contact = sponsor.contacts[0].email;
    await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: '2 000', policy: base });
    const v1 = await validationRequest(tutor.email, sponsor.name, 1);
    const noComment = await stack.app.inject({ method: 'POST', url: v1.changes, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'comment=' });
    expect(noComment.statusCode).toBe(400);
    const changed = await stack.app.inject({ method: 'POST', url: v1.changes, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'comment=Demander+plut%C3%B4t+3+000+%E2%82%AC' });
    expect(changed.statusCode).toBe(200);
    const toStudent = await waitFor(async () => (await mailsTo(student.email)).find((m) => m.subject.includes(sponsor.name)), 'the comment to the student');
    expect((await full(toStudent.id)).text).toContain('Demander plutôt 3 000 €');
    expect(await waitFor(async () => (await stageOf(stack.sql, sponsor.id)) === 'changes_requested', 'changes_requested')).toBe(true);

    await resubmitProposal(stack.outreach, sponsor.slug, { ask: '3 000', note: 'montant revu', by: student.email });
    const v2 = await validationRequest(tutor.email, sponsor.name, 2);
    const stale = await stack.app.inject({ method: 'POST', url: v1.approve });
    expect(stale.statusCode).toBe(410);
    expect(await mailsTo(contact)).toHaveLength(0);
    expect((await stack.app.inject({ method: 'POST', url: v2.approve })).statusCode).toBe(200);
    const [first] = await waitFor(async () => {
      const m = await mailsTo(contact);
      return m.length === 1 && m;
    }, 'the first email with version 2');
    const pdf = await stack.catcher.store.attachment(first.id, 0);
    expect(await pdfText(pdf!.content)).toContain('3 000,00 €');
    const docs = await stack.sql<{ version: number; sha256: string }[]>`
      SELECT version, sha256 FROM documents d JOIN dossiers o ON o.id = d.dossier_id WHERE o.organisation_id = ${sponsor.id} AND kind = 'proposal' ORDER BY version`;
    expect(docs.map((d) => d.version)).toEqual([1, 2]);
    expect(docs[0].sha256).not.toBe(docs[1].sha256);
  });

  it('without a decision: reminds the tutor, then the other tutors, then everyone', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const other = await addPerson(stack.sql, { role: 'tutor', name: 'Claire Petit', email: `claire.${sponsor.slug}@tuteurs.test` });
    await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 900, policy: { ...base, validationReminder: '1s', validationEscalation: '2s', validationFlag: '3s' } });
    const rungs = await waitFor(async () => {
      const e = (await eventsOf(sponsor.id)).filter((x) => x.detail?.about === 'validation');
      return e.length >= 3 && e;
    }, 'three validation rungs');
    expect(rungs.map((e) => e.detail.to)).toEqual(['tutor', 'other_tutors', 'everyone']);
    expect(await waitFor(async () => (await mailsTo(other.email)).some((m) => m.subject.includes(sponsor.name)), 'the other tutor')).toBe(true);
    expect(await waitFor(async () => (await mailsTo(treasurer.email)).some((m) => m.subject.includes(sponsor.name)), 'everyone, the treasurer included')).toBe(true);
  });
});

describe('sending rules', () => {
  it('a first email due outside the window goes at its opening, not before', async () => {
    const now = parisParts(Date.now());
    const minutes = now.hour * 60 + now.minute + 2; // the window opens within two minutes
    if (minutes >= 24 * 60) return; // a run in the last two minutes of the day checks nothing here: the window logic has its unit tests
    const opens = `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
    const { student, tutor, sponsor } = await seed(stack.sql);
    const contact = sponsor.contacts[0].email;
    await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 700, policy: { ...base, ...SEND_NOW, sendWindow: { days: 'mon-sun', opens, closes: '24:00' } } });
    const [slot] = await waitFor(
      async () => {
        const rows = await stack.sql<{ send_at: Date }[]>`SELECT s.send_at FROM send_slots s JOIN dossiers d ON s.key = d.id || ':initial' WHERE d.organisation_id = ${sponsor.id}`;
        return rows.length > 0 && rows;
      },
      'the reserved slot',
    );
    const opening = slot.send_at.getTime();
    expect(parisParts(opening)).toMatchObject({ day: now.day, hour: Math.floor(minutes / 60), minute: minutes % 60 });
    expect(await mailsTo(contact)).toHaveLength(0);
    expect(await stageOf(stack.sql, sponsor.id)).toBe('approved');
    const [first] = await waitFor(async () => {
      const m = await mailsTo(contact);
      return m.length === 1 && m;
    }, 'the first email at the opening', 150_000);
    expect(Date.parse(first.date)).toBeGreaterThanOrEqual(opening - 1000);
  }, 180_000);

  it('a per-domain daily cap holds the third first email to the recipient domain until the next open day', async () => {
    // A domain of its own, so no other test's email counts against it.
    const domain = `cap-${Math.random().toString(36).slice(2, 8)}.test`;
    const capped = { ...stack.outreach, sending: { ...TEST_SENDING, domainCap: 2 } };
    const { student, tutor } = await seed(stack.sql);
    const sponsors = [];
    for (const n of [1, 2, 3]) {
      sponsors.push(await addSponsor(stack.sql, { name: `Entreprise ${domain} ${n}`, contactName: `Contact ${n}`, contactEmail: `contact${n}@${domain}`, source: 'annuaire' }));
    }
    for (const sponsor of sponsors) {
      // Follow-ups reserve their slot as soon as they are next: three days later, they count on another day.
      await startOutreach(capped, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 500, policy: { ...base, ...SEND_NOW, followUps: ['3d'] } });
      await waitFor(() => stack.sql`SELECT 1 FROM send_slots s JOIN dossiers d ON s.key = d.id || ':initial' WHERE d.organisation_id = ${sponsor.id}`.then((r) => r.length > 0), 'a slot');
    }
    const slots = await stack.sql<{ day: string }[]>`
      SELECT s.day::text AS day FROM send_slots s JOIN dossiers d ON s.key = d.id || ':initial'
      WHERE d.organisation_id IN ${stack.sql(sponsors.map((s) => s.id))} ORDER BY s.id`;
    expect(slots[0].day).toBe(slots[1].day);
    expect(slots[2].day > slots[1].day).toBe(true);
    await waitFor(async () => (await mailsTo(`contact2@${domain}`)).length === 1, 'the second email');
    expect(await mailsTo(`contact3@${domain}`)).toHaveLength(0);
  });
});

describe('the relationship after the first reply', () => {
  const fast = { ...base, ...SEND_NOW, followUps: ['3s'], grace: '1h', nextStep: '1s', escalateAfter: '1s' };
  const started = async (policy: Record<string, unknown> = fast, contacts?: string[]) => {
    const s = await seed(stack.sql);
    await startOutreach(stack.outreach, { sponsor: s.sponsor.slug, student: s.student.email, tutor: s.tutor.email, ask: 3000, policy, ...(contacts ? { contacts } : {}) });
    await waitFor(async () => (await mailsTo(s.sponsor.contacts[0].email)).length >= 1, 'the first email');
    return s;
  };

  it('call back after a date: the sequence sleeps until then and resumes', async () => {
    const { sponsor } = await started();
    const contact = sponsor.contacts[0].email;
    const until = new Date(Date.now() + 4000).toISOString();
    const status = (await recordReply(stack.outreach, sponsor.slug, { outcome: 'callback', note: 'rappeler en janvier', until })) as RelationshipState;
    expect(status.stage).toBe('callback');
    await new Promise((r) => setTimeout(r, 3000)); // the follow-up was due at 3 s: it waits for the date
    expect(await mailsTo(contact)).toHaveLength(1);
    const [, followUp] = await waitFor(async () => {
      const m = await mailsTo(contact);
      return m.length === 2 && m;
    }, 'the follow-up at the date given');
    expect(Date.parse(followUp.date)).toBeGreaterThanOrEqual(Date.parse(until) - 1000);
    expect((await eventsOf(sponsor.id)).map((e) => e.kind)).toContain('callback_due');
  });

  it('declined with a reason and a polite closing email; interested reminds the student, then the tutor, of the next step', async () => {
    const a = await started();
    const declined = (await recordReply(stack.outreach, a.sponsor.slug, { outcome: 'declined', reason: 'not_our_focus', closingEmail: true, note: 'hors de nos axes' })) as RelationshipState;
    expect(declined.stage).toBe('lost');
    const [, closing] = await waitFor(async () => {
      const m = await mailsTo(a.sponsor.contacts[0].email);
      return m.length === 2 && m;
    }, 'the closing email');
    expect(closing.subject).toMatch(/^Re: /);
    const [row] = await stack.sql<{ close_reason: string }[]>`SELECT close_reason FROM dossiers WHERE organisation_id = ${a.sponsor.id}`;
    expect(row.close_reason).toBe('declined:not_our_focus');

    const b = await started();
    await recordReply(stack.outreach, b.sponsor.slug, { outcome: 'interested', note: 'intéressés' });
    await waitFor(async () => (await mailsTo(b.student.email)).some((m) => m.subject.includes(b.sponsor.name)), 'the student reminded');
    const escalated = await waitFor(async () => (await mailsTo(b.tutor.email)).find((m) => m.subject.includes('En retard')), 'the tutor alerted');
    expect(escalated.subject).toContain(b.sponsor.name);
    expect(await mailsTo(b.sponsor.contacts[0].email)).toHaveLength(1); // the follow-ups stopped
  });

  it('several contacts: an objection drops one and tells the student; a reply from the other stops everything', async () => {
    const s = await seed(stack.sql);
    const [{ id: secondId }] = await stack.sql<{ id: number }[]>`
      INSERT INTO contacts (organisation_id, name, email, source) VALUES (${s.sponsor.id}, 'Luc Moreau', ${`luc.${s.sponsor.slug}@fondation.test`}, 'site web') RETURNING id`;
    const first = s.sponsor.contacts[0].email;
    const second = `luc.${s.sponsor.slug}@fondation.test`;
    await startOutreach(stack.outreach, { sponsor: s.sponsor.slug, student: s.student.email, tutor: s.tutor.email, ask: 800, contacts: [first, second], policy: { ...fast, followUps: ['3s', '6s'] } });
    await waitFor(async () => (await mailsTo(first)).length === 1 && (await mailsTo(second)).length === 1, 'both first emails');
    await stack.app.inject({ method: 'POST', url: `/opt-out/${optOutToken(TEST_SECRET, Number(secondId))}` });
    await waitFor(async () => (await mailsTo(first)).length === 2, 'the follow-up to the first contact');
    expect(await mailsTo(second)).toHaveLength(1);
    expect(await waitFor(async () => (await mailsTo(s.student.email)).some((m) => m.subject.includes('Luc Moreau')), 'the student told')).toBe(true);
    await recordReply(stack.outreach, s.sponsor.slug, { outcome: 'meeting', from: first, note: 'RDV' });
    await new Promise((r) => setTimeout(r, 4000));
    expect(await mailsTo(first)).toHaveLength(2);
  });

  it('meeting with an invitation, pledge with its agreement, payments with numbered receipts, won', async () => {
    const s = await started({ ...fast, followUps: ['1h'], meetingReminder: '3s', instalmentGrace: '1s' });
    const contact = s.sponsor.contacts[0].email;
    await recordReply(stack.outreach, s.sponsor.slug, { outcome: 'meeting', note: 'RDV à fixer' });
    const at = new Date(Date.now() + 5000).toISOString();
    const meeting = await scheduleMeeting(stack.outreach, s.sponsor.slug, { at, duration: 45, place: '29 boulevard Haussmann, Paris', by: s.student.email });
    expect(meeting.meetings).toHaveLength(1);
    const invitation = await waitFor(async () => (await mailsTo(contact)).find((m) => m.subject.startsWith('Rendez-vous')), 'the invitation');
    expect(invitation.to).toEqual(expect.arrayContaining([contact, s.student.email]));
    expect(invitation.attachments.some((a) => a.contentType.startsWith('text/calendar') || a.filename.endsWith('.ics'))).toBe(true);
    await waitFor(async () => (await mailsTo(s.student.email)).some((m) => m.subject.includes('rendez-vous avec')), 'the reminder to the student');
    await recordMeetingResult(stack.outreach, s.sponsor.slug, { meeting: 1, summary: 'accord de principe pour 3 000 €', nextStep: 'promesse', by: s.student.email });
    const [m] = await stack.sql<{ starts_at: Date; place: string; result_summary: string }[]>`
      SELECT starts_at, place, result_summary FROM meetings m JOIN dossiers d ON d.id = m.dossier_id WHERE d.organisation_id = ${s.sponsor.id}`;
    expect([m.starts_at.toISOString(), m.place, m.result_summary]).toEqual([at, '29 boulevard Haussmann, Paris', 'accord de principe pour 3 000 €']);

    const pledged = await recordPledge(stack.outreach, s.sponsor.slug, {
      amount: '3 000',
      instalments: [{ expected: new Date(Date.now() + 1000).toISOString(), amount: '1 000' }, { expected: new Date(Date.now() + 86_400_000).toISOString(), amount: '2 000' }],
      counterparts: 'logo sur les supports',
      by: s.student.email,
    });
    expect(pledged.stage).toBe('pledged');
    const convention = await waitFor(async () => (await mailsTo(s.student.email)).find((m) => m.subject.includes('convention')), 'the agreement to the student');
    expect(convention.attachments[0].filename).toMatch(/^Convention-/);
    await waitFor(async () => (await eventsOf(s.sponsor.id)).some((e) => e.detail?.about === 'instalment'), 'the late instalment reminder');

    await expect(recordPayment(stack.outreach, s.sponsor.slug, { amount: '1 000', as: s.student.email })).rejects.toThrow(/wrongRole/);
    await recordPayment(stack.outreach, s.sponsor.slug, { amount: '1 000', as: treasurer.email });
    const won = await recordPayment(stack.outreach, s.sponsor.slug, { amount: '2 000', method: 'cheque', as: treasurer.email });
    expect(won.stage).toBe('won');
    const receipts = await waitFor(async () => {
      const m = (await mailsTo(contact)).filter((x) => x.attachments.some((a) => /reçu|recu|receipt/i.test(a.filename)));
      return m.length === 2 && m;
    }, 'two receipts');
    const numbers = await stack.sql<{ year: number; number: number }[]>`
      SELECT year, number FROM receipts r JOIN dossiers d ON d.id = r.dossier_id WHERE d.organisation_id = ${s.sponsor.id} ORDER BY number`;
    expect(numbers).toHaveLength(2);
    expect(numbers[1].number - numbers[0].number).toBe(1);
    const text = await pdfText((await stack.catcher.store.attachment(receipts[1].id, 0))!.content);
    expect(text).toContain('deux mille euros');
    const [item] = await stack.sql<any[]>`SELECT status, committed_cents, received_cents FROM pipeline WHERE ref_id = (SELECT id FROM dossiers WHERE organisation_id = ${s.sponsor.id})`;
    expect([item.status, Number(item.committed_cents), Number(item.received_cents)]).toEqual(['won', 300_000, 300_000]);
  });

  it('pause holds the sends, resume lets them go; a handover moves Reply-To to the new student', async () => {
    const s = await started({ ...fast, followUps: ['4s'] });
    const contact = s.sponsor.contacts[0].email;
    const next = await addPerson(stack.sql, { role: 'student', name: 'Léa Fournier', email: `lea.${s.sponsor.slug}@etu.test` });
    await handOverDossier(stack.outreach, s.sponsor.slug, { to: next.email, by: s.tutor.email });
    const paused = await pauseDossier(stack.outreach, s.sponsor.slug, { reason: 'semaine d’examens', by: s.tutor.email });
    expect(paused.paused?.reason).toBe('semaine d’examens');
    await new Promise((r) => setTimeout(r, 6000));
    expect(await mailsTo(contact)).toHaveLength(1);
    await resumeDossier(stack.outreach, s.sponsor.slug, { by: s.tutor.email });
    const [, followUp] = await waitFor(async () => {
      const m = await mailsTo(contact);
      return m.length === 2 && m;
    }, 'the follow-up after resuming');
    expect((await full(followUp.id)).replyTo).toContain(next.email);
    const [row] = await stack.sql<{ email: string }[]>`SELECT p.email FROM dossiers d JOIN people p ON p.id = d.student_id WHERE d.organisation_id = ${s.sponsor.id}`;
    expect(row.email).toBe(next.email);
    expect((await eventsOf(s.sponsor.id)).map((e) => e.kind)).toEqual(expect.arrayContaining(['handed_over', 'paused', 'resumed']));
  });

  it('continues as new with a follow-up pending, which still goes once; a sponsor approached again links to the old dossier', async () => {
    const s = await started({ ...fast, followUps: ['8s'], historyLimit: 20 });
    const contact = s.sponsor.contacts[0].email;
    const handle = stack.client.workflow.getHandle(sponsorOutreachId(s.sponsor.id));
    const firstRun = (await handle.describe()).runId;
    for (let i = 0; i < 3; i++) {
      await pauseDossier(stack.outreach, s.sponsor.slug, { reason: `pause ${i}`, by: s.tutor.email });
      await resumeDossier(stack.outreach, s.sponsor.slug, { by: s.tutor.email });
    }
    await waitFor(async () => (await handle.describe()).runId !== firstRun, 'a new run');
    const carried = await live(s.sponsor.id);
    expect(carried.sent.filter((e) => e.kind === 'initial')).toHaveLength(1);
    await waitFor(async () => (await mailsTo(contact)).length === 2, 'the follow-up after continue-as-new', 40_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await mailsTo(contact)).toHaveLength(2);

    await endDossier(stack.outreach, s.sponsor.slug, { outcome: 'lost', reason: 'pas de budget cette année', by: s.tutor.email });
    await startOutreach(stack.outreach, { sponsor: s.sponsor.slug, student: s.student.email, tutor: s.tutor.email, ask: 1000, policy: fast });
    const rows = await waitFor(async () => {
      const r = await stack.sql<{ id: string; previous_dossier_id: string | null }[]>`SELECT id, previous_dossier_id FROM dossiers WHERE organisation_id = ${s.sponsor.id} ORDER BY created_at`;
      return r.length === 2 && r;
    }, 'the second dossier');
    expect(rows[1].previous_dossier_id).toBe(rows[0].id);
  });
});
