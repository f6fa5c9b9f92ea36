import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { Sql } from '../db/sql';
import {
  actorInput,
  type ApplicationPolicy,
  applicationStartInput,
  decisionInput,
  documentReadyInput,
  funderInput,
  moneyInput,
  moveDeadlineInput,
  reportSubmittedInput,
  reviewInput,
  withdrawInput,
} from '../domain/applications';
import { parisDay } from '../domain/dates';
import { parseDuration } from '../domain/duration';
import { MeceneError } from '../domain/errors';
import { slugify } from '../domain/slug';
import { pendingAlarms } from '../workflows/funding-application/alarms';
import {
  APPLICATION_ENDED,
  DOCUMENTS_MISSING,
  INVALID_AMOUNT,
  UNKNOWN_ITEM,
  WRONG_STEP,
  applicationStatusQuery,
  completeDraftUpdate,
  fundingApplicationId,
  markDocumentReadyUpdate,
  moveDeadlineUpdate,
  recordDecisionUpdate,
  recordMoneyUpdate,
  recordReportSubmittedUpdate,
  recordSubmissionUpdate,
  reviewApplicationUpdate,
  signOffBudgetUpdate,
  withdrawApplicationUpdate,
  type Alarm,
  type ApplicationStage,
  type ApplicationStatus,
  type ApplicationTimings,
  type FundingApplicationInput,
} from '../workflows/funding-application/messages';
import type { fundingApplication } from '../workflows/funding-application/workflow';
import type { OutreachDeps } from './outreach';
import { personWithRole } from './people';
import { parseInput } from './validate';

export type ApplicationDeps = OutreachDeps;

export interface Funder {
  id: number;
  slug: string;
  name: string;
  kind: string;
}

/** Registers a funder (a public body or a foundation applications are made to). */
export async function addFunder(sql: Sql, raw: unknown): Promise<Funder> {
  const input = parseInput(funderInput, raw);
  const slug = slugify(input.name);
  const [row] = await sql<Funder[]>`
    INSERT INTO organisations (slug, name, kind, website, notes) VALUES (${slug}, ${input.name}, ${input.kind}, ${input.website ?? null}, ${input.notes ?? null})
    ON CONFLICT (slug) DO NOTHING
    RETURNING id, slug, name, kind`;
  if (!row) throw new MeceneError('error.duplicateSponsor', { slug }, 409);
  return { ...row, id: Number(row.id) };
}

async function requireFunder(sql: Sql, ref: string): Promise<Funder> {
  const [row] = await sql<Funder[]>`
    SELECT id, slug, name, kind FROM organisations WHERE slug = ${ref.trim().toLowerCase()} OR lower(name) = ${ref.trim().toLowerCase()} LIMIT 1`;
  if (!row) throw new MeceneError('error.unknownFunder', { ref }, 404);
  return { ...row, id: Number(row.id) };
}

/** The timings the workflow waits with, from the policy as written. */
export function applicationTimings(policy: ApplicationPolicy): ApplicationTimings {
  const ms = (text: string) => parseDuration(text)!; // validated by the policy schema
  return {
    milestoneOffsetsMs: { draft: ms(policy.draft), tutor_review: ms(policy.tutorReview), treasurer_signoff: ms(policy.treasurerSignoff), submitted: ms(policy.submitted) },
    escalateAfterMs: ms(policy.escalateAfter),
    decisionChaseAfterMs: ms(policy.decisionChaseAfter),
    reportNoticeMs: ms(policy.reportNotice),
    trancheGraceMs: ms(policy.trancheGrace),
    sendTimeoutMs: ms(policy.sendTimeout),
    historyLimit: policy.historyLimit,
  };
}

export interface StartedApplication {
  applicationId: string;
  ref: string;
  workflowId: string;
  funder: Funder;
  milestones: { key: string; dueAt: string }[];
}

