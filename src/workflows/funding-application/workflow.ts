import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import { currentMilestone, dueAlarms, pendingAlarms } from './alarms';
import {
  APPLICATION_ENDED,
  APPLICATION_ENDED_STAGES,
  DOCUMENTS_MISSING,
  INVALID_AMOUNT,
  MILESTONE_ORDER,
  MILESTONE_OWNER,
  STAGE_BEFORE,
  UNKNOWN_ITEM,
  WRONG_STEP,
  applicationStatusQuery,
  completeDraftUpdate,
  markDocumentReadyUpdate,
  moveDeadlineUpdate,
  recordDecisionUpdate,
  recordMoneyUpdate,
  recordReportSubmittedUpdate,
  recordSubmissionUpdate,
  reviewApplicationUpdate,
  signOffBudgetUpdate,
  withdrawApplicationUpdate,
  type Actor,
  type Alarm,
  type ApplicationStage,
  type ApplicationState,
  type ApplicationStatus,
  type DecisionInput,
  type DocumentReadyInput,
  type FundingApplicationInput,
  type MilestoneKey,
  type MoneyInput,
  type MoveDeadlineInput,
  type ReportSubmittedInput,
  type ReviewInput,
  type WithdrawInput,
} from './messages';

type Activities = ReturnType<typeof createActivities>;

type Request =
  | { id: number; type: 'draft' | 'signoff' | 'submit'; actor: Actor }
  | { id: number; type: 'review'; input: ReviewInput }
  | { id: number; type: 'document'; input: DocumentReadyInput }
  | { id: number; type: 'deadline'; input: MoveDeadlineInput }
  | { id: number; type: 'decision'; input: DecisionInput }
  | { id: number; type: 'money'; input: MoneyInput }
  | { id: number; type: 'report'; input: ReportSubmittedInput }
  | { id: number; type: 'withdraw'; input: WithdrawInput };

const reject = (message: string, type: string, details?: Record<string, unknown>): never => {
  throw ApplicationFailure.nonRetryable(message, type, details ?? {});
};

/**
 * One application to a funder, from the first draft to the last report:
 * milestones worked back from the deadline (draft → tutor review → treasurer sign-off →
 * submission), each reminding its owner then climbing the ladder when late; the funder's
 * decision (chased when late); after an award, tranches the treasurer records and reports
 * the owner submits, until all money is in and all reports are filed.
 */
