import { createHmac } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { signValidationLink } from '../domain/signed-link';
import type { Sql } from '../db/sql';
import { formatDateTime } from '../domain/dates';
import { formatEuros, type Lang } from '../domain/money';
import { t } from '../i18n';
import type { RenderedMail } from '../templates/mail';
import type { Alarm, Rung } from '../workflows/funding-application/messages';
import type { ActivityDeps } from './deps';
import { createOutbox } from './outbox';
import { renderOrFail } from './template-failure';

interface Person {
  name: string;
  email: string;
}

/** Everything about an application an email needs, read in one go. */
interface ApplicationContext {
  id: string;
  lang: Lang;
  funder: string;
  programme: string;
  amountRequestedCents: number;
  deadline: Date;
  student: Person;
  tutor: Person;
  treasurers: Person[];
  tranches: { n: number; expected_on: string; amount_cents: string }[];
  reports: { n: number; kind: 'interim' | 'final' }[];
}

async function loadApplicationContext(sql: Sql, id: string): Promise<ApplicationContext> {
  const [a] = await sql<any[]>`
    SELECT a.id, a.lang, a.programme, a.amount_requested_cents, a.deadline_at, o.name AS funder,
           s.name AS student_name, s.email AS student_email, t.name AS tutor_name, t.email AS tutor_email
    FROM applications a
    JOIN organisations o ON o.id = a.organisation_id
    JOIN people s ON s.id = a.student_id
    JOIN people t ON t.id = a.tutor_id
    WHERE a.id = ${id}`;
  if (!a) throw ApplicationFailure.nonRetryable(`application ${id} not found`, 'MissingApplication');
  const [treasurers, tranches, reports] = await Promise.all([
    sql<Person[]>`SELECT name, email FROM people WHERE role = 'treasurer' ORDER BY id`,
    sql<ApplicationContext['tranches']>`SELECT n, expected_on::text, amount_cents FROM application_tranches WHERE application_id = ${id}`,
    sql<ApplicationContext['reports']>`SELECT n, kind FROM application_reports WHERE application_id = ${id}`,
  ]);
  return {
    id: a.id,
    lang: a.lang,
    funder: a.funder,
    programme: a.programme,
    amountRequestedCents: Number(a.amount_requested_cents),
    deadline: a.deadline_at,
    student: { name: a.student_name, email: a.student_email },
    tutor: { name: a.tutor_name, email: a.tutor_email },
    treasurers: [...treasurers],
    tranches: [...tranches],
    reports: [...reports],
  };
}

/** The CLI line that records the awaited step, shown in the email so nobody has to look it up. */
function actionsFor(ctx: ApplicationContext, alarm: Pick<Alarm, 'about' | 'ref'>): string[] {
  const ref = ctx.id.slice(0, 8);
  const cli = 'npm run mecene -- applications';
  switch (alarm.about) {
    case 'milestone':
      return {
        draft: [`${cli} draft-done ${ref} --by ${ctx.student.email}`],
        tutor_review: [`${cli} review ${ref} --approve --as ${ctx.tutor.email}`, `${cli} review ${ref} --changes "…" --as ${ctx.tutor.email}`],
        treasurer_signoff: [`${cli} sign-off ${ref} --as <trésorier·e>`],
        submitted: [`${cli} submit ${ref} --by ${ctx.student.email}`, `${cli} deadline ${ref} --to <AAAA-MM-JJ HH:MM> --by ${ctx.student.email}`],
      }[alarm.ref] ?? [];
    case 'decision':
      return [`${cli} decision ${ref} --awarded <montant> --tranche <AAAA-MM-JJ>:<montant> --by ${ctx.student.email}`, `${cli} decision ${ref} --refused "<motif>" --by ${ctx.student.email}`];
    case 'tranche':
      return [`${cli} receive ${ref} --tranche ${alarm.ref} --amount <montant> --on <AAAA-MM-JJ> --as <trésorier·e>`];
    case 'report':
      return [`${cli} report-submitted ${ref} ${alarm.ref} --by ${ctx.student.email}`];
  }
}

/** What is awaited, in a sentence of the reader's language. */
function taskFor(ctx: ApplicationContext, alarm: Pick<Alarm, 'about' | 'ref' | 'dueAt'>): string {
  const lang = ctx.lang;
  if (alarm.about === 'milestone') return t(`application.task.${alarm.ref as 'draft'}`, {}, lang);
  if (alarm.about === 'decision') return t('application.task.decision', {}, lang);
  if (alarm.about === 'tranche') {
    const tranche = ctx.tranches.find((x) => String(x.n) === alarm.ref);
    return t('application.task.tranche', { n: alarm.ref, amount: formatEuros(Number(tranche?.amount_cents ?? 0), lang) }, lang);
  }
  const report = ctx.reports.find((r) => String(r.n) === alarm.ref);
  return t(`application.task.report.${report?.kind ?? 'final'}`, { n: alarm.ref }, lang);
}

