import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApplicationFailure, log } from '@temporalio/activity';
import type { SendMailOptions } from 'nodemailer';
import { formatDateTime, formatDay } from '../domain/dates';
import { formatEuros } from '../domain/money';
import { optOutToken } from '../domain/opt-out';
import { t } from '../i18n';
import { TemplateError, type RenderedMail } from '../templates/mail';
import type { EmailKind } from '../workflows/sponsor-outreach/messages';
import type { ActivityDeps } from './deps';
import { loadDossierContext, type DossierContext } from './dossier-context';

export interface SendDossierEmailInput {
  dossierId: string;
  /** Business idempotency key computed by the workflow: one key, one email, ever. */
  key: string;
  kind: EmailKind;
  n?: number;
  documentId?: string;
}

export interface SendDossierEmailResult {
  status: 'sent' | 'opted_out';
  messageId: string;
  subject: string;
  to: string;
  sentAt: string;
}

interface OutboxRow {
  id: number;
  status: 'sending' | 'sent' | 'skipped';
  message_id: string;
  subject: string;
  to_address: string;
  sent_at: Date | null;
  attempts: number;
  error: string | null;
}

/** A deterministic Message-ID: a resend after a crash carries the same id, so mailboxes collapse it. */
export function messageIdFor(key: string, domain: string): string {
  return `<${createHash('sha256').update(key).digest('hex').slice(0, 40)}@${domain}>`;
}

/**
 * Activities that send email through the outbox: insert-if-absent → send → mark sent.
 * A retry after a completed send finds the row `sent` and sends nothing.
 */
export function createMailActivities(deps: ActivityDeps) {
  const { sql, transport, templates, association, documentsDir, mailFrom, publicUrl, secret } = deps;
  const domain = mailFrom.address.split('@')[1] ?? 'localhost';

  const common = (ctx: DossierContext) => ({
    association: { name: association.name, website: association.website ?? '', email: association.email },
    sponsor: { name: ctx.sponsor.name, slug: ctx.sponsor.slug },
    contact: { name: ctx.contact.name, email: ctx.contact.email },
    student: ctx.student,
    tutor: ctx.tutor,
    project: { title: association.project[ctx.lang].title, summary: association.project[ctx.lang].summary },
    amountAsked: formatEuros(ctx.amountAskedCents, ctx.lang),
  });

  async function compose(input: SendDossierEmailInput, ctx: DossierContext) {
    const optOutUrl = `${publicUrl}/opt-out/${optOutToken(secret, ctx.contact.id)}`;
    let rendered: RenderedMail;
    const headers: Record<string, string> = {};
    const extra: Partial<SendMailOptions> = {};
    if (input.kind === 'initial') {
      rendered = templates.render('initial', ctx.lang, { ...common(ctx), optOutUrl });
      if (input.documentId) {
        const [doc] = await sql<{ path: string }[]>`SELECT path FROM documents WHERE id = ${input.documentId}`;
        if (!doc) throw ApplicationFailure.nonRetryable(`document ${input.documentId} not found`, 'MissingDocument');
        const filename = ctx.lang === 'fr' ? `Proposition-${ctx.sponsor.slug}.pdf` : `Proposal-${ctx.sponsor.slug}.pdf`;
        extra.attachments = [{ filename, content: await readFile(path.join(documentsDir, doc.path)), contentType: 'application/pdf' }];
      }
    } else if (input.kind === 'followup') {
      const [first] = await sql<{ message_id: string; subject: string; sent_at: Date }[]>`
        SELECT message_id, subject, sent_at FROM emails WHERE dossier_id = ${ctx.id} AND kind = 'initial' AND status = 'sent'`;
      if (!first) throw ApplicationFailure.nonRetryable('follow-up without a first email', 'MissingThread');
      rendered = templates.render('followup', ctx.lang, {
        ...common(ctx),
        optOutUrl,
        n: input.n ?? 1,
        firstSubject: first.subject,
        firstSentOn: formatDay(first.sent_at, ctx.lang),
      });
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
      const ctx = await loadDossierContext(sql, input.dossierId);
      const messageId = messageIdFor(input.key, domain);
      const [existing] = await sql<OutboxRow[]>`SELECT * FROM emails WHERE idempotency_key = ${input.key}`;
      if (existing && existing.status !== 'sending') return resultOf(existing);

      // The objection is checked right before each send, not only when the dossier started.
      if (input.kind !== 'escalation' && ctx.contact.optedOutAt) {
        const [row] = await sql<OutboxRow[]>`
          INSERT INTO emails (dossier_id, idempotency_key, message_id, kind, to_address, subject, status, error)
          VALUES (${ctx.id}, ${input.key}, ${messageId}, ${input.kind}, ${ctx.contact.email}, '', 'skipped', 'opted out')
          ON CONFLICT (idempotency_key) DO UPDATE SET status = 'skipped', error = 'opted out'
          RETURNING *`;
        return resultOf(row);
      }

      let composed: Awaited<ReturnType<typeof compose>>;
      try {
        composed = await compose(input, ctx);
      } catch (error) {
        if (error instanceof TemplateError) throw ApplicationFailure.nonRetryable(error.message, 'TemplateError');
        throw error;
      }
      const { rendered, to, headers, extra } = composed;
      const [row] = await sql<OutboxRow[]>`
        INSERT INTO emails (dossier_id, idempotency_key, message_id, kind, to_address, reply_to, subject, in_reply_to, status, attempts)
        VALUES (${ctx.id}, ${input.key}, ${messageId}, ${input.kind}, ${to}, ${ctx.student.email}, ${rendered.subject},
                ${(extra.inReplyTo as string | undefined) ?? null}, 'sending', 1)
        ON CONFLICT (idempotency_key) DO UPDATE SET attempts = emails.attempts + 1
        RETURNING *`;
      if (row.status !== 'sending') return resultOf(row);
      if (row.attempts > 1 && row.error === null) {
        // The previous attempt died mid-send: we cannot know whether the server took it.
        // Resending with the same Message-ID lets mailboxes collapse a duplicate.
        log.warn('resending after an interrupted attempt', { key: input.key, messageId, attempts: row.attempts });
      }
      try {
        await transport.sendMail({
          from: { name: mailFrom.name, address: mailFrom.address },
          to,
          replyTo: ctx.student.email,
          subject: rendered.subject,
          text: rendered.text,
          html: rendered.html,
          messageId,
          headers,
          ...extra,
        });
      } catch (error) {
        const e = error as { responseCode?: number; message: string; code?: string };
        await sql`UPDATE emails SET error = ${e.message.slice(0, 1000)} WHERE id = ${row.id}`;
        if (e.responseCode && e.responseCode >= 500 && e.code === 'EENVELOPE') {
          throw ApplicationFailure.nonRetryable(`recipient refused: ${e.message}`, 'InvalidRecipient');
        }
        throw error; // temporary (server down, 4xx): retried with backoff
      }
      const [sent] = await sql<OutboxRow[]>`
        UPDATE emails SET status = 'sent', sent_at = now(), error = NULL WHERE id = ${row.id} RETURNING *`;
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
