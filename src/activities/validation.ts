import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { formatDateTime } from '../domain/dates';
import { formatEuros } from '../domain/money';
import { signValidationLink, type ValidationAction } from '../domain/signed-link';
import { t } from '../i18n';
import { type MailTemplateName, type MailTemplates, type MailVariables, type RenderedMail } from '../templates/mail';
import type { ActivityDeps } from './deps';
import { loadDossierContext, type DossierContext } from './dossier-context';
import { composeInitialEmail, proposalAttachment } from './mail';
import { createOutbox, type OutboxRow } from './outbox';
import { renderOrFail } from './template-failure';

/**
 * Emails of the tutor validation: the request (the proposal PDF, the first email exactly as it
 * will be sent, two signed links), the reminder and escalation ladder, and the changes requested
 * sent to the student. All go through the outbox: one key, one email, ever.
 *
 * These emails are internal (to the association's people): their outbox rows carry no
 * dossier id, so they never count as contacts with the sponsor (pipeline's last contact,
 * the tutor alert's list of what was sent); the dossier's timeline records them as events.
 */

export interface SendValidationRequestInput {
  dossierId: string;
  /** The proposal version to validate. */
  version: number;
  /** Business idempotency key computed by the workflow. */
  key: string;
  /** The proposal PDF of that version. */
  documentId: string;
  /** When the links stop working (ISO). */
  expiresAt: string;
}

export type ValidationRung = 'tutor' | 'other_tutors' | 'everyone';

export interface SendValidationReminderInput {
  dossierId: string;
  version: number;
  key: string;
  to: ValidationRung;
}

export interface SendChangesRequestedInput {
  dossierId: string;
  version: number;
  comment: string;
  /** Address of who requested the changes. */
  by: string;
  key: string;
  /** Command lines that help the student (e.g. the resubmit command), listed in the email. */
  actions?: string[];
}

export interface ValidationMailResult {
  /** `decided`: the request was decided meanwhile, nothing sent; `nobody`: no recipient at this rung. */
  status: 'sent' | 'decided' | 'nobody';
  emails: { to: string; messageId: string; subject: string; sentAt: string }[];
}

interface Person {
  id: number;
  name: string;
  email: string;
  role: 'student' | 'tutor' | 'treasurer';
}

interface RequestRow {
  dossier_id: string;
  version: number;
  document_id: string;
  tutor_id: number;
  requested_at: Date;
  expires_at: Date;
  email_to: string;
  email_subject: string;
  email_text: string;
  decided_at: Date | null;
}

/** The `> ` quotation of a text email, as mail clients quote. */
export function quoteText(text: string): string {
  return text
    .replace(/\s+$/, '')
    .split(/\r?\n/)
    .map((line) => (line ? `> ${line}` : '>'))
    .join('\n');
}

function render<N extends MailTemplateName>(templates: MailTemplates, name: N, lang: DossierContext['lang'], variables: MailVariables<N>): RenderedMail {
  return renderOrFail(() => templates.render(name, lang, variables));
}

const sentOf = (row: OutboxRow) => ({ to: row.to_address, messageId: row.message_id, subject: row.subject, sentAt: (row.sent_at ?? new Date()).toISOString() });

