import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import type { Sql } from '../db/sql';
import { parisDay } from '../domain/dates';
import { MeceneError } from '../domain/errors';
import {
  endInput,
  handOverInput,
  meetingInput,
  meetingResultInput,
  pauseInput,
  paymentInput,
  pledgeInput,
  relationshipReplyInput,
  resubmitInput,
  resumeInput,
} from '../domain/relationship';
import {
  RELATIONSHIP_ENDED_ERROR,
  WRONG_STAGE,
  endRelationshipUpdate,
  handOverDossierUpdate,
  pauseDossierUpdate,
  recordMeetingResultUpdate,
  recordPaymentUpdate,
  recordPledgeUpdate,
  recordRelationshipReplyUpdate,
  relationshipStatusQuery,
  resubmitProposalUpdate,
  resumeDossierUpdate,
  scheduleMeetingUpdate,
  sponsorOutreachId,
  type RelationshipStage,
  type RelationshipState,
} from '../workflows/sponsor-outreach/messages';
import type { sponsorOutreach } from '../workflows/sponsor-outreach/workflow';
import type { OutreachDeps } from './outreach';
import { queryRunningOutreach } from './live';
import { personWithRole } from './people';
import { requireSponsor, type Sponsor } from './sponsors';
import { parseInput } from './validate';

/**
 * The steps of a whole sponsor relationship (dossiers started since the relationship process):
 * replies of every kind, meetings, pledges, payments, pause, handover and the end.
 */

