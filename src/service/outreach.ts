import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import YAML from 'yaml';
import type { z } from 'zod';
import type { Sql } from '../db/sql';
import { parseDuration } from '../domain/duration';
import { sendRulesFor } from '../domain/holidays';
import type { SendSettings } from '../domain/send-rules';
import { MeceneError } from '../domain/errors';
import { closeInput, describeIssues, outreachStartInput, parseDelay, policySchema, replyInput, type Policy } from '../domain/schemas';
import {
  NOT_ESCALATED,
  OUTREACH_ENDED,
  RELATIONSHIP_ENDED_ERROR,
  WRONG_STAGE,
  closeOutreachUpdate,
  outreachStatusQuery,
  recordReplyUpdate,
  restartFollowUpsUpdate,
  sponsorOutreachId,
  type OutreachStage,
  type OutreachStatus,
  type RelationshipInput,
  type RelationshipState,
} from '../workflows/sponsor-outreach/messages';
import type { sponsorOutreach } from '../workflows/sponsor-outreach/workflow';
import { queryRunningOutreach } from './live';
import { personWithRole } from './people';
import { isRelationship, recordRelationshipReply, relationshipStatus } from './relationship';
import { requireSponsor, type Sponsor } from './sponsors';
import { parseInput } from './validate';

/** What the outreach operations need: a database pool, a Temporal client and the task queue. */
export interface OutreachDeps {
  sql: Sql;
  client: Client;
  taskQueue: string;
  /** The association's send window and caps (config `SEND_*`); the defaults when absent. */
  sending?: SendSettings;
}

/** SEND_* defaults: Monday–Friday 09:00–18:00, 40 emails a day, 5 a day per recipient domain. */
export const DEFAULT_SENDING: SendSettings = { days: [1, 2, 3, 4, 5], opens: '09:00', closes: '18:00', blackouts: [], dailyCap: 40, domainCap: 5 };

/** Reads a follow-up policy file (JSON or YAML) and validates it. */
export async function loadPolicyFile(file: string): Promise<Policy> {
  return readPolicyFile(file, policySchema);
}

/** Reads a policy file (YAML is a superset of JSON) and validates it against its schema. */
export async function readPolicyFile<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new MeceneError('error.fileNotFound', { file }, 400);
  }
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (error) {
    throw new MeceneError('error.policyFile', { file, details: (error as Error).message }, 400);
  }
  const result = schema.safeParse(data ?? {});
  if (!result.success) {
    throw new MeceneError('error.policyFile', { file, details: describeIssues(result.error).map((i) => `${i.field} : ${i.problem}`).join(' ; ') }, 400);
  }
  return result.data;
}

export interface StartedOutreach {
  workflowId: string;
  dossierId: string;
  sponsor: { id: number; slug: string; name: string };
}