export function createValidationActivities(deps: ActivityDeps) {
  const { sql, templates, association, publicUrl, secret } = deps;
  const outbox = createOutbox(deps);

  /**
   * The link id is derived from the email's key with the secret: unpredictable to anyone else,
   * and identical if the same email is composed again (a resend after a crash carries the same links).
   */
  const linkId = (key: string, action: ValidationAction, personId: number) =>
    createHmac('sha256', secret).update(`validation-jti:${key}:${action}:${personId}`).digest('base64url').slice(0, 22);

  const linksFor = (ctx: DossierContext, row: RequestRow, key: string, person: Person) => {
    const url = (action: ValidationAction) => {
      const token = signValidationLink(secret, { d: ctx.id, v: row.version, a: action, e: Math.floor(row.expires_at.getTime() / 1000), j: linkId(key, action, person.id), p: person.id });
      return `${publicUrl}/validation/${token}${ctx.lang === 'en' ? '?lang=en' : ''}`;
    };
    return { approveUrl: url('approve'), changesUrl: url('changes'), expiresAt: formatDateTime(row.expires_at, ctx.lang) };
  };

  const dossierVariables = (ctx: DossierContext, version: number) => ({
    association: { name: association.name, website: association.website ?? '', email: association.email },
    sponsor: { name: ctx.sponsor.name, slug: ctx.sponsor.slug },
    student: ctx.student,
    tutor: ctx.tutor,
    amountAsked: formatEuros(ctx.amountAskedCents, ctx.lang),
    version,
  });

  const proposalUrl = (documentId: string) => `${publicUrl}/api/documents/${documentId}`;

  async function requestRow(dossierId: string, version: number): Promise<RequestRow> {
    const [row] = await sql<RequestRow[]>`SELECT * FROM validation_requests WHERE dossier_id = ${dossierId} AND version = ${version}`;
    if (!row) throw ApplicationFailure.nonRetryable(`no validation request for dossier ${dossierId} version ${version}`, 'MissingValidationRequest');
    return row;
  }

  async function person(id: number): Promise<Person> {
    const [p] = await sql<Person[]>`SELECT id, name, email, role FROM people WHERE id = ${id}`;
    if (!p) throw ApplicationFailure.nonRetryable(`person ${id} not found`, 'MissingPerson');
    return { ...p, id: Number(p.id) };
  }

  return {
    /**
     * Records the validation request of a proposal version (once) and emails its tutor the
     * PDF, the first email exactly as it will be sent, and the two signed links.
     */
    async sendValidationRequest(input: SendValidationRequestInput): Promise<ValidationMailResult> {
      const ctx = await loadDossierContext(sql, input.dossierId);
      const [{ tutor_id: tutorId }] = await sql<{ tutor_id: number }[]>`SELECT tutor_id FROM dossiers WHERE id = ${ctx.id}`;
      const initial = renderOrFail(() => composeInitialEmail(deps, ctx));
      // Idempotent: a retry finds the row, and its expiry, as first written.
      await sql`
        INSERT INTO validation_requests (dossier_id, version, document_id, tutor_id, expires_at, email_to, email_subject, email_text)
        VALUES (${ctx.id}, ${input.version}, ${input.documentId}, ${tutorId}, ${new Date(input.expiresAt)},
                ${initial.to}, ${initial.rendered.subject}, ${initial.rendered.text})
        ON CONFLICT (dossier_id, version) DO NOTHING`;
      const row = await requestRow(ctx.id, input.version);
      if (row.decided_at) return { status: 'decided', emails: [] };
      const tutor = await person(Number(row.tutor_id));

      const existing = await outbox.find(input.key);
      if (existing && existing.status === 'sent') return { status: 'sent', emails: [sentOf(existing)] };
      const rendered = render(templates, 'validation-request', ctx.lang, {
        ...dossierVariables(ctx, row.version),
        contact: { name: ctx.contact.name, email: ctx.contact.email },
        recipient: { name: tutor.name, email: tutor.email },
        email: { to: row.email_to, subject: row.email_subject, text: row.email_text, quoted: quoteText(row.email_text) },
        proposalUrl: proposalUrl(row.document_id),
        ...linksFor(ctx, row, input.key, tutor),
      });
      const sent = await outbox.send({
        key: input.key,
        kind: 'validation_request',
        to: tutor.email,
        replyTo: ctx.student.email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        extra: {
          attachments: [{ ...(await proposalAttachment(deps, ctx, row.document_id)), filename: t('validation.attachment', { sponsor: ctx.sponsor.slug, version: row.version }, ctx.lang) }],
        },
      });
      return { status: 'sent', emails: [sentOf(sent)] };
    },

    /**
     * No decision yet: reminds the tutor (`tutor`), asks the other tutors (`other_tutors`), or
     * flags the dossier to everyone concerned (`everyone`: its student, all tutors, the
     * treasurers). Tutors get fresh signed links of their own; the others, the situation.
     * Nothing is sent once the request is decided.
     */
    async sendValidationReminder(input: SendValidationReminderInput): Promise<ValidationMailResult> {
      const ctx = await loadDossierContext(sql, input.dossierId);
      const row = await requestRow(ctx.id, input.version);
      if (row.decided_at) return { status: 'decided', emails: [] };
      const [{ student_id: studentId }] = await sql<{ student_id: number }[]>`SELECT student_id FROM dossiers WHERE id = ${ctx.id}`;
      const owner = await person(Number(row.tutor_id));
      let recipients: Person[];
      if (input.to === 'tutor') recipients = [owner];
      else if (input.to === 'other_tutors') {
        recipients = await sql<Person[]>`SELECT id, name, email, role FROM people WHERE role = 'tutor' AND id <> ${row.tutor_id} ORDER BY id`;
      } else {
        recipients = await sql<Person[]>`
          SELECT id, name, email, role FROM people
          WHERE id = ${studentId} OR role IN ('tutor', 'treasurer')
          ORDER BY CASE role WHEN 'tutor' THEN 0 WHEN 'student' THEN 1 ELSE 2 END, id`;
      }
      if (!recipients.length) return { status: 'nobody', emails: [] };

      const since = formatDateTime(row.requested_at, ctx.lang);
      const situation = t(
        input.to === 'tutor' ? 'validation.reminder.tutor' : input.to === 'other_tutors' ? 'validation.reminder.otherTutors' : 'validation.reminder.everyone',
        { sponsor: ctx.sponsor.name, since, tutor: owner.name },
        ctx.lang,
      );
      const emails: ValidationMailResult['emails'] = [];
      for (const raw of recipients) {
        const recipient = { ...raw, id: Number(raw.id) };
        const key = `${input.key}:p${recipient.id}`;
        const existing = await outbox.find(key);
        if (existing && existing.status === 'sent') {
          emails.push(sentOf(existing));
          continue;
        }
        const rendered = render(templates, 'validation-reminder', ctx.lang, {
          ...dossierVariables(ctx, row.version),
          recipient: { name: recipient.name, email: recipient.email },
          situation,
          email: { to: row.email_to, subject: row.email_subject },
          proposalUrl: proposalUrl(row.document_id),
          links: recipient.role === 'tutor' ? [linksFor(ctx, row, key, recipient)] : [],
        });
        const sent = await outbox.send({
          key,
          kind: input.to === 'tutor' ? 'validation_reminder' : 'validation_escalation',
          to: recipient.email,
          replyTo: ctx.student.email,
          subject: rendered.subject,
          html: rendered.html,
          text: rendered.text,
        });
        emails.push(sentOf(sent));
      }
      return { status: 'sent', emails };
    },

    /** The tutor asked for changes: the student receives the comment, and what to do next. */
    async sendChangesRequested(input: SendChangesRequestedInput): Promise<ValidationMailResult> {
      const ctx = await loadDossierContext(sql, input.dossierId);
      const existing = await outbox.find(input.key);
      if (existing && existing.status === 'sent') return { status: 'sent', emails: [sentOf(existing)] };
      const by = input.by.trim().toLowerCase();
      const [reviewer] = await sql<{ name: string; email: string }[]>`SELECT name, email FROM people WHERE email = ${by}`;
      const rendered = render(templates, 'proposal-changes', ctx.lang, {
        ...dossierVariables(ctx, input.version),
        reviewer: reviewer?.name ?? input.by,
        comment: input.comment,
        actions: input.actions ?? [],
        dossierUrl: `${publicUrl}/api/outreach/${ctx.sponsor.slug}`,
      });
      const sent = await outbox.send({
        key: input.key,
        kind: 'proposal_changes',
        to: ctx.student.email,
        replyTo: reviewer?.email ?? ctx.tutor.email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
      });
      return { status: 'sent', emails: [sentOf(sent)] };
    },
  };
}