/** True when the sponsor's open dossier runs the whole-relationship process (it has dossier_contacts). */
export async function isRelationship(sql: Sql, sponsorId: number): Promise<boolean> {
  const [row] = await sql<{ yes: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM dossiers d JOIN dossier_contacts dc ON dc.dossier_id = d.id
                   WHERE d.organisation_id = ${sponsorId} AND d.closed_at IS NULL) AS yes`;
  return row.yes;
}

/** Sends one update to the sponsor's relationship process and says why it was refused, if it was. */
async function step(deps: OutreachDeps, ref: string, run: (handle: WorkflowHandle<typeof sponsorOutreach>, sponsor: Sponsor) => Promise<RelationshipState>): Promise<RelationshipState> {
  const sponsor = await requireSponsor(deps.sql, ref);
  if (!(await isRelationship(deps.sql, sponsor.id))) throw new MeceneError('error.noRelationship', { sponsor: sponsor.name }, 409);
  const handle = deps.client.workflow.getHandle<typeof sponsorOutreach>(sponsorOutreachId(sponsor.id));
  try {
    return await run(handle, sponsor);
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const details = (error.cause.details?.[0] ?? {}) as { stage?: RelationshipStage };
      const stage = details.stage ? { key: `stage.${details.stage}` as const } : '?';
      if (error.cause.type === RELATIONSHIP_ENDED_ERROR) throw new MeceneError('error.outreachClosed', { sponsor: sponsor.name, stage, action: { key: 'action.step' } }, 409);
      if (error.cause.type === WRONG_STAGE) throw new MeceneError('error.relationshipWrongStage', { sponsor: sponsor.name, stage }, 409);
      throw new MeceneError('error.updateRejected', { reason: error.cause.message }, 422);
    }
    if (error instanceof WorkflowNotFoundError || (error instanceof Error && /already completed/i.test(error.message))) {
      throw new MeceneError('error.noOutreach', { sponsor: sponsor.name }, 404);
    }
    throw error;
  }
}

/** The live state of the sponsor's relationship process, or null (ended, or the first version). */
export async function relationshipStatus(deps: OutreachDeps, sponsorId: number): Promise<RelationshipState | null> {
  return queryRunningOutreach(deps, sponsorId, relationshipStatusQuery).catch(() => null);
}

/** Records the sponsor's reply: any outcome, from any of its contacts; the sequence stops for all. */
export async function recordRelationshipReply(deps: OutreachDeps, ref: string, raw: unknown): Promise<RelationshipState> {
  const input = parseInput(relationshipReplyInput, raw);
  return step(deps, ref, (h) => h.executeUpdate(recordRelationshipReplyUpdate, { args: [input] }));
}

/** After the tutor asked for changes: a new version of the proposal (new amount, note) goes back for validation. */
export async function resubmitProposal(deps: OutreachDeps, ref: string, raw: unknown): Promise<RelationshipState> {
  const input = parseInput(resubmitInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor']);
  return step(deps, ref, (h) => h.executeUpdate(resubmitProposalUpdate, { args: [{ amountAskedCents: input.ask, note: input.note, by: input.by }] }));
}

export async function scheduleMeeting(deps: OutreachDeps, ref: string, raw: unknown): Promise<RelationshipState> {
  const input = parseInput(meetingInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor']);
  return step(deps, ref, (h) => h.executeUpdate(scheduleMeetingUpdate, { args: [{ at: input.at, durationMin: input.duration, place: input.place, videoUrl: input.video, by: input.by }] }));
}

export async function recordMeetingResult(deps: OutreachDeps, ref: string, raw: unknown): Promise<RelationshipState> {
  const input = parseInput(meetingResultInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor']);
  return step(deps, ref, (h) => h.executeUpdate(recordMeetingResultUpdate, { args: [{ meeting: input.meeting, summary: input.summary, nextStep: input.nextStep, nextStepDue: input.due, by: input.by }] }));
}

/** A pledge with its instalments: the agreement (convention) is generated and sent to the student for signature. */
export async function recordPledge(deps: OutreachDeps, ref: string, raw: unknown): Promise<RelationshipState> {
  const input = parseInput(pledgeInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor', 'treasurer']);
  return step(deps, ref, (h) =>
    h.executeUpdate(recordPledgeUpdate, {
      args: [{ amountCents: input.amount, nature: input.nature, description: input.description, counterparts: input.counterparts, instalments: input.instalments.map((i) => ({ expectedAt: i.expected, amountCents: i.amount })), by: input.by }],
    }),
  );
}

/** The treasurer records a payment: a numbered receipt (Cerfa n° 16216) goes to the sponsor with thanks. */
export async function recordPayment(deps: OutreachDeps, ref: string, raw: unknown): Promise<RelationshipState> {
  const input = parseInput(paymentInput, raw);
  await personWithRole(deps.sql, input.as, ['treasurer']);
  return step(deps, ref, (h) =>
    h.executeUpdate(recordPaymentUpdate, { args: [{ amountCents: input.amount, receivedOn: input.on ?? parisDay(new Date()), instalment: input.instalment, method: input.method, by: input.as }] }),
  );
}

export async function pauseDossier(deps: OutreachDeps, ref: string, raw: unknown): Promise<RelationshipState> {
  const input = parseInput(pauseInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor', 'treasurer']);
  return step(deps, ref, (h) => h.executeUpdate(pauseDossierUpdate, { args: [input] }));
}

export async function resumeDossier(deps: OutreachDeps, ref: string, raw: unknown): Promise<RelationshipState> {
  const input = parseInput(resumeInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor', 'treasurer']);
  return step(deps, ref, (h) => h.executeUpdate(resumeDossierUpdate, { args: [input] }));
}

/** Year-end handover: future emails, reminders and Reply-To follow the new student; the history stays. */
export async function handOverDossier(deps: OutreachDeps, ref: string, raw: unknown): Promise<RelationshipState> {
  const input = parseInput(handOverInput, raw);
  await personWithRole(deps.sql, input.by, ['tutor', 'student']);
  const student = await personWithRole(deps.sql, input.to, 'student');
  return step(deps, ref, (h) => h.executeUpdate(handOverDossierUpdate, { args: [{ studentId: student.id, by: input.by }] }));
}

/** Ends the relationship: lost (with its reason) or withdrawn by the association. */
export async function endDossier(deps: OutreachDeps, ref: string, raw: unknown): Promise<RelationshipState> {
  const input = parseInput(endInput, raw);
  await personWithRole(deps.sql, input.by, ['student', 'tutor', 'treasurer']);
  return step(deps, ref, (h) => h.executeUpdate(endRelationshipUpdate, { args: [input] }));
}
