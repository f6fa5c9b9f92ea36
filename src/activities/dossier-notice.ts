import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SendMailOptions } from 'nodemailer';
import { formatDateTime } from '../domain/dates';
import { formatEuros } from '../domain/money';
import { t } from '../i18n';
import type { ActivityDeps } from './deps';
import { loadDossierContext, type DossierContext } from './dossier-context';
import { createOutbox } from './outbox';
import { renderOrFail } from './template-failure';

interface Person {
  name: string;
  email: string;
}

export type NoticeAbout = 'changes' | 'next_step' | 'meeting_reminder' | 'meeting_result' | 'instalment' | 'opted_out' | 'invalid_recipient' | 'convention';

export interface DossierNoticeInput {
  dossierId: string;
  key: string;
  about: NoticeAbout;
  /** The meeting, instalment or contact concerned; for `convention`, the agreement's document id. */
  ref: string;
  kind: 'reminder' | 'escalation';
  to: 'student' | 'tutor' | 'treasurer' | 'other_tutors' | 'everyone';
  dueAt: string;
}

/** Activities that tell the association's people about a dossier: reminders and escalations. */
export function createDossierNoticeActivities(deps: ActivityDeps) {
  const { sql, templates, publicUrl } = deps;
  const outbox = createOutbox(deps);

  const recipients = async (ctx: DossierContext, rung: DossierNoticeInput['to']): Promise<Person[]> => {
    if (rung === 'student') return [ctx.student];
    if (rung === 'tutor') return [ctx.tutor];
    if (rung === 'treasurer') {
      const rows = await sql<Person[]>`SELECT name, email FROM people WHERE role = 'treasurer' ORDER BY id`;
      return rows.length ? [...rows] : [ctx.tutor];
    }
    const tutors = await sql<Person[]>`SELECT name, email FROM people WHERE role = 'tutor' AND email <> ${ctx.tutor.email} ORDER BY id`;
    if (rung === 'other_tutors') return tutors.length ? [...tutors] : [ctx.tutor];
    const treasurers = await sql<Person[]>`SELECT name, email FROM people WHERE role = 'treasurer' ORDER BY id`;
    return [ctx.student, ctx.tutor, ...tutors, ...treasurers];
  };

  /** What is awaited, in a sentence, and the command that records it. */
  const describe = async (ctx: DossierContext, input: DossierNoticeInput) => {
    const lang = ctx.lang;
    const slug = ctx.sponsor.slug;
    const cli = 'npm run mecene -- outreach';
    switch (input.about) {
      case 'changes':
        return { task: t('notice.changes', {}, lang), actions: [`${cli} resubmit ${slug} [--ask <montant>] --by ${ctx.student.email}`] };
      case 'next_step':
        return { task: t('notice.next_step', { sponsor: ctx.sponsor.name }, lang), actions: [`${cli} meeting ${slug} --at "<AAAA-MM-JJ HH:MM>" --place "…" --by ${ctx.student.email}`, `${cli} pledge ${slug} --amount <montant> --instalment <AAAA-MM-JJ>:<montant> --by ${ctx.student.email}`, `${cli} end ${slug} --outcome lost --reason "…" --by ${ctx.student.email}`] };
      case 'meeting_reminder': {
        const [m] = await sql<{ starts_at: Date; place: string | null; video_url: string | null }[]>`SELECT starts_at, place, video_url FROM meetings WHERE dossier_id = ${ctx.id} AND n = ${Number(input.ref)}`;
        return { task: t('notice.meeting_reminder', { sponsor: ctx.sponsor.name, at: formatDateTime(m?.starts_at ?? input.dueAt, lang), where: m?.place ?? m?.video_url ?? '' }, lang), actions: [] };
      }
      case 'meeting_result':
        return { task: t('notice.meeting_result', { sponsor: ctx.sponsor.name }, lang), actions: [`${cli} meeting-result ${slug} ${input.ref} --summary "…" [--next-step "…" --due <AAAA-MM-JJ>] --by ${ctx.student.email}`] };
      case 'instalment': {
        const [i] = await sql<{ amount_cents: string }[]>`
          SELECT pi.amount_cents FROM pledge_instalments pi JOIN pledges p ON p.id = pi.pledge_id WHERE p.dossier_id = ${ctx.id} AND pi.n = ${Number(input.ref)} ORDER BY p.created_at DESC LIMIT 1`;
        return { task: t('notice.instalment', { n: input.ref, amount: formatEuros(Number(i?.amount_cents ?? 0), lang), sponsor: ctx.sponsor.name }, lang), actions: [`${cli} payment ${slug} --amount <montant> --instalment ${input.ref} --on <AAAA-MM-JJ> --as <trésorier·e>`] };
      }
      case 'opted_out':
      case 'invalid_recipient': {
        const [c] = await sql<Person[]>`SELECT name, email FROM contacts WHERE id = ${Number(input.ref)}`;
        return { task: t(`notice.${input.about}`, { contact: c ? `${c.name} <${c.email}>` : input.ref }, lang), actions: [] };
      }
      case 'convention':
        return { task: t('notice.convention', { sponsor: ctx.sponsor.name }, lang), actions: [] };
    }
  };

  return {
    /** A reminder or an escalation about a dossier (or a notice to the student), once per key. */
    async sendDossierNotice(input: DossierNoticeInput): Promise<{ messageId: string; to: string }> {
      const existing = await outbox.find(input.key);
      if (existing && existing.status !== 'sending') return { messageId: existing.message_id, to: existing.to_address };
      const ctx = await loadDossierContext(sql, input.dossierId);
      const people = await recipients(ctx, input.to);
      const { task, actions } = await describe(ctx, input);
      const owner = ctx.student; // every task on a dossier is its student's first
      const variables = {
        recipient: people.length === 1 ? people[0].name : t('notice.recipients.team', {}, ctx.lang),
        sponsor: ctx.sponsor.name,
        student: ctx.student,
        tutor: ctx.tutor,
        task,
        dueOn: formatDateTime(input.dueAt, ctx.lang),
        actions,
        dossierUrl: `${publicUrl}/api/outreach/${ctx.sponsor.slug}`,
      };
      const rendered = renderOrFail(() =>
        input.kind === 'reminder' ? templates.render('dossier-reminder', ctx.lang, variables) : templates.render('dossier-escalation', ctx.lang, { ...variables, owner }),
      );
      const extra: Partial<SendMailOptions> = {};
      if (input.about === 'convention') {
        const [doc] = await sql<{ path: string }[]>`SELECT path FROM documents WHERE id = ${input.ref}`;
        if (doc) extra.attachments = [{ filename: `Convention-${ctx.sponsor.slug}.pdf`, content: await readFile(path.join(deps.documentsDir, doc.path)), contentType: 'application/pdf' }];
      }
      const row = await outbox.send({
        dossierId: ctx.id,
        key: input.key,
        kind: `notice_${input.about}`,
        to: people.map((p) => p.email),
        replyTo: input.to === 'student' ? ctx.tutor.email : ctx.student.email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        extra,
      });
      return { messageId: row.message_id, to: row.to_address };
    },
  };
}
