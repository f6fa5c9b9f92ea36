import { ApplicationFailure } from '@temporalio/activity';
import type { NextAction, OutreachStage, RelationshipInput, RelationshipStage, SponsorOutreachInput } from '../workflows/sponsor-outreach/messages';
import type { ActivityDeps } from './deps';

export interface DossierStep {
  dossierId: string;
  /** Computed by the workflow, so a retried activity writes the event once. */
  eventKey: string;
  kind: string;
  stage: OutreachStage | RelationshipStage;
  detail: Record<string, unknown>;
  next: NextAction | { action: string; at: string } | null;
  /** Present when this step ends the dossier. */
  close?: { reason: string };
  /** A handover: the dossier's new owner. */
  studentId?: number;
  /** A resubmitted proposal's new amount. */
  amountAskedCents?: number;
  /** Pause (a reason) or resume (null). */
  paused?: { reason: string } | null;
  /** A meeting scheduled. */
  meeting?: { n: number; startsAt: string; durationMin: number; place?: string; videoUrl?: string };
  /** A meeting's result. */
  meetingResult?: { n: number; summary: string; nextStep?: string; nextStepDue?: string; by: string };
}

/** Activities that write the dossier's state and timeline to PostgreSQL. */
export function createStoreActivities({ sql }: Pick<ActivityDeps, "sql">) {
  return {
    /** Creates the dossier row (once) with its first event. */
    async openDossier(input: SponsorOutreachInput | RelationshipInput): Promise<void> {
      try {
        await sql.begin(async (tx) => {
          const inserted = await tx`
            INSERT INTO dossiers (id, organisation_id, contact_id, student_id, tutor_id, amount_asked_cents, lang, stage, workflow_id, policy)
            VALUES (${input.dossierId}, ${input.sponsor.id}, ${input.contactId}, ${input.studentId}, ${input.tutorId},
                    ${input.amountAskedCents}, ${input.lang}, 'preparing', ${`sponsor-${input.sponsor.id}`}, ${tx.json(input.policy)})
            ON CONFLICT (id) DO NOTHING
            RETURNING id`;
          if (inserted.length) {
            await tx`
              INSERT INTO events (dossier_id, event_key, kind, stage, detail)
              VALUES (${input.dossierId}, ${`${input.dossierId}:0`}, 'started', 'preparing',
                      ${tx.json({ amountAskedCents: input.amountAskedCents, policy: input.policy })})
              ON CONFLICT (event_key) DO NOTHING`;
            // The whole relationship writes to several contacts, and may follow an earlier dossier.
            // (Dossiers of the first process have none: that is how the service tells them apart.)
            const contactIds = 'contactIds' in input ? input.contactIds : [];
            for (const [i, contactId] of contactIds.entries()) {
              await tx`INSERT INTO dossier_contacts (dossier_id, contact_id, position) VALUES (${input.dossierId}, ${contactId}, ${i + 1})`;
            }
            if ('previousDossierId' in input && input.previousDossierId) {
              await tx`UPDATE dossiers SET previous_dossier_id = ${input.previousDossierId} WHERE id = ${input.dossierId}`;
            }
            await tx`SELECT pipeline_refresh_dossier(${input.dossierId})`;
          }
        });
      } catch (error) {
        if ((error as { code?: string }).code === '23505') {
          throw ApplicationFailure.nonRetryable(`another open dossier exists for sponsor ${input.sponsor.slug}`, 'DossierConflict');
        }
        throw error;
      }
    },

    /** Appends an event and moves the dossier's stage and next action, in one transaction. */
    async recordDossierStep(step: DossierStep): Promise<void> {
      await sql.begin(async (tx) => {
        const inserted = await tx`
          INSERT INTO events (dossier_id, event_key, kind, stage, detail)
          VALUES (${step.dossierId}, ${step.eventKey}, ${step.kind}, ${step.stage}, ${tx.json(step.detail as never)})
          ON CONFLICT (event_key) DO NOTHING
          RETURNING id`;
        if (!inserted.length) return; // a retry of a step already written
        await tx`
          UPDATE dossiers SET
            stage = ${step.stage},
            next_action = ${step.next ? step.next.action : null},
            next_action_at = ${step.next ? step.next.at : null},
            updated_at = now(),
            closed_at = ${step.close ? tx`now()` : tx`closed_at`},
            close_reason = ${step.close ? step.close.reason : tx`close_reason`},
            student_id = ${step.studentId ?? tx`student_id`},
            amount_asked_cents = ${step.amountAskedCents ?? tx`amount_asked_cents`},
            paused_at = ${step.paused === undefined ? tx`paused_at` : step.paused ? tx`now()` : null},
            paused_reason = ${step.paused === undefined ? tx`paused_reason` : (step.paused?.reason ?? null)}
          WHERE id = ${step.dossierId}`;
        if (step.meeting) {
          const m = step.meeting;
          await tx`
            INSERT INTO meetings (dossier_id, n, starts_at, duration_min, place, video_url)
            VALUES (${step.dossierId}, ${m.n}, ${m.startsAt}, ${m.durationMin}, ${m.place ?? null}, ${m.videoUrl ?? null})
            ON CONFLICT (dossier_id, n) DO NOTHING`;
        }
        if (step.meetingResult) {
          const r = step.meetingResult;
          await tx`
            UPDATE meetings SET result_summary = ${r.summary}, next_step = ${r.nextStep ?? null}, next_step_due = ${r.nextStepDue ?? null},
                                result_at = now(), result_by = ${r.by}
            WHERE dossier_id = ${step.dossierId} AND n = ${r.n}`;
        }
        // The treasurer's pipeline moves in the same transaction as the dossier.
        await tx`SELECT pipeline_refresh_dossier(${step.dossierId})`;
      });
    },
  };
}
