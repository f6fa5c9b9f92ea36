import { createHash } from 'node:crypto';
import { ApplicationFailure, log } from '@temporalio/activity';
import type { SendMailOptions, Transporter } from 'nodemailer';
import type { Sql } from '../db/sql';

/** A deterministic Message-ID: a resend after a crash carries the same id, so mailboxes collapse it. */
export function messageIdFor(key: string, domain: string): string {
  return `<${createHash('sha256').update(key).digest('hex').slice(0, 40)}@${domain}>`;
}

export interface OutboxRow {
  id: number;
  status: 'sending' | 'sent' | 'skipped';
  message_id: string;
  subject: string;
  to_address: string;
  sent_at: Date | null;
  attempts: number;
  error: string | null;
}

/** What the email is about: a sponsor dossier, a funding application, or neither (a digest). */
export interface OutboxSubject {
  dossierId?: string;
  applicationId?: string;
}

export interface OutgoingMail extends OutboxSubject {
  /** Business idempotency key computed by the workflow: one key, one email, ever. */
  key: string;
  kind: string;
  to: string | string[];
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  headers?: Record<string, string>;
  /** Threading and attachments. */
  extra?: Partial<SendMailOptions>;
}

export interface Outbox {
  domain: string;
  /** The row already written for this key, if any. */
  find(key: string): Promise<OutboxRow | undefined>;
  /** Records that this email will never be sent (the recipient objected). */
  skip(mail: OutboxSubject & { key: string; kind: string; to: string }, reason: string): Promise<OutboxRow>;
  /** insert-if-absent → send → mark sent; a retry after a completed send sends nothing. */
  send(mail: OutgoingMail): Promise<OutboxRow>;
}

export function createOutbox({ sql, transport, mailFrom }: { sql: Sql; transport: Transporter; mailFrom: { name: string; address: string } }): Outbox {
  const domain = mailFrom.address.split('@')[1] ?? 'localhost';
  return {
    domain,
    async find(key) {
      const [row] = await sql<OutboxRow[]>`SELECT * FROM emails WHERE idempotency_key = ${key}`;
      return row;
    },
    async skip(mail, reason) {
      const [row] = await sql<OutboxRow[]>`
        INSERT INTO emails (dossier_id, application_id, idempotency_key, message_id, kind, to_address, subject, status, error)
        VALUES (${mail.dossierId ?? null}, ${mail.applicationId ?? null}, ${mail.key}, ${messageIdFor(mail.key, domain)}, ${mail.kind},
                ${mail.to}, '', 'skipped', ${reason})
        ON CONFLICT (idempotency_key) DO UPDATE SET status = 'skipped', error = ${reason}
        RETURNING *`;
      return row;
    },
    async send(mail) {
      const messageId = messageIdFor(mail.key, domain);
      const to = Array.isArray(mail.to) ? mail.to.join(', ') : mail.to;
      const [row] = await sql<OutboxRow[]>`
        INSERT INTO emails (dossier_id, application_id, idempotency_key, message_id, kind, to_address, reply_to, subject, in_reply_to, status, attempts)
        VALUES (${mail.dossierId ?? null}, ${mail.applicationId ?? null}, ${mail.key}, ${messageId}, ${mail.kind}, ${to},
                ${mail.replyTo ?? null}, ${mail.subject}, ${(mail.extra?.inReplyTo as string | undefined) ?? null}, 'sending', 1)
        ON CONFLICT (idempotency_key) DO UPDATE SET attempts = emails.attempts + 1
        RETURNING *`;
      if (row.status !== 'sending') return row;
      if (row.attempts > 1 && row.error === null) {
        // The previous attempt died mid-send: we cannot know whether the server took it.
        // Resending with the same Message-ID lets mailboxes collapse a duplicate.
        log.warn('resending after an interrupted attempt', { key: mail.key, messageId, attempts: row.attempts });
      }
      try {
        await transport.sendMail({
          from: { name: mailFrom.name, address: mailFrom.address },
          to: mail.to,
          replyTo: mail.replyTo,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId,
          headers: mail.headers ?? {},
          ...mail.extra,
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
      return sent;
    },
  };
}