export async function fundingApplication(input: FundingApplicationInput): Promise<ApplicationStatus> {
  const { applicationId, timings } = input;
  // Every step is a short, idempotent write or one email: local activities, run inside the
  // workflow task (see sponsorOutreach). Emails wait for the SMTP server as long as it takes.
  const store = proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '500ms', maximumInterval: '10s' } });
  const mail = proxyLocalActivities<Activities>({
    startToCloseTimeout: timings.sendTimeoutMs,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2m', nonRetryableErrorTypes: ['InvalidRecipient', 'TemplateError'] },
  });

  const state: ApplicationState = input.carried ?? {
    applicationId,
    funder: input.funder,
    programme: input.programme,
    stage: 'drafting',
    deadline: input.deadline,
    decisionExpectedAt: input.decisionExpectedAt,
    amountRequestedCents: input.amountRequestedCents,
    amountAwardedCents: null,
    milestones: MILESTONE_ORDER.map((key) => ({ key, owner: MILESTONE_OWNER[key], dueAt: dueBefore(input.deadline, timings.milestoneOffsetsMs[key]), reachedAt: null, by: null })),
    documents: input.documents.map((name) => ({ name, readyAt: null, by: null })),
    tranches: [],
    reports: [],
    notified: [],
    outcome: null,
    eventSeq: 0,
    moneySeq: 0,
  };
  let requestSeq = 0;
  const requests: Request[] = [];
  const handled = new Set<number>();

  const isEnded = () => APPLICATION_ENDED_STAGES.includes(state.stage);
  const status = (): ApplicationStatus => ({ ...state, next: pendingAlarms(state, timings)[0] ?? null });
  const submit = async (request: Request): Promise<ApplicationStatus> => {
    requests.push(request);
    await condition(() => handled.has(request.id));
    return status();
  };
  const rejectIfEnded = () => {
    if (isEnded()) reject(`application has ended (${state.stage})`, APPLICATION_ENDED, { stage: state.stage });
  };
  const requireStage = (...stages: ApplicationStage[]) => {
    rejectIfEnded();
    if (!stages.includes(state.stage)) reject(`not possible at stage ${state.stage}`, WRONG_STEP, { stage: state.stage, expected: stages });
  };

  setHandler(applicationStatusQuery, status);
  setHandler(completeDraftUpdate, (actor) => submit({ id: ++requestSeq, type: 'draft', actor }), { validator: (_actor) => requireStage('drafting') });
  setHandler(reviewApplicationUpdate, (input) => submit({ id: ++requestSeq, type: 'review', input }), {
    validator: (input) => {
      requireStage('review');
      if (input.decision === 'changes' && !input.comment?.trim()) reject('a comment is required', 'InvalidReview');
    },
  });
  setHandler(signOffBudgetUpdate, (actor) => submit({ id: ++requestSeq, type: 'signoff', actor }), { validator: (_actor) => requireStage('signoff') });
  setHandler(markDocumentReadyUpdate, (input) => submit({ id: ++requestSeq, type: 'document', input }), {
    validator: (input) => {
      requireStage('drafting', 'review', 'signoff', 'ready');
      if (!state.documents.some((d) => d.name === input.document)) {
        reject(`unknown document ${input.document}`, UNKNOWN_ITEM, { item: input.document, known: state.documents.map((d) => d.name) });
      }
    },
  });
  setHandler(recordSubmissionUpdate, (actor) => submit({ id: ++requestSeq, type: 'submit', actor }), {
    validator: (_actor) => {
      requireStage('ready');
      const missing = state.documents.filter((d) => !d.readyAt).map((d) => d.name);
      if (missing.length) reject(`documents missing: ${missing.join(', ')}`, DOCUMENTS_MISSING, { missing });
    },
  });
  setHandler(moveDeadlineUpdate, (input) => submit({ id: ++requestSeq, type: 'deadline', input }), {
    validator: (input) => {
      rejectIfEnded();
      if (!['drafting', 'review', 'signoff', 'ready', 'submitted'].includes(state.stage)) reject(`not possible at stage ${state.stage}`, WRONG_STEP, { stage: state.stage });
      if (state.stage === 'submitted' && input.deadline !== state.deadline) reject('already submitted: only the decision date can move', WRONG_STEP, { stage: state.stage });
      if (Number.isNaN(Date.parse(input.deadline))) reject('invalid deadline', 'InvalidDate');
    },
  });
  setHandler(recordDecisionUpdate, (input) => submit({ id: ++requestSeq, type: 'decision', input }), {
    validator: (input) => {
      requireStage('submitted');
      if (input.outcome === 'refused' && !input.reason?.trim()) reject('a reason is required', 'InvalidDecision');
      if (input.outcome === 'awarded') {
        const sum = input.tranches.reduce((s: number, t: { amountCents: number }) => s + t.amountCents, 0);
        if (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0) reject('the award must be a positive amount', INVALID_AMOUNT);
        if (!input.tranches.length || sum !== input.amountCents) {
          reject(`tranches add up to ${sum} cents, not the ${input.amountCents} awarded`, INVALID_AMOUNT, { tranchesCents: sum, awardedCents: input.amountCents });
        }
      }
    },
  });
  setHandler(recordMoneyUpdate, (input) => submit({ id: ++requestSeq, type: 'money', input }), {
    validator: (input) => {
      requireStage('awarded');
      const tranche = state.tranches.find((t) => t.n === input.tranche);
      if (!tranche) reject(`unknown tranche ${input.tranche}`, UNKNOWN_ITEM, { item: input.tranche, known: state.tranches.map((t) => t.n) });
      const remaining = tranche!.amountCents - tranche!.receivedCents;
      if (!Number.isSafeInteger(input.amountCents) || input.amountCents <= 0 || input.amountCents > remaining) {
        reject(`amount ${input.amountCents} exceeds the ${remaining} cents still expected on tranche ${input.tranche}`, INVALID_AMOUNT, { remainingCents: remaining, tranche: input.tranche });
      }
    },
  });
  setHandler(recordReportSubmittedUpdate, (input) => submit({ id: ++requestSeq, type: 'report', input }), {
    validator: (input) => {
      requireStage('awarded');
      const report = state.reports.find((r) => r.n === input.report);
      if (!report) reject(`unknown report ${input.report}`, UNKNOWN_ITEM, { item: input.report, known: state.reports.map((r) => r.n) });
      if (report!.submittedAt) reject(`report ${input.report} already submitted`, WRONG_STEP, { stage: state.stage });
    },
  });
  setHandler(withdrawApplicationUpdate, (input) => submit({ id: ++requestSeq, type: 'withdraw', input }), {
    validator: (input) => {
      rejectIfEnded();
      if (!input.reason?.trim()) reject('a reason is required', 'InvalidWithdraw');
    },
  });

  /** Writes the step (event + the whole compact state + the pipeline row) before anyone is told. */
  const record = async (kind: string, detail: Record<string, unknown> = {}, money?: { key: string; tranche: number; amountCents: number; receivedOn: string; by: string; note?: string }) => {
    const next = pendingAlarms(state, timings)[0] ?? null;
    await store.recordApplicationStep({
      applicationId,
      eventKey: `${applicationId}:${++state.eventSeq}`,
      kind,
      detail,
      state,
      next: next ? { action: `${next.about}_${next.kind}`, at: next.at } : null,
      money,
      closed: isEnded(),
    });
  };

  /**
   * The tutor's review and the treasurer's sign-off are asked for by email with signed,
   * single-use links (dossiers started before the links keep the CLI/API only).
   */
  const requestApproval = async (milestone: 'tutor_review' | 'treasurer_signoff') => {
    if (state.stage !== (milestone === 'tutor_review' ? 'review' : 'signoff')) return;
    if (!patched('application-approval-links')) return;
    const round = state.eventSeq;
    state.approvalRequests = { ...state.approvalRequests, [milestone]: round };
    await mail.sendApplicationApprovalRequest({
      applicationId,
      milestone,
      round,
      key: `${applicationId}:approval:${milestone}:${round}`,
      expiresAt: new Date(Date.now() + (timings.linkTtlMs ?? 7 * 86_400_000)).toISOString(),
    });
  };

  const reach = (key: MilestoneKey, by: string, at: string) => {
    const m = state.milestones.find((x) => x.key === key)!;
    m.reachedAt = at;
    m.by = by;
  };
  const stageAfterMilestones = (): ApplicationStage => {
    const next = currentMilestone({ ...state, stage: 'drafting' });
    return next ? STAGE_BEFORE[next] : 'submitted';
  };

  const handle = async (request: Request) => {
    const at = new Date().toISOString();
    switch (request.type) {
      case 'draft':
        reach('draft', request.actor.by, at);
        state.stage = stageAfterMilestones();
        await record('milestone_reached', { milestone: 'draft', by: request.actor.by });
        return requestApproval('tutor_review');
      case 'review':
        if (request.input.decision === 'approve') {
          reach('tutor_review', request.input.by, at);
          state.stage = stageAfterMilestones();
          await record('milestone_reached', { milestone: 'tutor_review', by: request.input.by });
          return requestApproval('treasurer_signoff');
        } else {
          // Back to drafting: the draft must be completed again, and the student hears why.
          const draft = state.milestones.find((m) => m.key === 'draft')!;
          draft.reachedAt = null;
          draft.by = null;
          state.stage = 'drafting';
          const n = state.eventSeq + 1;
          await mail.sendApplicationChangesRequested({ applicationId, key: `${applicationId}:changes:${n}`, comment: request.input.comment, by: request.input.by });
          return record('changes_requested', { comment: request.input.comment, by: request.input.by });
        }
      case 'signoff':
        reach('treasurer_signoff', request.actor.by, at);
        state.stage = stageAfterMilestones();
        return record('milestone_reached', { milestone: 'treasurer_signoff', by: request.actor.by });
      case 'document': {
        const doc = state.documents.find((d) => d.name === request.input.document)!;
        doc.readyAt ??= at;
        doc.by ??= request.input.by;
        return record('document_ready', { document: doc.name, by: request.input.by });
      }
      case 'submit':
        reach('submitted', request.actor.by, at);
        state.stage = 'submitted';
        return record('submitted', { by: request.actor.by });
      case 'deadline': {
        const previous = { deadline: state.deadline, decisionExpectedAt: state.decisionExpectedAt };
        state.deadline = request.input.deadline;
        if (request.input.decisionExpectedAt) state.decisionExpectedAt = request.input.decisionExpectedAt;
        // Every milestone not yet reached moves with the deadline; reached ones keep their history.
        for (const m of state.milestones) if (!m.reachedAt) m.dueAt = dueBefore(state.deadline, timings.milestoneOffsetsMs[m.key]);
        return record('deadline_moved', { from: previous, to: { deadline: state.deadline, decisionExpectedAt: state.decisionExpectedAt }, by: request.input.by });
      }
      case 'decision': {
        const d = request.input;
        if (d.outcome === 'refused') {
          state.stage = 'refused';
          state.outcome = { reason: d.reason, at, by: d.by };
          return record('decision_recorded', { outcome: 'refused', reason: d.reason, by: d.by });
        }
        state.stage = 'awarded';
        state.amountAwardedCents = d.amountCents;
        state.tranches = d.tranches.map((t, i) => ({ n: i + 1, expectedAt: t.expectedAt, amountCents: t.amountCents, receivedCents: 0 }));
        state.reports = d.reports.map((r, i) => ({ n: i + 1, kind: r.kind, dueAt: r.dueAt, submittedAt: null }));
        return record('decision_recorded', { outcome: 'awarded', amountAwardedCents: d.amountCents, tranches: d.tranches.length, reports: d.reports.length, by: d.by });
      }
      case 'money': {
        const tranche = state.tranches.find((t) => t.n === request.input.tranche)!;
        tranche.receivedCents += request.input.amountCents;
        const key = `${applicationId}:money:${++state.moneySeq}`;
        await record('money_received', { tranche: tranche.n, amountCents: request.input.amountCents, receivedOn: request.input.receivedOn, by: request.input.by }, {
          key,
          tranche: tranche.n,
          amountCents: request.input.amountCents,
          receivedOn: request.input.receivedOn,
          by: request.input.by,
          note: request.input.note,
        });
        return completeIfDone();
      }
      case 'report': {
        const report = state.reports.find((r) => r.n === request.input.report)!;
        report.submittedAt = at;
        await record('report_submitted', { report: report.n, kind: report.kind, by: request.input.by });
        return completeIfDone();
      }
      case 'withdraw':
        state.stage = 'withdrawn';
        state.outcome = { reason: request.input.reason, at, by: request.input.by };
        return record('withdrawn', { reason: request.input.reason, by: request.input.by });
    }
  };

  /** All money in and every report filed: the application is complete. */
  const completeIfDone = async () => {
    if (state.tranches.every((t) => t.receivedCents >= t.amountCents) && state.reports.every((r) => r.submittedAt)) {
      state.stage = 'completed';
      await record('completed', { receivedCents: state.tranches.reduce((s, t) => s + t.receivedCents, 0) });
    }
  };

  const raise = async (alarm: Alarm) => {
    const result = await mail.sendApplicationNotice({ applicationId, key: `${applicationId}:${alarm.key}`, alarm });
    state.notified.push(alarm.key);
    await record(alarm.kind === 'reminder' ? 'reminder_sent' : 'escalated', { about: alarm.about, ref: alarm.ref, to: alarm.to, dueAt: alarm.dueAt, recipients: result.to });
  };

  // 1. The application exists in PostgreSQL (and in the pipeline) before anything else.
  if (!input.carried) await store.openApplication({ ...input, milestones: state.milestones });

  // 2. Until it ends: people's requests first, else the next reminder or escalation when due.
  while (!isEnded()) {
    const next = pendingAlarms(state, timings)[0];
    if (requests.length === 0) {
      if (!next) await condition(() => requests.length > 0);
      else if (Date.parse(next.at) > Date.now()) await condition(() => requests.length > 0, Date.parse(next.at) - Date.now());
    }
    if (requests.length > 0) {
      while (requests.length > 0 && !isEnded()) {
        const request = requests.shift()!;
        await handle(request);
        handled.add(request.id);
      }
    } else {
      const { send, superseded } = dueAlarms(state, timings, Date.now());
      for (const a of superseded) state.notified.push(a.key);
      for (const alarm of send) await raise(alarm);
    }
    if (!isEnded() && requests.length === 0 && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > timings.historyLimit)) {
      // Months of reminders would grow the history without bound: start afresh, carrying the
      // state. Updates already answered finish first; a new one arriving meanwhile is handled
      // in this run and the check comes again.
      await condition(() => allHandlersFinished() || requests.length > 0);
      if (requests.length === 0) {
        state.notified = state.notified.filter((key) => pendingKeyStillRelevant(state, key));
        await continueAsNew<typeof fundingApplication>({ ...input, carried: state });
      }
    }
  }
  // Requests that raced the end are answered with the final state (their validators ran before).
  for (const request of requests.splice(0)) handled.add(request.id);
  await condition(allHandlersFinished);
  return status();
}

function dueBefore(deadline: string, offsetMs: number): string {
  return new Date(Date.parse(deadline) - offsetMs).toISOString();
}

/** Handled alarm keys worth carrying: those of items still pending (others can never come back). */
function pendingKeyStillRelevant(state: ApplicationState, key: string): boolean {
  const [about, ref, ...rest] = key.split(':');
  const dueAt = rest.slice(0, -1).join(':');
  if (about === 'milestone') return state.milestones.some((m) => m.key === ref && !m.reachedAt && m.dueAt === dueAt);
  if (about === 'decision') return state.stage === 'submitted' && state.decisionExpectedAt === dueAt;
  if (about === 'tranche') return state.tranches.some((t) => String(t.n) === ref && t.receivedCents < t.amountCents && t.expectedAt === dueAt);
  if (about === 'report') return state.reports.some((r) => String(r.n) === ref && !r.submittedAt && r.dueAt === dueAt);
  return true;
}