/** Starts the process of one application; its milestones are worked back from the deadline. */
export async function startApplication(deps: ApplicationDeps, raw: unknown): Promise<StartedApplication> {
  const input = parseInput(applicationStartInput, raw);
  const funder = await requireFunder(deps.sql, input.funder);
  const [student, tutor] = await Promise.all([personWithRole(deps.sql, input.student, 'student'), personWithRole(deps.sql, input.tutor, 'tutor')]);
  const timings = applicationTimings(input.policy);
  const applicationId = randomUUID();
  const { historyLimit, ...written } = input.policy;
  const workflowInput: FundingApplicationInput = {
    applicationId,
    funder: { id: funder.id, slug: funder.slug, name: funder.name },
    programme: input.programme,
    amountRequestedCents: input.ask,
    deadline: input.deadline,
    decisionExpectedAt: input.decisionExpected ?? new Date(Date.parse(input.deadline) + 90 * 86_400_000).toISOString(),
    studentId: student.id,
    tutorId: tutor.id,
    lang: input.lang,
    documents: input.documents,
    policy: { ...written, historyLimit: String(historyLimit) },
    timings,
  };
  const workflowId = fundingApplicationId(applicationId);
  try {
    await deps.client.workflow.start<typeof fundingApplication>('fundingApplication', {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [workflowInput],
      workflowIdConflictPolicy: 'FAIL',
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw new MeceneError('error.internal', { message: `${workflowId} already exists` }, 409);
    throw error;
  }
  // The reference printed to the student works at once: wait (briefly) for the process's first write.
  for (let waited = 0; waited < 10_000; waited += 100) {
    if ((await deps.sql`SELECT 1 FROM applications WHERE id = ${applicationId}`).length) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const milestones = (['draft', 'tutor_review', 'treasurer_signoff', 'submitted'] as const).map((key) => ({
    key,
    dueAt: new Date(Date.parse(input.deadline) - timings.milestoneOffsetsMs[key]).toISOString(),
  }));
  return { applicationId, ref: applicationId.slice(0, 8), workflowId, funder, milestones };
}

export interface ApplicationSummary {
  applicationId: string;
  ref: string;
  funder: { slug: string; name: string };
  programme: string;
  stage: ApplicationStage;
  amountRequestedCents: number;
  amountAwardedCents: number | null;
  receivedCents: number;
  deadline: string;
  decisionExpectedOn: string;
  student: { name: string; email: string };
  tutor: { name: string; email: string };
  nextAction: string | null;
  nextActionAt: string | null;
  outcomeReason: string | null;
  createdAt: string;
  closedAt: string | null;
}

const SUMMARY_SQL = (sql: Sql) => sql`
  SELECT a.*, o.slug, o.name AS funder_name, s.name AS student_name, s.email AS student_email,
         t.name AS tutor_name, t.email AS tutor_email,
         coalesce((SELECT sum(m.amount_cents) FROM money_received m WHERE m.application_id = a.id), 0)::bigint AS received_cents
  FROM applications a
  JOIN organisations o ON o.id = a.organisation_id
  JOIN people s ON s.id = a.student_id
  JOIN people t ON t.id = a.tutor_id`;

function toSummary(r: any): ApplicationSummary {
  return {
    applicationId: r.id,
    ref: r.id.slice(0, 8),
    funder: { slug: r.slug, name: r.funder_name },
    programme: r.programme,
    stage: r.stage,
    amountRequestedCents: Number(r.amount_requested_cents),
    amountAwardedCents: r.amount_awarded_cents === null ? null : Number(r.amount_awarded_cents),
    receivedCents: Number(r.received_cents),
    deadline: r.deadline_at.toISOString(),
    decisionExpectedOn: parisDay(r.decision_expected_on),
    student: { name: r.student_name, email: r.student_email },
    tutor: { name: r.tutor_name, email: r.tutor_email },
    nextAction: r.next_action,
    nextActionAt: r.next_action_at?.toISOString() ?? null,
    outcomeReason: r.outcome_reason,
    createdAt: r.created_at.toISOString(),
    closedAt: r.closed_at?.toISOString() ?? null,
  };
}

/** Applications, open ones first by deadline; `all` includes ended ones. */
export async function listApplications(sql: Sql, opts: { all?: boolean } = {}): Promise<ApplicationSummary[]> {
  const rows = await sql<any[]>`
    ${SUMMARY_SQL(sql)}
    ${opts.all ? sql`` : sql`WHERE a.closed_at IS NULL`}
    ORDER BY a.closed_at IS NOT NULL, a.deadline_at`;
  return rows.map(toSummary);
}

/** An application from the first characters of its id (8 are shown everywhere), like a commit. */
async function resolveApplication(sql: Sql, ref: string): Promise<ApplicationSummary> {
  const cleaned = ref.trim().toLowerCase();
  if (!/^[0-9a-f-]{4,36}$/.test(cleaned)) throw new MeceneError('error.unknownApplication', { ref }, 404);
  const rows = await sql<any[]>`${SUMMARY_SQL(sql)} WHERE a.id::text LIKE ${cleaned + '%'} LIMIT 2`;
  if (rows.length === 0) throw new MeceneError('error.unknownApplication', { ref }, 404);
  if (rows.length > 1) throw new MeceneError('error.ambiguousApplication', { ref }, 409);
  return toSummary(rows[0]);
}

export interface ApplicationView {
  application: ApplicationSummary;
  milestones: { key: string; ownerRole: string; dueAt: string; reachedAt: string | null; reachedBy: string | null }[];
  documents: { name: string; readyAt: string | null; readyBy: string | null }[];
  tranches: { n: number; expectedOn: string; amountCents: number; receivedCents: number }[];
  reports: { n: number; kind: string; dueOn: string; submittedAt: string | null }[];
  /** Reminders and escalations still to come, from the live process; empty once it has ended. */
  upcoming: Alarm[];
  events: { at: string; kind: string; stage: string | null; detail: Record<string, unknown> }[];
  emails: { kind: string; to: string; subject: string; status: string; sentAt: string | null }[];
}

export async function applicationStatus(deps: ApplicationDeps, ref: string): Promise<ApplicationView> {
  const application = await resolveApplication(deps.sql, ref);
  const id = application.applicationId;
  const [milestones, documents, tranches, reports, events, emails] = await Promise.all([
    deps.sql<any[]>`SELECT * FROM application_milestones WHERE application_id = ${id} ORDER BY position`,
    deps.sql<any[]>`SELECT * FROM application_documents WHERE application_id = ${id} ORDER BY position`,
    deps.sql<any[]>`
      SELECT t.n, t.expected_on::text AS expected_on, t.amount_cents,
             coalesce((SELECT sum(m.amount_cents) FROM money_received m WHERE m.application_id = t.application_id AND m.tranche_n = t.n), 0) AS received
      FROM application_tranches t WHERE t.application_id = ${id} ORDER BY n`,
    deps.sql<any[]>`SELECT n, kind, due_on::text AS due_on, submitted_at FROM application_reports WHERE application_id = ${id} ORDER BY n`,
    deps.sql<any[]>`SELECT * FROM application_events WHERE application_id = ${id} ORDER BY at, id`,
    deps.sql<any[]>`SELECT * FROM emails WHERE application_id = ${id} ORDER BY id`,
  ]);
  let upcoming: Alarm[] = [];
  if (!application.closedAt) {
    const live = await liveStatus(deps, id);
    if (live) upcoming = pendingAlarms(live, await timingsOf(deps.sql, id));
  }
  return {
    application,
    milestones: milestones.map((m) => ({ key: m.key, ownerRole: m.owner_role, dueAt: m.due_at.toISOString(), reachedAt: m.reached_at?.toISOString() ?? null, reachedBy: m.reached_by })),
    documents: documents.map((d) => ({ name: d.name, readyAt: d.ready_at?.toISOString() ?? null, readyBy: d.ready_by })),
    tranches: tranches.map((x) => ({ n: x.n, expectedOn: x.expected_on, amountCents: Number(x.amount_cents), receivedCents: Number(x.received) })),
    reports: reports.map((r) => ({ n: r.n, kind: r.kind, dueOn: r.due_on, submittedAt: r.submitted_at?.toISOString() ?? null })),
    upcoming,
    events: events.map((e) => ({ at: e.at.toISOString(), kind: e.kind, stage: e.stage, detail: e.detail })),
    emails: emails.map((e) => ({ kind: e.kind, to: e.to_address, subject: e.subject, status: e.status, sentAt: e.sent_at?.toISOString() ?? null })),
  };
}

async function timingsOf(sql: Sql, id: string): Promise<ApplicationTimings> {
  const [row] = await sql<{ policy: Record<string, string> }[]>`SELECT policy FROM applications WHERE id = ${id}`;
  const { historyLimit, ...rest } = row.policy;
  return applicationTimings({ ...(rest as Omit<ApplicationPolicy, "historyLimit">), historyLimit: Number(historyLimit ?? 5000) });
}

async function liveStatus(deps: ApplicationDeps, id: string): Promise<ApplicationStatus | null> {
  try {
    return await deps.client.workflow.getHandle(fundingApplicationId(id)).query(applicationStatusQuery);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return null;
    if (error instanceof Error && /already completed|not found/i.test(error.message)) return null;
    throw error;
  }
}

/** Sends one update to the application's process and says, in words, why it was refused if it was. */
async function update(deps: ApplicationDeps, ref: string, run: (handle: WorkflowHandle<typeof fundingApplication>, application: ApplicationSummary) => Promise<ApplicationStatus>): Promise<ApplicationStatus> {
  const application = await resolveApplication(deps.sql, ref);
  const handle = deps.client.workflow.getHandle<typeof fundingApplication>(fundingApplicationId(application.applicationId));
  const name = `${application.funder.name} — ${application.programme}`;
  try {
    return await run(handle, application);
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const details = (error.cause.details?.[0] ?? {}) as { stage?: ApplicationStage; missing?: string[]; known?: unknown[]; item?: unknown; remainingCents?: number };
      const stage = details.stage ? { key: `stage.${details.stage}` as const } : '?';
      switch (error.cause.type) {
        case APPLICATION_ENDED:
          throw new MeceneError('error.applicationEnded', { application: name, stage }, 409);
        case WRONG_STEP:
          throw new MeceneError('error.applicationWrongStep', { application: name, stage }, 409);
        case DOCUMENTS_MISSING:
          throw new MeceneError('error.documentsMissing', { application: name, missing: (details.missing ?? []).join(', ') }, 409);
        case UNKNOWN_ITEM:
          throw new MeceneError('error.unknownItem', { item: String(details.item), known: (details.known ?? []).join(', ') || '—' }, 404);
        case INVALID_AMOUNT:
          throw new MeceneError('error.updateRejected', { reason: error.cause.message }, 422);
      }
      throw new MeceneError('error.updateRejected', { reason: error.cause.message }, 409);
    }
    if (error instanceof WorkflowNotFoundError || (error instanceof Error && /already completed/i.test(error.message))) {
      throw new MeceneError('error.applicationEnded', { application: name, stage: { key: `stage.${application.stage}` } }, 409);
    }
    throw error;
  }
}

export async function completeDraft(deps: ApplicationDeps, ref: string, raw: unknown): Promise<ApplicationStatus> {
  const { by } = parseInput(actorInput, raw);
  await personWithRole(deps.sql, by, ['student', 'tutor']);
  return update(deps, ref, (h) => h.executeUpdate(completeDraftUpdate, { args: [{ by }] }));
}

/** The tutor's review: approve, or send the draft back with a comment the student receives. */
export async function reviewApplication(deps: ApplicationDeps, ref: string, raw: unknown): Promise<ApplicationStatus> {
  const input = parseInput(reviewInput, raw);
  await personWithRole(deps.sql, input.by, ['tutor']);
  return update(deps, ref, (h) => h.executeUpdate(reviewApplicationUpdate, { args: [input] }));
}

/** The treasurer's sign-off on the budget. */
export async function signOffBudget(deps: ApplicationDeps, ref: string, raw: unknown): Promise<ApplicationStatus> {
  const { by } = parseInput(actorInput, raw);
  await personWithRole(deps.sql, by, ['treasurer']);
  return update(deps, ref, (h) => h.executeUpdate(signOffBudgetUpdate, { args: [{ by }] }));
}

export async function markDocumentReady(deps: ApplicationDeps, ref: string, raw: unknown): Promise<ApplicationStatus> {
  const input = parseInput(documentReadyInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor', 'treasurer']);
  return update(deps, ref, (h) => h.executeUpdate(markDocumentReadyUpdate, { args: [input] }));
}

/** Records that the application went to the funder (refused while a required document is missing). */
export async function recordSubmission(deps: ApplicationDeps, ref: string, raw: unknown): Promise<ApplicationStatus> {
  const { by } = parseInput(actorInput, raw);
  await personWithRole(deps.sql, by, ['student', 'tutor']);
  return update(deps, ref, (h) => h.executeUpdate(recordSubmissionUpdate, { args: [{ by }] }));
}

/** The funder extended the deadline (or announced another decision date): pending milestones move with it. */
export async function moveDeadline(deps: ApplicationDeps, ref: string, raw: unknown): Promise<ApplicationStatus> {
  const input = parseInput(moveDeadlineInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor', 'treasurer']);
  return update(deps, ref, (h, a) => {
    const deadline = input.deadline ?? a.deadline;
    if (input.deadline && Date.parse(input.deadline) <= Date.now()) throw new MeceneError('error.deadlinePassed', { deadline: input.deadline }, 422);
    return h.executeUpdate(moveDeadlineUpdate, { args: [{ deadline, decisionExpectedAt: input.decisionExpected, by: input.by }] });
  });
}

export async function recordDecision(deps: ApplicationDeps, ref: string, raw: unknown): Promise<ApplicationStatus> {
  const input = parseInput(decisionInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor', 'treasurer']);
  if (input.outcome === 'refused') return update(deps, ref, (h) => h.executeUpdate(recordDecisionUpdate, { args: [input] }));
  const sum = input.tranches.reduce((s, x) => s + x.amount, 0);
  if (sum !== input.amount) throw new MeceneError('error.tranchesMismatch', { tranches: sum / 100, awarded: input.amount / 100 }, 422);
  return update(deps, ref, (h) =>
    h.executeUpdate(recordDecisionUpdate, {
      args: [
        {
          outcome: 'awarded',
          amountCents: input.amount,
          tranches: input.tranches.map((x) => ({ expectedAt: x.expected, amountCents: x.amount })),
          reports: input.reports.map((r) => ({ kind: r.kind, dueAt: r.due })),
          by: input.by,
        },
      ],
    }),
  );
}

/** The treasurer records money received on a tranche (default: the earliest one still expected). */
export async function recordMoney(deps: ApplicationDeps, ref: string, raw: unknown): Promise<ApplicationStatus> {
  const input = parseInput(moneyInput, raw);
  await personWithRole(deps.sql, input.as, ['treasurer']);
  return update(deps, ref, async (h, a) => {
    let tranche = input.tranche;
    if (tranche === undefined) {
      const [open] = await deps.sql<{ n: number }[]>`
        SELECT t.n FROM application_tranches t
        WHERE t.application_id = ${a.applicationId}
          AND t.amount_cents > coalesce((SELECT sum(m.amount_cents) FROM money_received m WHERE m.application_id = t.application_id AND m.tranche_n = t.n), 0)
        ORDER BY t.n LIMIT 1`;
      tranche = open?.n ?? 1;
    }
    return h.executeUpdate(recordMoneyUpdate, { args: [{ tranche, amountCents: input.amount, receivedOn: input.on ?? parisDay(new Date()), note: input.note, by: input.as }] });
  });
}

export async function recordReportSubmitted(deps: ApplicationDeps, ref: string, raw: unknown): Promise<ApplicationStatus> {
  const input = parseInput(reportSubmittedInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor']);
  return update(deps, ref, (h) => h.executeUpdate(recordReportSubmittedUpdate, { args: [input] }));
}

export async function withdrawApplication(deps: ApplicationDeps, ref: string, raw: unknown): Promise<ApplicationStatus> {
  const input = parseInput(withdrawInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor']);
  return update(deps, ref, (h) => h.executeUpdate(withdrawApplicationUpdate, { args: [input] }));
}

