import { ApplicationFailure } from '@temporalio/activity';
import { formatDateTime } from '../domain/dates';
import { meetingInvitationIcs } from '../domain/ics';
import { t } from '../i18n';
import type { ActivityDeps } from './deps';
import { loadDossierContext } from './dossier-context';
import { dossierMailVariables } from './mail';
import { createOutbox } from './outbox';
import { optOutToken } from '../domain/opt-out';
import { renderOrFail } from './template-failure';

export interface MeetingDetails {
  /** The meeting's number in its dossier (UID of the calendar event with the dossier id). */
  id: number;
  /** Start (ISO instant). */
  at: string;
  durationMin: number;
  place?: string;
  videoUrl?: string;
}

export interface SendMeetingInvitationInput {
  dossierId: string;
  meeting: MeetingDetails;
  /** Business idempotency key computed by the workflow. */
  key: string;
  /** 0 for the first invitation, then one more per change of the same meeting. */
  sequence?: number;
}

export interface SendMeetingInvitationResult {
  messageId: string;
  subject: string;
  to: string[];
  sentAt: string;
  /** The contact objected to emails: only the student received the invitation. */
  contactSkipped: boolean;
}

/**
 * The meeting invitation: one email to the sponsor's contact and the student, with the
 * meeting as an `.ics` (METHOD:REQUEST) that calendars add and update by its UID. The
 * contact's objection to emails is honoured (the student alone is invited then).
 */
export function createMeetingActivities(deps: ActivityDeps) {
  const { sql, templates, association, publicUrl, secret, mailFrom } = deps;
  const outbox = createOutbox(deps);

  return {
    async sendMeetingInvitation(input: SendMeetingInvitationInput): Promise<SendMeetingInvitationResult> {
      const ctx = await loadDossierContext(sql, input.dossierId);
      const start = new Date(input.meeting.at);
      if (Number.isNaN(start.getTime()) || !(input.meeting.durationMin > 0)) {
        throw ApplicationFailure.nonRetryable(`invalid meeting ${JSON.stringify(input.meeting)}`, 'InvalidMeeting');
      }
      const end = new Date(start.getTime() + input.meeting.durationMin * 60_000);
      const contactSkipped = ctx.contact.optedOutAt !== null;
      const recipients = contactSkipped ? [ctx.student.email] : [ctx.contact.email, ctx.student.email];
      const where = [input.meeting.place, input.meeting.videoUrl ? t('meeting.video', { url: input.meeting.videoUrl }, ctx.lang) : undefined].filter(Boolean).join(' — ');
      const optOutUrl = `${publicUrl}/opt-out/${optOutToken(secret, ctx.contact.id)}`;
      const rendered = renderOrFail(() =>
        templates.render('meeting-invitation', ctx.lang, {
          ...dossierMailVariables(association, ctx),
          optOutUrl,
          meeting: { when: formatDateTime(start, ctx.lang), duration: t('meeting.duration', { minutes: input.meeting.durationMin }, ctx.lang), where: where || '—' },
        }),
      );
      const project = association.project[ctx.lang].title;
      const ics = meetingInvitationIcs({
        meetingId: `${ctx.id}-${input.meeting.id}`,
        uidDomain: outbox.domain,
        sequence: input.sequence ?? 0,
        start,
        end,
        summary: t('meeting.summary', { sponsor: ctx.sponsor.name, association: association.name }, ctx.lang),
        description: [
          t('meeting.description', { contact: ctx.contact.name, sponsor: ctx.sponsor.name, student: ctx.student.name, association: association.name, project }, ctx.lang),
          ...(input.meeting.videoUrl ? [t('meeting.video', { url: input.meeting.videoUrl }, ctx.lang)] : []),
        ].join('\n'),
        location: input.meeting.place,
        videoUrl: input.meeting.videoUrl,
        organizer: { name: association.name, email: mailFrom.address },
        attendees: [...(contactSkipped ? [] : [{ name: ctx.contact.name, email: ctx.contact.email }]), { name: ctx.student.name, email: ctx.student.email }],
        stamp: new Date(),
      });
      const sent = await outbox.send({
        dossierId: ctx.id,
        key: input.key,
        kind: 'meeting_invitation',
        to: recipients,
        replyTo: ctx.student.email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        headers: contactSkipped ? {} : { 'List-Unsubscribe': `<${optOutUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
        // nodemailer puts it both as the text/calendar alternative (calendar clients offer to
        // accept) and as an invitation.ics attachment.
        extra: { icalEvent: { method: 'REQUEST', filename: 'invitation.ics', content: ics } },
      });
      return {
        messageId: sent.message_id,
        subject: sent.subject,
        to: recipients,
        sentAt: (sent.sent_at ?? new Date()).toISOString(),
        contactSkipped,
      };
    },
  };
}
