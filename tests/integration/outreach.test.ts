import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeOutreach, outreachStatus, recordReply, restartFollowUps, startOutreach } from '../../src/service/outreach';
import { nextSend } from '../../src/workflows/sponsor-outreach/relationship-plan';
import type { RelationshipState, RelationshipTimings } from '../../src/workflows/sponsor-outreach/messages';
import { pdfText } from '../support/pdf-text';
import { seed, stageOf as stageIn, startTestStack, waitFor, type TestStack, SEND_NOW } from '../support/stack';

/** Second-scale policy: the same process that waits weeks in production. */
const fast = { ...SEND_NOW, followUps: ['2s', '4s'], grace: '2s', sendTimeout: '10s' };

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const stageOf = (sponsorId: number) => stageIn(stack.sql, sponsorId);
const mailsTo = async (address: string) => (await stack.catcher.store.list()).filter((m) => m.to.includes(address));

describe('sponsor outreach, end to end on real Temporal, PostgreSQL and SMTP', () => {
  it('sends the proposal, threaded follow-ups, then alerts the tutor; restart and close follow', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const contact = sponsor.contacts[0].email;
    const started = await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: '2 500', policy: fast });
    expect(started.workflowId).toBe(`sponsor-${sponsor.id}`);

    // 1–2. Proposal PDF attached to a French email, Reply-To the student, opt-out link.
    const [first] = await waitFor(async () => {
      const m = await mailsTo(contact);
      return m.length >= 1 && m;
    }, 'the first email');
    const initial = (await stack.catcher.store.get(first.id))!;
    expect(initial.subject).toContain(sponsor.name);
    expect(initial.replyTo).toContain(student.email);
    expect(initial.text).toContain('Bonjour Hélène Dupré');
    expect(initial.text).toMatch(/Pour ne plus recevoir de courriels de notre part : http:\/\/127\.0\.0\.1:3600\/opt-out\/\d+\.[\w-]+/);
    expect(initial.headers['list-unsubscribe']).toContain('/opt-out/');
    expect(initial.attachments).toHaveLength(1);
    expect(initial.attachments[0].contentType).toBe('application/pdf');
    const pdf = await stack.catcher.store.attachment(first.id, 0);
    const text = await pdfText(pdf!.content);
    expect(text).toContain(sponsor.name);
    expect(text).toContain('2 500,00 €');

    // The document row matches the attached bytes.
    const [doc] = await stack.sql<{ sha256: string; size_bytes: number }[]>`
      SELECT sha256, size_bytes FROM documents d JOIN dossiers o ON o.id = d.dossier_id WHERE o.organisation_id = ${sponsor.id}`;
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(pdf!.content).digest('hex')).toBe(doc.sha256);
    expect(doc.size_bytes).toBe(pdf!.content.length);

    // 3. Two follow-ups, threaded under the first email.
    const all = await waitFor(async () => {
      const m = await mailsTo(contact);
      return m.length >= 3 && m;
    }, 'two follow-ups');
    for (const followUp of all.slice(1)) {
      expect(followUp.subject).toBe(`Re: ${initial.subject}`);
      expect(followUp.inReplyTo).toBe(initial.messageId);
      const full = (await stack.catcher.store.get(followUp.id))!;
      expect(full.references).toContain(initial.messageId);
    }

    // 5. Silence: the tutor gets the alert with what was sent, and the dossier shows escalated.
    const [alert] = await waitFor(async () => {
      const m = await mailsTo(tutor.email);
      return m.length >= 1 && m;
    }, 'the escalation email');
    const alertMail = (await stack.catcher.store.get(alert.id))!;
    expect(alertMail.subject).toContain(sponsor.name);
    expect(alertMail.text).toContain('premier courriel');
    expect(alertMail.text).toContain(`mecene outreach restart ${sponsor.slug}`);
    expect(await waitFor(async () => (await stageOf(sponsor.id)) === 'escalated', 'stage escalated')).toBe(true);
    expect(await mailsTo(contact)).toHaveLength(3);

    // Restart: a new round of follow-ups under the same thread.
    const restarted = await restartFollowUps(stack.outreach, sponsor.slug, { by: tutor.email });
    expect(restarted.round).toBe(1);
    const afterRestart = await waitFor(async () => {
      const m = await mailsTo(contact);
      return m.length >= 4 && m;
    }, 'a follow-up after restart');
    expect(afterRestart[3].inReplyTo).toBe(initial.messageId);

    // Closing without a reply: the relationship is lost, with the reason given.
    const closed = await closeOutreach(stack.outreach, sponsor.slug, { reason: 'sans réponse', by: tutor.email });
    expect(closed.stage).toBe('lost');

    // 6. The timeline in PostgreSQL tells the same story.
    const view = await outreachStatus(stack.outreach, sponsor.slug);
    expect(view.dossier?.stage).toBe('lost');
    expect(view.dossier?.closeReason).toBe('sans réponse');
    const kinds = view.events.map((e) => e.kind);
    expect(kinds.slice(0, 6)).toEqual(['started', 'proposal_generated', 'email_sent', 'email_sent', 'email_sent', 'escalated']);
    expect(kinds).toContain('followups_restarted');
    expect(kinds.at(-1)).toBe('ended');
    expect(view.emails.every((e) => e.status === 'sent')).toBe(true);
  });

  it('a recorded reply stops the follow-ups at once and moves the stage', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const contact = sponsor.contacts[0].email;
    await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 1200, policy: { ...SEND_NOW, followUps: ['3s'], grace: '2s', sendTimeout: '10s' } });
    await waitFor(async () => (await mailsTo(contact)).length === 1, 'the first email');
    const status = await recordReply(stack.outreach, sponsor.slug, { outcome: 'meeting', note: 'RDV le 12 janvier' });
    expect(status.stage).toBe('meeting');
    expect(nextSend(status as RelationshipState, {} as RelationshipTimings)).toBeNull(); // no more emails to the sponsor
    // The update returns once PostgreSQL has the stage.
    expect(await stageOf(sponsor.id)).toBe('meeting');
    await new Promise((r) => setTimeout(r, 6000)); // past the follow-up and grace
    expect(await mailsTo(contact)).toHaveLength(1);
    expect(await mailsTo(tutor.email)).toHaveLength(0);

    // A later "declined" ends the dossier as lost, with its reason; further replies are refused with a clear message.
    const declined = await recordReply(stack.outreach, sponsor.slug, { outcome: 'declined', reason: 'budget', note: 'budget 2027 bouclé' });
    expect(declined.stage).toBe('lost');
    await expect(recordReply(stack.outreach, sponsor.slug, { outcome: 'interested' })).rejects.toThrow(/error\.(outreachClosed|noOutreach)/);
    const [row] = await stack.sql<{ closed_at: Date | null; close_reason: string }[]>`SELECT closed_at, close_reason FROM dossiers WHERE organisation_id = ${sponsor.id}`;
    expect(row.closed_at).not.toBeNull();
    expect(row.close_reason).toBe('declined:budget');
  });

  it('refuses a second outreach for the same sponsor, naming the running one', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const input = { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 800, policy: { ...SEND_NOW, followUps: ['1h'], grace: '1h', sendTimeout: '10s' } };
    const first = await startOutreach(stack.outreach, input);
    await expect(startOutreach(stack.outreach, input)).rejects.toMatchObject({ key: 'error.outreachRunning', params: expect.objectContaining({ workflowId: first.workflowId }) });
    // Even before the dossier row exists, Temporal's id conflict policy refuses it.
    await closeOutreach(stack.outreach, sponsor.slug, { reason: 'test' });
    const again = await startOutreach(stack.outreach, input);
    expect(again.dossierId).not.toBe(first.dossierId);
    await closeOutreach(stack.outreach, sponsor.slug, { reason: 'test' });
  });

  it('retries while the SMTP server is down and sends once it returns', async () => {
    const { student, tutor, sponsor } = await seed(stack.sql);
    const contact = sponsor.contacts[0].email;
    stack.catcher.setAvailable(false);
    try {
      await startOutreach(stack.outreach, { sponsor: sponsor.slug, student: student.email, tutor: tutor.email, ask: 500, policy: { ...SEND_NOW, followUps: ['1h'], grace: '1h', sendTimeout: '10s' } });
      await waitFor(async () => {
        const [row] = await stack.sql<{ attempts: number; error: string | null }[]>`
          SELECT e.attempts, e.error FROM emails e JOIN dossiers d ON d.id = e.dossier_id WHERE d.organisation_id = ${sponsor.id}`;
        return row && row.attempts >= 2 && row.error;
      }, 'two failed attempts');
      expect(await mailsTo(contact)).toHaveLength(0);
    } finally {
      stack.catcher.setAvailable(true);
    }
    await waitFor(async () => (await mailsTo(contact)).length === 1, 'the email after SMTP came back', 60_000);
    await waitFor(async () => (await stageOf(sponsor.id)) === 'contacted', 'stage contacted');
    await new Promise((r) => setTimeout(r, 500));
    expect(await mailsTo(contact)).toHaveLength(1);
    await closeOutreach(stack.outreach, sponsor.slug, { reason: 'test' });
  });
});