/** Starts the outreach process for a sponsor; refuses a second one while the first runs. */
export async function startOutreach(deps: OutreachDeps, raw: unknown): Promise<StartedOutreach> {
  const input = parseInput(outreachStartInput, raw);
  const sponsor = await requireSponsor(deps.sql, input.sponsor);
  const [student, tutor] = await Promise.all([personWithRole(deps.sql, input.student, 'student'), personWithRole(deps.sql, input.tutor, 'tutor')]);
  const reachable = sponsor.contacts.filter((c) => !c.optedOut);
  const wanted = input.contacts ?? (input.contact ? [input.contact] : null);
  const contacts = wanted ? wanted.map((email) => reachable.find((c) => c.email === email)) : reachable.slice(0, 1);
  if (!contacts.length || contacts.some((c) => !c)) throw new MeceneError('error.noContact', { sponsor: sponsor.name }, 422);
  const contactIds = contacts.map((c) => c!.id);
  const workflowId = sponsorOutreachId(sponsor.id);

  const [open] = await deps.sql<{ stage: OutreachStage }[]>`
    SELECT stage FROM dossiers WHERE organisation_id = ${sponsor.id} AND closed_at IS NULL`;
  if (open) throw running(sponsor, workflowId, open.stage);
  // A sponsor approached again: the new dossier links to the last one, whose history stays.
  const [previous] = await deps.sql<{ id: string }[]>`
    SELECT id FROM dossiers WHERE organisation_id = ${sponsor.id} ORDER BY created_at DESC LIMIT 1`;

  const policy = input.policy;
  const ms = (text: string) => parseDuration(text)!; // validated by policySchema
  const delay = (text: string) => parseDelay(text)!;
  const sending = deps.sending ?? DEFAULT_SENDING;
  const rules = sendRulesFor(sending, policy);
  const workflowInput: RelationshipInput = {
    dossierId: randomUUID(),
    sponsor: { id: sponsor.id, slug: sponsor.slug, name: sponsor.name },
    contactId: contactIds[0],
    contactIds,
    recipientDomain: contacts[0]!.email.split('@')[1] ?? contacts[0]!.email,
    previousDossierId: previous?.id,
    studentId: student.id,
    tutorId: tutor.id,
    amountAskedCents: input.ask,
    lang: input.lang,
    policy: { followUps: policy.followUps, grace: policy.grace, sendTimeout: policy.sendTimeout },
    timings: {
      followUpsMs: policy.followUps.map(ms),
      graceMs: ms(policy.grace),
      sendTimeoutMs: ms(policy.sendTimeout),
      validation: policy.validation,
      validationReminder: delay(policy.validationReminder),
      validationEscalation: delay(policy.validationEscalation),
      validationFlag: delay(policy.validationFlag),
      nextStepMs: ms(policy.nextStep),
      meetingResultMs: ms(policy.meetingResult),
      meetingReminderMs: ms(policy.meetingReminder),
      instalmentGraceMs: ms(policy.instalmentGrace),
      escalateAfterMs: ms(policy.escalateAfter),
      linkTtlMs: ms(policy.linkTtl),
      dailyCap: sending.dailyCap,
      domainCap: sending.domainCap,
      sendRules: policy.holidays ? rules : { ...rules, holidays: [] },
      historyLimit: policy.historyLimit,
    },
  };
  try {
    await deps.client.workflow.start<typeof sponsorOutreach>('sponsorOutreach', {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [workflowInput],
      workflowIdConflictPolicy: 'FAIL',
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      const live = await liveStatus(deps, sponsor.id);
      throw running(sponsor, workflowId, live?.stage ?? 'preparing');
    }
    throw error;
  }
  return { workflowId, dossierId: workflowInput.dossierId, sponsor: workflowInput.sponsor };
}

function running(sponsor: Sponsor, workflowId: string, stage: OutreachStage): MeceneError {
  return new MeceneError('error.outreachRunning', { sponsor: sponsor.name, workflowId, stage: { key: `stage.${stage}` } }, 409);
}

function liveStatus(deps: OutreachDeps, sponsorId: number): Promise<OutreachStatus | null> {
  return queryRunningOutreach(deps, sponsorId, outreachStatusQuery);
}

export interface DossierSummary {
  dossierId: string;
  sponsor: { id: number; slug: string; name: string };
  stage: OutreachStage;
  amountAskedCents: number;
  student: { name: string; email: string };
  tutor: { name: string; email: string };
  contact: { name: string; email: string };
  workflowId: string;
  nextAction: string | null;
  nextActionAt: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  closeReason: string | null;
}

const SUMMARY_SQL = (sql: Sql) => sql`
  SELECT d.*, o.slug, o.name AS org_name, s.name AS student_name, s.email AS student_email,
         t.name AS tutor_name, t.email AS tutor_email, c.name AS contact_name, c.email AS contact_email
  FROM dossiers d
  JOIN organisations o ON o.id = d.organisation_id
  JOIN people s ON s.id = d.student_id
  JOIN people t ON t.id = d.tutor_id
  JOIN contacts c ON c.id = d.contact_id`;

function toSummary(r: any): DossierSummary {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    dossierId: r.id,
    sponsor: { id: Number(r.organisation_id), slug: r.slug, name: r.org_name },
    stage: r.stage,
    amountAskedCents: Number(r.amount_asked_cents),
    student: { name: r.student_name, email: r.student_email },
    tutor: { name: r.tutor_name, email: r.tutor_email },
    contact: { name: r.contact_name, email: r.contact_email },
    workflowId: r.workflow_id,
    nextAction: r.next_action,
    nextActionAt: iso(r.next_action_at),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    closedAt: iso(r.closed_at),
    closeReason: r.close_reason,
  };
}

/** Dossiers, open ones first then by last activity; `all` includes closed ones. */
export async function listOutreach(sql: Sql, opts: { all?: boolean } = {}): Promise<DossierSummary[]> {
  const rows = await sql<any[]>`
    ${SUMMARY_SQL(sql)}
    ${opts.all ? sql`` : sql`WHERE d.closed_at IS NULL`}
    ORDER BY d.closed_at IS NOT NULL, d.updated_at DESC`;
  return rows.map(toSummary);
}

export interface OutreachView {
  sponsor: { id: number; slug: string; name: string };
  /** Null for the first instants of a process, before its first step is written. */
  dossier: DossierSummary | null;
  /** The process's own view (what was sent, what is next); null once it has ended. */
  live: OutreachStatus | null;
  /** The whole relationship's state (validation, pause, meetings, pledge), for dossiers that run it. */
  relationship: RelationshipState | null;
  emails: { kind: string; to: string; subject: string; messageId: string; status: string; sentAt: string | null; attempts: number }[];
  events: { at: string; kind: string; stage: string | null; detail: Record<string, unknown> }[];
  documents: { id: string; kind: string; version: number; sha256: string; sizeBytes: number }[];
}

