import { defineQuery, defineUpdate } from '@temporalio/workflow';

/** Messages of the funding application process, shared by the workflow, the service and tests. */

export type Lang = 'fr' | 'en';
export type ApplicationStage =
  | 'drafting' // writing the application
  | 'review' // draft complete, awaiting the tutor's review
  | 'signoff' // reviewed, awaiting the treasurer's sign-off on the budget
  | 'ready' // signed off, to be submitted
  | 'submitted' // awaiting the funder's decision
  | 'awarded' // money in tranches and reports owed
  | 'completed' // all money received and all reports submitted
  | 'refused'
  | 'withdrawn';
export const APPLICATION_ENDED_STAGES: readonly ApplicationStage[] = ['completed', 'refused', 'withdrawn'];

export type MilestoneKey = 'draft' | 'tutor_review' | 'treasurer_signoff' | 'submitted';
export const MILESTONE_ORDER: readonly MilestoneKey[] = ['draft', 'tutor_review', 'treasurer_signoff', 'submitted'];
/** Who must reach each milestone. */
export const MILESTONE_OWNER: Record<MilestoneKey, Rung> = { draft: 'student', tutor_review: 'tutor', treasurer_signoff: 'treasurer', submitted: 'student' };
/** The stage an application is in while this milestone is the next one to reach. */
export const STAGE_BEFORE: Record<MilestoneKey, ApplicationStage> = { draft: 'drafting', tutor_review: 'review', treasurer_signoff: 'signoff', submitted: 'ready' };

/** The rungs of the escalation ladder. */
export type Rung = 'student' | 'tutor' | 'treasurer';

export interface ApplicationTimings {
  /** How long before the submission deadline each milestone is due (ms). */
  milestoneOffsetsMs: Record<MilestoneKey, number>;
  /** Time between two rungs of the ladder: reminder → first escalation → second escalation (ms). */
  escalateAfterMs: number;
  /** Silence after the expected decision date before the student is asked to chase the funder (ms). */
  decisionChaseAfterMs: number;
  /** How long before a report's due date its owner is reminded (ms). */
  reportNoticeMs: number;
  /** Lateness of a tranche before the treasurer is reminded (ms). */
  trancheGraceMs: number;
  /** Time one send may take before it is retried (ms). */
  sendTimeoutMs: number;
  /** Events after which the process continues as new; the server's own suggestion applies too. */
  historyLimit: number;
  /** Lifetime of the signed review and sign-off links (default 7 days). */
  linkTtlMs?: number;
}

export interface Milestone {
  key: MilestoneKey;
  owner: Rung;
  dueAt: string;
  reachedAt: string | null;
  by: string | null;
}

export interface Tranche {
  n: number;
  expectedAt: string;
  amountCents: number;
  receivedCents: number;
}

export interface ReportDue {
  n: number;
  kind: 'interim' | 'final';
  dueAt: string;
  submittedAt: string | null;
}

export interface FundingApplicationInput {
  applicationId: string;
  funder: { id: number; slug: string; name: string };
  programme: string;
  amountRequestedCents: number;
  deadline: string;
  decisionExpectedAt: string;
  studentId: number;
  tutorId: number;
  lang: Lang;
  documents: string[];
  /** The policy as written (kept in the application for the record). */
  policy: Record<string, string>;
  timings: ApplicationTimings;
  /** Present when the process continues as new: the state it carries over. */
  carried?: ApplicationState;
}

/** What the process knows; compact, because it crosses continue-as-new. */
export interface ApplicationState {
  applicationId: string;
  funder: { id: number; slug: string; name: string };
  programme: string;
  stage: ApplicationStage;
  deadline: string;
  decisionExpectedAt: string;
  amountRequestedCents: number;
  amountAwardedCents: number | null;
  milestones: Milestone[];
  documents: { name: string; readyAt: string | null; by: string | null }[];
  tranches: Tranche[];
  reports: ReportDue[];
  /** Alarm keys already handled (sent, or skipped because a later rung was due). */
  notified: string[];
  outcome: { reason: string; at: string; by: string } | null;
  eventSeq: number;
  moneySeq: number;
  /** The round of the latest signed-link request per approval: older links are refused. */
  approvalRequests?: { tutor_review?: number; treasurer_signoff?: number };
}

/** A reminder or escalation the process will send when its time comes, unless the work is done first. */
export interface Alarm {
  key: string;
  at: string;
  about: 'milestone' | 'decision' | 'tranche' | 'report';
  /** Milestone key, tranche or report number. */
  ref: string;
  kind: 'reminder' | 'escalation';
  to: Rung;
  /** When the awaited thing was due. */
  dueAt: string;
}

export interface ApplicationStatus extends ApplicationState {
  next: Alarm | null;
}

/** Who asks: the service has checked their identity and role before the update is sent. */
export interface Actor {
  by: string;
}

export type ReviewInput = Actor & ({ decision: 'approve' } | { decision: 'changes'; comment: string });
export interface MoveDeadlineInput extends Actor {
  deadline: string;
  decisionExpectedAt?: string;
}
export interface DocumentReadyInput extends Actor {
  document: string;
}
export type DecisionInput = Actor &
  (
    | { outcome: 'refused'; reason: string }
    | { outcome: 'awarded'; amountCents: number; tranches: { expectedAt: string; amountCents: number }[]; reports: { kind: 'interim' | 'final'; dueAt: string }[] }
  );
export interface MoneyInput extends Actor {
  tranche: number;
  amountCents: number;
  receivedOn: string;
  note?: string;
}
export interface ReportSubmittedInput extends Actor {
  report: number;
}
export interface WithdrawInput extends Actor {
  reason: string;
}

/** Error types the update validators throw; the service translates them for people. */
export const APPLICATION_ENDED = 'ApplicationEnded';
export const WRONG_STEP = 'WrongStep';
export const DOCUMENTS_MISSING = 'DocumentsMissing';
export const INVALID_AMOUNT = 'InvalidAmount';
export const UNKNOWN_ITEM = 'UnknownItem';

export const applicationStatusQuery = defineQuery<ApplicationStatus>('applicationStatus');
// Updates rather than signals: the person learns at once whether the step was accepted
// (a review on the wrong stage, a submission with documents missing), and the call returns
// once PostgreSQL and the pipeline show it.
export const completeDraftUpdate = defineUpdate<ApplicationStatus, [Actor]>('completeDraft');
export const reviewApplicationUpdate = defineUpdate<ApplicationStatus, [ReviewInput]>('reviewApplication');
export const signOffBudgetUpdate = defineUpdate<ApplicationStatus, [Actor]>('signOffBudget');
export const markDocumentReadyUpdate = defineUpdate<ApplicationStatus, [DocumentReadyInput]>('markDocumentReady');
export const recordSubmissionUpdate = defineUpdate<ApplicationStatus, [Actor]>('recordSubmission');
export const moveDeadlineUpdate = defineUpdate<ApplicationStatus, [MoveDeadlineInput]>('moveDeadline');
export const recordDecisionUpdate = defineUpdate<ApplicationStatus, [DecisionInput]>('recordDecision');
export const recordMoneyUpdate = defineUpdate<ApplicationStatus, [MoneyInput]>('recordMoney');
export const recordReportSubmittedUpdate = defineUpdate<ApplicationStatus, [ReportSubmittedInput]>('recordReportSubmitted');
export const withdrawApplicationUpdate = defineUpdate<ApplicationStatus, [WithdrawInput]>('withdrawApplication');

/** One process per application. */
export function fundingApplicationId(applicationId: string): string {
  return `application-${applicationId}`;
}
