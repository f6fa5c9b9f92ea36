import { defineQuery, defineUpdate } from '@temporalio/workflow';

/** Messages of the sponsor outreach process, shared by the workflow, the service and tests. */

export type Lang = 'fr' | 'en';
export type OutreachStage =
  | 'preparing'
  | 'contacted'
  | 'followed_up'
  | 'escalated'
  | 'interested'
  | 'meeting'
  | 'declined'
  | 'opted_out'
  | 'closed';
export type ReplyOutcome = 'interested' | 'meeting' | 'declined';
export type EmailKind = 'initial' | 'followup' | 'escalation';

/** Stages after which the process has ended. */
export const FINAL_STAGES: readonly OutreachStage[] = ['declined', 'opted_out', 'closed'];

export interface OutreachTimings {
  /** Follow-up offsets from the first email of a round, increasing (ms). */
  followUpsMs: number[];
  /** Silence after the last follow-up before the tutor is alerted (ms). */
  graceMs: number;
  /** Time one send may take before it is retried (ms). */
  sendTimeoutMs: number;
}

export interface SponsorOutreachInput {
  dossierId: string;
  sponsor: { id: number; slug: string; name: string };
  contactId: number;
  studentId: number;
  tutorId: number;
  amountAskedCents: number;
  lang: Lang;
  /** The policy as written (kept in the dossier for the record). */
  policy: { followUps: string[]; grace: string; sendTimeout: string };
  timings: OutreachTimings;
}

export interface SentEmail {
  kind: EmailKind;
  key: string;
  messageId: string;
  subject: string;
  to: string;
  sentAt: string;
  round: number;
  n?: number;
}

export interface NextAction {
  action: 'followup' | 'escalation';
  n?: number;
  at: string;
}

export interface OutreachStatus {
  dossierId: string;
  sponsor: { id: number; slug: string; name: string };
  stage: OutreachStage;
  round: number;
  sent: SentEmail[];
  next: NextAction | null;
  reply: { outcome: ReplyOutcome; note: string; at: string; by?: string } | null;
  closed: { reason: string; at: string; by?: string } | null;
  proposalDocumentId: string | null;
}

export interface ReplyInput {
  outcome: ReplyOutcome;
  note: string;
  by?: string;
}

export interface CloseInput {
  reason: string;
  by?: string;
}

/** Error types the update validators throw; the service translates them for people. */
export const OUTREACH_ENDED = 'OutreachEnded';
export const NOT_ESCALATED = 'NotEscalated';

export const outreachStatusQuery = defineQuery<OutreachStatus>('outreachStatus');
// Updates rather than signals: the student must learn at once whether the reply was taken,
// and the call returns only once the dossier's stage is written to PostgreSQL.
export const recordReplyUpdate = defineUpdate<OutreachStatus, [ReplyInput]>('recordReply');
export const closeOutreachUpdate = defineUpdate<OutreachStatus, [CloseInput]>('closeOutreach');
export const restartFollowUpsUpdate = defineUpdate<OutreachStatus, [{ by?: string }]>('restartFollowUps');

/** One live outreach per sponsor: the workflow id is derived from the sponsor. */
export function sponsorOutreachId(sponsorId: number): string {
  return `sponsor-${sponsorId}`;
}
