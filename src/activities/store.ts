import { ApplicationFailure } from '@temporalio/activity';
import type { NextAction, OutreachStage, SponsorOutreachInput } from '../workflows/sponsor-outreach/messages';
import type { ActivityDeps } from './deps';

export interface DossierStep {
  dossierId: string;
  /** Computed by the workflow, so a retried activity writes the event once. */
  eventKey: string;
  kind: string;
  stage: OutreachStage;
  detail: Record<string, unknown>;
  next: NextAction | null;
  /** Present when this step ends the dossier. */
  close?: { reason: string };
}

/** Activities that write the dossier's state and timeline to PostgreSQL. */
export function createStoreActivities({ sql }: Pick<ActivityDeps, "sql">) {
  return {
    /** Creates the dossier row (once) with its first event. */
    async openDossier(input: SponsorOutreachInput): Promise<void> {
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
            close_reason = ${step.close ? step.close.reason : tx`close_reason`}
          WHERE id = ${step.dossierId}`;
        // The treasurer's pipeline moves in the same transaction as the dossier.
        await tx`SELECT pipeline_refresh_dossier(${step.dossierId})`;
      });
    },
  };
}
