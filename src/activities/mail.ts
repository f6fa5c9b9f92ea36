import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { SendMailOptions } from 'nodemailer';
import { formatDateTime, formatDay } from '../domain/dates';
import { formatEuros } from '../domain/money';
import { optOutToken } from '../domain/opt-out';
import { t } from '../i18n';
import type { RenderedMail } from '../templates/mail';
import type { EmailKind } from '../workflows/sponsor-outreach/messages';
import type { ActivityDeps } from './deps';
import { loadDossierContext, type DossierContext } from './dossier-context';
import { createOutbox, type OutboxRow } from './outbox';
import { templateFailure } from './template-failure';

export { messageIdFor } from './outbox';

export interface SendDossierEmailInput {
  dossierId: string;
  /** Business idempotency key computed by the workflow: one key, one email, ever. */
  key: string;
  kind: EmailKind;
  n?: number;
  documentId?: string;
  /** One of the dossier's contacts (default: its first). */
  contactId?: number;
}

export interface SendDossierEmailResult {
  status: 'sent' | 'opted_out';
  messageId: string;
  subject: string;
  to: string;
  sentAt: string;
}

/** The variables every dossier email shares (association, sponsor, people, project, amount). */
export function dossierMailVariables(association: ActivityDeps['association'], ctx: DossierContext) {
  return {
    association: { name: association.name, website: association.website ?? '', email: association.email },
    sponsor: { name: ctx.sponsor.name, slug: ctx.sponsor.slug },
    contact: { name: ctx.contact.name, email: ctx.contact.email },
    student: ctx.student,
    tutor: ctx.tutor,
    project: { title: association.project[ctx.lang].title, summary: association.project[ctx.lang].summary },
    amountAsked: formatEuros(ctx.amountAskedCents, ctx.lang),
  };
}

/**
 * The dossier's first email exactly as the sponsor's contact receives it: the one composition
 * used to send it and to show it to the tutor who validates it.
 */
export function composeInitialEmail(deps: Pick<ActivityDeps, 'templates' | 'association' | 'publicUrl' | 'secret'>, ctx: DossierContext): { to: string; rendered: RenderedMail } {
  const optOutUrl = `${deps.publicUrl}/opt-out/${optOutToken(deps.secret, ctx.contact.id)}`;
  return { to: ctx.contact.email, rendered: deps.templates.render('initial', ctx.lang, { ...dossierMailVariables(deps.association, ctx), optOutUrl }) };
}

/** The proposal PDF as an email attachment, named for the sponsor. */
export async function proposalAttachment(deps: Pick<ActivityDeps, 'sql' | 'documentsDir'>, ctx: DossierContext, documentId: string) {
  const [doc] = await deps.sql<{ path: string }[]>`SELECT path FROM documents WHERE id = ${documentId}`;
  if (!doc) throw ApplicationFailure.nonRetryable(`document ${documentId} not found`, 'MissingDocument');
  const filename = ctx.lang === 'fr' ? `Proposition-${ctx.sponsor.slug}.pdf` : `Proposal-${ctx.sponsor.slug}.pdf`;
  return { filename, content: await readFile(path.join(deps.documentsDir, doc.path)), contentType: 'application/pdf' };
}

/**
 * Activities that send email through the outbox: insert-if-absent → send → mark sent.
 * A retry after a completed send finds the row `sent` and sends nothing.
 */
