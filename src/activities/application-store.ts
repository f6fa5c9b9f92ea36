import { parisDay } from '../domain/dates';
import type { ApplicationState, FundingApplicationInput, Milestone } from '../workflows/funding-application/messages';
import type { ActivityDeps } from './deps';

export interface ApplicationStep {
  applicationId: string;
  /** Computed by the workflow, so a retried activity writes the event once. */
  eventKey: string;
  kind: string;
  detail: Record<string, unknown>;
  /** The process's whole compact state after the step: the tables mirror it. */
  state: ApplicationState;
  next: { action: string; at: string } | null;
  /** Money the treasurer recorded in this step, with its ledger key. */
  money?: { key: string; tranche: number; amountCents: number; receivedOn: string; by: string; note?: string };
  closed: boolean;
}

/** Activities that write an application's state, timeline, money and pipeline row to PostgreSQL. */
export function createApplicationStoreActivities({ sql }: Pick<ActivityDeps, 'sql'>) {
  return {
    /** Creates the application with its milestones and checklist (once), and its pipeline row. */
    async openApplication(input: FundingApplicationInput & { milestones: Milestone[] }): Promise<void> {
      await sql.begin(async (tx) => {
        const inserted = await tx`
          INSERT INTO applications (id, organisation_id, programme, amount_requested_cents, deadline_at, decision_expected_on,
                                    student_id, tutor_id, lang, stage, workflow_id, policy)
          VALUES (${input.applicationId}, ${input.funder.id}, ${input.programme}, ${input.amountRequestedCents}, ${input.deadline},
                  ${parisDay(new Date(input.decisionExpectedAt))}, ${input.studentId}, ${input.tutorId}, ${input.lang}, 'drafting',
                  ${`application-${input.applicationId}`}, ${tx.json(input.policy)})
          ON CONFLICT (id) DO NOTHING
          RETURNING id`;
        if (!inserted.length) return; // a retry
        for (const [i, name] of input.documents.entries()) {
          await tx`INSERT INTO application_documents (application_id, position, name) VALUES (${input.applicationId}, ${i + 1}, ${name})`;
        }
        // The milestones as the process worked them back from the deadline, in their order.
        for (const [i, m] of input.milestones.entries()) {
          await tx`
            INSERT INTO application_milestones (application_id, key, position, owner_role, due_at)
            VALUES (${input.applicationId}, ${m.key}, ${i + 1}, ${m.owner}, ${m.dueAt})`;
        }
        await tx`
          INSERT INTO application_events (application_id, event_key, kind, stage, detail)
          VALUES (${input.applicationId}, ${`${input.applicationId}:0`}, 'started', 'drafting',
                  ${tx.json({ amountRequestedCents: input.amountRequestedCents, deadline: input.deadline, policy: input.policy })})`;
        await tx`SELECT pipeline_refresh_application(${input.applicationId})`;
      });
    },

    /** Appends an event and writes the state it leads to, the money and the pipeline row, in one transaction. */
    async recordApplicationStep(step: ApplicationStep): Promise<void> {
      const { state } = step;
      const id = step.applicationId;
      await sql.begin(async (tx) => {
        const inserted = await tx`
          INSERT INTO application_events (application_id, event_key, kind, stage, detail)
          VALUES (${id}, ${step.eventKey}, ${step.kind}, ${state.stage}, ${tx.json(step.detail as never)})
          ON CONFLICT (event_key) DO NOTHING
          RETURNING id`;
        if (!inserted.length) return; // a retry of a step already written
        await tx`
          UPDATE applications SET
            stage = ${state.stage},
            deadline_at = ${state.deadline},
            decision_expected_on = ${parisDay(new Date(state.decisionExpectedAt))},
            amount_awarded_cents = ${state.amountAwardedCents},
            next_action = ${step.next?.action ?? null},
            next_action_at = ${step.next?.at ?? null},
            outcome_reason = ${state.outcome?.reason ?? null},
            updated_at = now(),
            closed_at = ${step.closed ? tx`coalesce(closed_at, now())` : null}
          WHERE id = ${id}`;
        for (const m of state.milestones) {
          await tx`
            UPDATE application_milestones SET due_at = ${m.dueAt}, reached_at = ${m.reachedAt}, reached_by = ${m.by}
            WHERE application_id = ${id} AND key = ${m.key}`;
        }
        for (const d of state.documents) {
          await tx`UPDATE application_documents SET ready_at = ${d.readyAt}, ready_by = ${d.by} WHERE application_id = ${id} AND name = ${d.name}`;
        }
        for (const t of state.tranches) {
          await tx`
            INSERT INTO application_tranches (application_id, n, expected_on, amount_cents)
            VALUES (${id}, ${t.n}, ${parisDay(new Date(t.expectedAt))}, ${t.amountCents})
            ON CONFLICT (application_id, n) DO UPDATE SET expected_on = EXCLUDED.expected_on, amount_cents = EXCLUDED.amount_cents`;
        }
        for (const r of state.reports) {
          await tx`
            INSERT INTO application_reports (application_id, n, kind, due_on, submitted_at, submitted_by)
            VALUES (${id}, ${r.n}, ${r.kind}, ${parisDay(new Date(r.dueAt))}, ${r.submittedAt}, ${r.submittedAt ? ((step.detail.by as string) ?? null) : null})
            ON CONFLICT (application_id, n) DO UPDATE SET
              due_on = EXCLUDED.due_on, submitted_at = EXCLUDED.submitted_at,
              submitted_by = coalesce(application_reports.submitted_by, EXCLUDED.submitted_by)`;
        }
        if (step.money) {
          await tx`
            INSERT INTO money_received (kind, application_id, tranche_n, amount_cents, received_on, recorded_by, note, idempotency_key)
            VALUES ('application', ${id}, ${step.money.tranche}, ${step.money.amountCents}, ${step.money.receivedOn}, ${step.money.by},
                    ${step.money.note ?? null}, ${step.money.key})
            ON CONFLICT (idempotency_key) DO NOTHING`;
        }
        // The treasurer's pipeline moves in the same transaction as the application.
        await tx`SELECT pipeline_refresh_application(${id})`;
      });
    },
  };
}