/** Activities that email the people working on an application: reminders, escalations, review comments. */
export function createApplicationMailActivities(deps: ActivityDeps) {
  const { sql, templates, publicUrl, secret } = deps;
  const outbox = createOutbox(deps);

  const common = (ctx: ApplicationContext) => ({
    application: {
      funder: ctx.funder,
      programme: ctx.programme,
      amountRequested: formatEuros(ctx.amountRequestedCents, ctx.lang),
      deadline: formatDateTime(ctx.deadline, ctx.lang),
      url: `${publicUrl}/api/applications/${ctx.id}`,
    },
    student: ctx.student,
    tutor: ctx.tutor,
  });

  /** The treasurer rung reaches every treasurer; with none registered, the tutor hears instead. */
  const recipientsOf = (ctx: ApplicationContext, rung: Rung): Person[] =>
    rung === 'student' ? [ctx.student] : rung === 'tutor' ? [ctx.tutor] : ctx.treasurers.length ? ctx.treasurers : [ctx.tutor];

  return {
    /** A reminder to the owner of a late (or soon due) step, or an escalation up the ladder; once per key. */
    async sendApplicationNotice({ applicationId, key, alarm }: { applicationId: string; key: string; alarm: Alarm }): Promise<{ messageId: string; to: string }> {
      const existing = await outbox.find(key);
      if (existing && existing.status !== 'sending') return { messageId: existing.message_id, to: existing.to_address };
      const ctx = await loadApplicationContext(sql, applicationId);
      const recipients = recipientsOf(ctx, alarm.to);
      const ownerRung = alarm.about === 'milestone' ? ({ draft: 'student', tutor_review: 'tutor', treasurer_signoff: 'treasurer', submitted: 'student' } as const)[alarm.ref as 'draft'] : alarm.about === 'tranche' ? 'treasurer' : 'student';
      const owner = recipientsOf(ctx, ownerRung)[0];
      const variables = {
        ...common(ctx),
        recipient: recipients.length === 1 ? recipients[0].name : t('application.recipients.treasurers', {}, ctx.lang),
        task: taskFor(ctx, alarm),
        dueOn: formatDateTime(alarm.dueAt, ctx.lang),
        actions: actionsFor(ctx, alarm),
      };
      const rendered: RenderedMail = renderOrFail(() =>
        alarm.kind === 'reminder' ? templates.render('application-reminder', ctx.lang, variables) : templates.render('application-escalation', ctx.lang, { ...variables, owner }),
      );
      const row = await outbox.send({
        applicationId,
        key,
        kind: `application_${alarm.kind}`,
        to: recipients.map((r) => r.email),
        replyTo: alarm.to === 'student' ? ctx.tutor.email : ctx.student.email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
      });
      return { messageId: row.message_id, to: row.to_address };
    },

    /**
     * Asks the tutor to review (approve or request changes), or each treasurer to sign off the
     * budget, with signed single-use links; each recipient gets links of their own. Once per key.
     */
    async sendApplicationApprovalRequest({ applicationId, milestone, round, key, expiresAt }: { applicationId: string; milestone: 'tutor_review' | 'treasurer_signoff'; round: number; key: string; expiresAt: string }): Promise<{ sent: number }> {
      const ctx = await loadApplicationContext(sql, applicationId);
      const people = milestone === 'tutor_review'
        ? await sql<(Person & { id: number })[]>`SELECT p.id, p.name, p.email FROM applications a JOIN people p ON p.id = a.tutor_id WHERE a.id = ${applicationId}`
        : await sql<(Person & { id: number })[]>`SELECT id, name, email FROM people WHERE role = 'treasurer' ORDER BY id`;
      const actions: ('approve' | 'changes')[] = milestone === 'tutor_review' ? ['approve', 'changes'] : ['approve'];
      let sent = 0;
      for (const person of people) {
        const personKey = `${key}:p${person.id}`;
        const existing = await outbox.find(personKey);
        if (existing && existing.status !== 'sending') continue;
        const links = actions.map((a) => {
          // The link id derives from the email's key: a resend after a crash carries the same links.
          const j = createHmac('sha256', secret).update(`approval-jti:${personKey}:${a}`).digest('base64url').slice(0, 22);
          const token = signValidationLink(secret, { d: applicationId, v: round, a, e: Math.floor(Date.parse(expiresAt) / 1000), j, p: Number(person.id), m: milestone }, 'application-approval');
          return { label: t(`application.link.${a}`, {}, ctx.lang), url: `${publicUrl}/approval/${token}${ctx.lang === 'en' ? '?lang=en' : ''}` };
        });
        const rendered = renderOrFail(() =>
          templates.render('application-approval', ctx.lang, {
            ...common(ctx),
            recipient: person.name,
            task: t(`application.task.${milestone}`, {}, ctx.lang),
            links,
            expiresOn: formatDateTime(expiresAt, ctx.lang),
          }),
        );
        await outbox.send({ applicationId, key: personKey, kind: 'application_approval', to: person.email, replyTo: ctx.student.email, subject: rendered.subject, html: rendered.html, text: rendered.text });
        sent++;
      }
      return { sent };
    },

    /** Tells the student what the tutor wants changed before the draft goes back for review. */
    async sendApplicationChangesRequested({ applicationId, key, comment, by }: { applicationId: string; key: string; comment: string; by: string }): Promise<{ messageId: string }> {
      const existing = await outbox.find(key);
      if (existing && existing.status !== 'sending') return { messageId: existing.message_id };
      const ctx = await loadApplicationContext(sql, applicationId);
      const [reviewer] = await sql<Person[]>`SELECT name, email FROM people WHERE email = ${by}`;
      const rendered = renderOrFail(() =>
        templates.render('application-changes', ctx.lang, {
          ...common(ctx),
          reviewer: reviewer?.name ?? by,
          comment,
          actions: actionsFor(ctx, { about: 'milestone', ref: 'draft' }),
        }),
      );
      const row = await outbox.send({
        applicationId,
        key,
        kind: 'application_changes',
        to: ctx.student.email,
        replyTo: reviewer?.email ?? ctx.tutor.email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
      });
      return { messageId: row.message_id };
    },
  };
}