/** The sponsor's latest dossier with its timeline, outbox and live process status. */
export async function outreachStatus(deps: OutreachDeps, ref: string): Promise<OutreachView> {
  const sponsor = await requireSponsor(deps.sql, ref);
  const [row] = await deps.sql<any[]>`
    ${SUMMARY_SQL(deps.sql)} WHERE d.organisation_id = ${sponsor.id}
    ORDER BY d.closed_at IS NOT NULL, d.created_at DESC LIMIT 1`;
  const dossier = row ? toSummary(row) : null;
  const live = dossier?.closedAt ? null : await liveStatus(deps, sponsor.id);
  const relationship = dossier?.closedAt || !(await isRelationship(deps.sql, sponsor.id)) ? null : await relationshipStatus(deps, sponsor.id);
  const dossierId = dossier?.dossierId ?? live?.dossierId;
  if (!dossierId) throw new MeceneError('error.noOutreach', { sponsor: sponsor.name }, 404);
  const [emails, events, documents] = await Promise.all([
    deps.sql<any[]>`SELECT * FROM emails WHERE dossier_id = ${dossierId} ORDER BY id`,
    deps.sql<any[]>`SELECT * FROM events WHERE dossier_id = ${dossierId} ORDER BY at, id`,
    deps.sql<any[]>`SELECT * FROM documents WHERE dossier_id = ${dossierId} ORDER BY version`,
  ]);
  return {
    sponsor: { id: sponsor.id, slug: sponsor.slug, name: sponsor.name },
    dossier,
    live,
    relationship,
    emails: emails.map((e) => ({ kind: e.kind, to: e.to_address, subject: e.subject, messageId: e.message_id, status: e.status, sentAt: e.sent_at?.toISOString() ?? null, attempts: e.attempts })),
    events: events.map((e) => ({ at: e.at.toISOString(), kind: e.kind, stage: e.stage, detail: e.detail })),
    documents: documents.map((d) => ({ id: d.id, kind: d.kind, version: d.version, sha256: d.sha256, sizeBytes: d.size_bytes })),
  };
}

async function update<R>(deps: OutreachDeps, ref: string, action: 'reply' | 'close' | 'restart', run: (sponsor: Sponsor) => Promise<R>): Promise<R> {
  const sponsor = await requireSponsor(deps.sql, ref);
  try {
    return await run(sponsor);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new MeceneError('error.noOutreach', { sponsor: sponsor.name }, 404);
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const stage = (error.cause.details?.[0] as { stage?: OutreachStage } | undefined)?.stage;
      const params = { sponsor: sponsor.name, stage: stage ? { key: `stage.${stage}` as const } : '?', action: { key: `action.${action}` as const } };
      if (error.cause.type === OUTREACH_ENDED || error.cause.type === RELATIONSHIP_ENDED_ERROR) throw new MeceneError('error.outreachClosed', params, 409);
      if (error.cause.type === NOT_ESCALATED || (action === 'restart' && error.cause.type === WRONG_STAGE)) throw new MeceneError('error.notEscalated', params, 409);
      throw new MeceneError('error.updateRejected', { reason: error.cause.message }, 409);
    }
    // A process that has completed refuses updates with a plain "workflow execution already completed".
    if (error instanceof Error && /already completed/i.test(error.message)) {
      throw new MeceneError('error.noOutreach', { sponsor: sponsor.name }, 404);
    }
    throw error;
  }
}

/** Records the sponsor's reply: follow-ups stop, the stage moves; returns once PostgreSQL has it. */
export async function recordReply(deps: OutreachDeps, ref: string, raw: unknown): Promise<OutreachStatus | RelationshipState> {
  // Dossiers of the whole relationship take every outcome (call back later, out of office…).
  const sponsor = await requireSponsor(deps.sql, ref);
  if (await isRelationship(deps.sql, sponsor.id)) return recordRelationshipReply(deps, ref, raw);
  const input = parseInput(replyInput, raw);
  return update(deps, ref, 'reply', (sponsor) =>
    deps.client.workflow.getHandle(sponsorOutreachId(sponsor.id)).executeUpdate(recordReplyUpdate, { args: [input] }),
  );
}

export async function closeOutreach(deps: OutreachDeps, ref: string, raw: unknown): Promise<OutreachStatus> {
  const input = parseInput(closeInput, raw);
  return update(deps, ref, 'close', (sponsor) =>
    deps.client.workflow.getHandle(sponsorOutreachId(sponsor.id)).executeUpdate(closeOutreachUpdate, { args: [input] }),
  );
}

/** After an escalation: a new round of follow-ups from now, same policy. */
export async function restartFollowUps(deps: OutreachDeps, ref: string, raw: { by?: string } = {}): Promise<OutreachStatus> {
  return update(deps, ref, 'restart', (sponsor) =>
    deps.client.workflow.getHandle(sponsorOutreachId(sponsor.id)).executeUpdate(restartFollowUpsUpdate, { args: [{ by: raw.by }] }),
  );
}