export function createMailActivities(deps: ActivityDeps) {
  const { sql, templates, association, publicUrl, secret } = deps;
  const outbox = createOutbox(deps);

  const common = (ctx: DossierContext) => dossierMailVariables(association, ctx);

  async function compose(input: SendDossierEmailInput, ctx: DossierContext) {
    const optOutUrl = `${publicUrl}/opt-out/${optOutToken(secret, ctx.contact.id)}`;
    let rendered: RenderedMail;
    const headers: Record<string, string> = {};
    const extra: Partial<SendMailOptions> = {};
    if (input.kind === 'initial') {
      rendered = composeInitialEmail(deps, ctx).rendered;
      // The proposal attached is the given version, else the latest (the one the tutor approved).
      const [latest] = input.documentId
        ? [{ id: input.documentId }]
        : await sql<{ id: string }[]>`SELECT id FROM documents WHERE dossier_id = ${ctx.id} AND kind = 'proposal' ORDER BY version DESC LIMIT 1`;
      if (latest) extra.attachments = [await proposalAttachment(deps, ctx, latest.id)];
    } else if (input.kind === 'followup' || input.kind === 'closing') {
      // Threaded under the first email this contact received.
      const [first] = await sql<{ message_id: string; subject: string; sent_at: Date }[]>`
        SELECT message_id, subject, sent_at FROM emails
        WHERE dossier_id = ${ctx.id} AND kind = 'initial' AND status = 'sent' AND to_address = ${ctx.contact.email}
        ORDER BY sent_at LIMIT 1`;
      if (!first) throw ApplicationFailure.nonRetryable(`${input.kind} without a first email`, 'MissingThread');
      rendered =
        input.kind === 'closing'
          ? templates.render('closing', ctx.lang, { ...common(ctx), optOutUrl, firstSubject: first.subject })
          : templates.render('followup', ctx.lang, { ...common(ctx), optOutUrl, n: input.n ?? 1, firstSubject: first.subject, firstSentOn: formatDay(first.sent_at, ctx.lang) });
      // Threaded under the first email, as a person replying to their own message would.
      extra.inReplyTo = first.message_id;
      extra.references = [first.message_id];
    } else {
      const sent = await sql<{ kind: EmailKind; subject: string; sent_at: Date }[]>`
        SELECT kind, subject, sent_at FROM emails WHERE dossier_id = ${ctx.id} AND status = 'sent' AND kind <> 'escalation' ORDER BY sent_at`;
      rendered = templates.render('escalation', ctx.lang, {
        ...common(ctx),
        dossierUrl: `${publicUrl}/api/outreach/${ctx.sponsor.slug}`,
        sent: sent.map((e) => ({ date: formatDateTime(e.sent_at, ctx.lang), label: t(`kind.${e.kind}`, {}, ctx.lang), subject: e.subject })),
      });
    }
    if (input.kind !== 'escalation') {
      headers['List-Unsubscribe'] = `<${optOutUrl}>`;
      headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
    }
    const to = input.kind === 'escalation' ? ctx.tutor.email : ctx.contact.email;
    return { rendered, to, headers, extra };
  }

  return {
    /** Sends one of the dossier's emails (first email, follow-up, tutor alert) at most once per key. */
    async sendDossierEmail(input: SendDossierEmailInput): Promise<SendDossierEmailResult> {
      const ctx = await loadDossierContext(sql, input.dossierId, input.contactId);
      const existing = await outbox.find(input.key);
      if (existing && existing.status !== 'sending') return resultOf(existing);

      // The objection is checked right before each send, not only when the dossier started.
      if (input.kind !== 'escalation' && ctx.contact.optedOutAt) {
        return resultOf(await outbox.skip({ dossierId: ctx.id, key: input.key, kind: input.kind, to: ctx.contact.email }, 'opted out'));
      }

      const composed = await compose(input, ctx).catch(templateFailure);
      const { rendered, to, headers, extra } = composed;
      const sent = await outbox.send({
        dossierId: ctx.id,
        key: input.key,
        kind: input.kind,
        to,
        replyTo: ctx.student.email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        headers,
        extra,
      });
      return resultOf(sent);
    },
  };
}

function resultOf(row: OutboxRow): SendDossierEmailResult {
  return {
    status: row.status === 'skipped' ? 'opted_out' : 'sent',
    messageId: row.message_id,
    subject: row.subject,
    to: row.to_address,
    sentAt: (row.sent_at ?? new Date()).toISOString(),
  };
}
