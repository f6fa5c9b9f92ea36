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
export type EmailKind = 'initial' | 'followup' | 'escalation' | 'closing';

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

// ---------------------------------------------------------------------------------------------
// The whole relationship (dossiers started with `relationship` timings): validation by a tutor,
// send windows and caps, every reply outcome, meetings, pledges, payments and receipts.

export type RelationshipStage =
  | 'validation' // the proposal waits for a tutor's decision
  | 'changes_requested' // the tutor asked for changes; the student edits and resubmits
  | 'approved' // validated; the first email waits for the send window and the caps
  | 'contacted'
  | 'followed_up'
  | 'escalated'
  | 'callback' // the sponsor asked to be contacted again after a date (or is out of office)
  | 'interested'
  | 'meeting'
  | 'pledged'
  | 'won'
  | 'lost'
  | 'withdrawn'
  | 'opted_out';
export const RELATIONSHIP_ENDED: readonly RelationshipStage[] = ['won', 'lost', 'withdrawn', 'opted_out'];

export const DECLINE_REASONS = ['budget', 'timing', 'not_our_focus', 'other'] as const;
export type DeclineReason = (typeof DECLINE_REASONS)[number];
export type RelationshipReplyOutcome = 'interested' | 'meeting' | 'declined' | 'callback' | 'out_of_office';

/** The working rules of sending: Paris window, holidays, blackouts (see workflows/shared/send-window.ts). */
export interface SendRulesInput {
  weekdays: number[];
  opens: string;
  closes: string;
  holidays: string[];
  blackouts: { from: string; to: string }[];
}

/** A wait counted in business days (the send window's open days) or in plain time. */
export type Delay = { businessDays: number } | { ms: number };

export interface RelationshipTimings extends OutreachTimings {
  /** No decision from the tutor: reminder, then the other tutors, then everyone (after the request). */
  validationReminder: Delay;
  validationEscalation: Delay;
  validationFlag: Delay;
  /** `none`: the proposal goes without a tutor's validation. */
  validation: 'tutor' | 'none';
  /** After "interested" or a meeting: the next step is due this long after, else the student, then the tutor, hear of it. */
  nextStepMs: number;
  /** After a meeting's end: its result is due this long after. */
  meetingResultMs: number;
  /** Reminder to the student before a meeting. */
  meetingReminderMs: number;
  /** Lateness of an instalment before the student, then the treasurer, are reminded. */
  instalmentGraceMs: number;
  /** Time between two rungs of any ladder. */
  escalateAfterMs: number;
  /** Signed links' lifetime. */
  linkTtlMs: number;
  dailyCap: number;
  domainCap: number;
  sendRules: SendRulesInput;
  historyLimit: number;
}

export interface Meeting {
  id: number;
  at: string;
  durationMin: number;
  place?: string;
  videoUrl?: string;
  result?: { summary: string; nextStep?: string; nextStepDue?: string; at: string; by: string };
}

export interface PledgeState {
  id: string;
  amountCents: number;
  nature: 'cash' | 'in_kind' | 'skills';
  instalments: { n: number; expectedAt: string; amountCents: number; receivedCents: number }[];
}

export interface RelationshipState {
  dossierId: string;
  sponsor: { id: number; slug: string; name: string };
  stage: RelationshipStage;
  /** Contacts the sequence writes to; a reply from any of them stops it for all. */
  contactIds: number[];
  proposalVersion: number;
  validation: { version: number; requestedAt: string; decided: 'approve' | 'changes' | null; comment?: string } | null;
  round: number;
  /** When the current sequence started (first email of the round, or the end of a callback). */
  sequenceStart: string | null;
  followUpsSent: number;
  sent: SentEmail[];
  reply: { outcome: RelationshipReplyOutcome; note: string; at: string; by?: string; reason?: DeclineReason } | null;
  callbackAt: string | null;
  paused: { reason: string; by: string; at: string } | null;
  meetings: Meeting[];
  nextStepDue: string | null;
  pledge: PledgeState | null;
  receipts: number;
  closed: { reason: string; at: string; by?: string } | null;
  notified: string[];
  eventSeq: number;
  requestSeq: number;
}

export interface RelationshipInput extends Omit<SponsorOutreachInput, 'timings'> {
  timings: RelationshipTimings;
  contactIds: number[];
  /** The recipients' mail domain, for the per-domain daily cap. */
  recipientDomain: string;
  /** A dossier reopened later on the same sponsor links to the previous one. */
  previousDossierId?: string;
  carried?: RelationshipState;
}

export interface RelationshipReplyInput {
  outcome: RelationshipReplyOutcome;
  note: string;
  by?: string;
  /** declined: why; and whether the student sends a polite closing email. */
  reason?: DeclineReason;
  closingEmail?: boolean;
  /** callback / out_of_office: until when. */
  until?: string;
  /** Which contact answered (any of the organisation's). */
  from?: string;
}

export const decideProposalUpdate = defineUpdate<RelationshipState, [{ version: number; decision: 'approve' | 'changes'; comment?: string; by: string }]>('decideProposal');
export const resubmitProposalUpdate = defineUpdate<RelationshipState, [{ amountAskedCents?: number; note?: string; by: string }]>('resubmitProposal');
export const recordRelationshipReplyUpdate = defineUpdate<RelationshipState, [RelationshipReplyInput]>('recordRelationshipReply');
export const scheduleMeetingUpdate = defineUpdate<RelationshipState, [{ at: string; durationMin: number; place?: string; videoUrl?: string; by: string }]>('scheduleMeeting');
export const recordMeetingResultUpdate = defineUpdate<RelationshipState, [{ meeting: number; summary: string; nextStep?: string; nextStepDue?: string; by: string }]>('recordMeetingResult');
export const recordPledgeUpdate = defineUpdate<
  RelationshipState,
  [{ amountCents: number; nature: 'cash' | 'in_kind' | 'skills'; description: string; counterparts: string; instalments: { expectedAt: string; amountCents: number }[]; by: string }]
>('recordPledge');
export const recordPaymentUpdate = defineUpdate<
  RelationshipState,
  [{ amountCents: number; receivedOn: string; instalment?: number; method: 'transfer' | 'cheque' | 'cash' | 'in_kind'; by: string }]
>('recordPayment');
export const pauseDossierUpdate = defineUpdate<RelationshipState, [{ reason: string; by: string }]>('pauseDossier');
export const resumeDossierUpdate = defineUpdate<RelationshipState, [{ by: string }]>('resumeDossier');
export const handOverDossierUpdate = defineUpdate<RelationshipState, [{ studentId: number; by: string }]>('handOverDossier');
export const endRelationshipUpdate = defineUpdate<RelationshipState, [{ outcome: 'lost' | 'withdrawn'; reason: string; by: string }]>('endRelationship');
export const relationshipStatusQuery = defineQuery<RelationshipState>('relationshipStatus');

export const RELATIONSHIP_ENDED_ERROR = 'RelationshipEnded';
export const WRONG_STAGE = 'WrongStage';
