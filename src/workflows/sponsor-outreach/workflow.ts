import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import {
  FINAL_STAGES,
  NOT_ESCALATED,
  OUTREACH_ENDED,
  closeOutreachUpdate,
  outreachStatusQuery,
  recordReplyUpdate,
  restartFollowUpsUpdate,
  type CloseInput,
  type EmailKind,
  type OutreachStage,
  type OutreachStatus,
  type ReplyInput,
  type SentEmail,
  type SponsorOutreachInput,
  type RelationshipInput,
  type RelationshipState,
} from './messages';
import { sponsorRelationship } from './relationship';

type Activities = ReturnType<typeof createActivities>;

/** What people asked of the process; the main loop handles one at a time, in order. */
type Request =
  | { id: number; type: 'reply'; reply: ReplyInput }
  | { id: number; type: 'close'; close: CloseInput }
  | { id: number; type: 'restart'; by?: string };

/**
 * One sponsor, from the proposal to a reply or a tutor's decision:
 * proposal PDF → first email → follow-ups at the policy's offsets → silence ends in an alert
 * to the tutor, who closes the dossier or restarts the follow-ups. A reply stops everything.
 */
export async function sponsorOutreach(input: SponsorOutreachInput | RelationshipInput): Promise<OutreachStatus | RelationshipState> {
  // Dossiers started with the whole relationship's input run the new process; those started
  // before keep the first one until they end (their histories have no marker).
  if ('contactIds' in input && patched('sponsor-relationship')) return sponsorRelationship(input);
  return firstOutreach(input);
}

/** The first version: proposal, first email, follow-ups, alert, reply (kept for running dossiers). */
async function firstOutreach(input: SponsorOutreachInput): Promise<OutreachStatus> {
  const { dossierId, timings } = input;

  const storeOptions = { startToCloseTimeout: '30s', retry: { initialInterval: '500ms', maximumInterval: '10s' } } as const;
  // Store steps are short, idempotent database writes: as local activities they run inside
  // the workflow task, without a round trip through the server, which halves the time from a
  // recorded reply to its stage in PostgreSQL. Dossiers started before keep remote ones.
  const store = patched('store-steps-as-local-activities')
    ? proxyLocalActivities<Activities>(storeOptions)
    : proxyActivities<Activities>(storeOptions);
  const pdfOptions = { startToCloseTimeout: '2m', retry: { initialInterval: '1s', maximumInterval: '30s' } } as const;
  // No attempt limit: when the SMTP server is down, mail waits for it to come back.
  const mailOptions = {
    startToCloseTimeout: timings.sendTimeoutMs,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2m', nonRetryableErrorTypes: ['InvalidRecipient', 'TemplateError'] },
  };
  // The proposal (tens of ms) and each email (a few ms, idempotent through the outbox) are
  // short too: run locally, they spare the server two activity tasks per sponsor, which is
  // most of what orchestration costs in a campaign. Retries still back off (with timers
  // beyond a minute), and a worker that dies mid-step re-runs it on the next one.
  const local = patched('outreach-steps-as-local-activities');
  const pdf = local ? proxyLocalActivities<Activities>(pdfOptions) : proxyActivities<Activities>(pdfOptions);
  const mail = local ? proxyLocalActivities<Activities>(mailOptions) : proxyActivities<Activities>(mailOptions);

  const state: OutreachStatus = {
    dossierId,
    sponsor: input.sponsor,
    stage: 'preparing',
    round: 0,
    sent: [],
    next: null,
    reply: null,
    closed: null,
    proposalDocumentId: null,
  };
  let eventSeq = 0;
  let requestSeq = 0;
  const requests: Request[] = [];
  const handled = new Set<number>();

  const isEnded = () => FINAL_STAGES.includes(state.stage);
  const submit = async (request: Request): Promise<OutreachStatus> => {
    requests.push(request);
    await condition(() => handled.has(request.id));
    return state;
  };
  const rejectIfEnded = () => {
    if (isEnded()) throw ApplicationFailure.nonRetryable(`outreach has ended (${state.stage})`, OUTREACH_ENDED, { stage: state.stage });
  };

  setHandler(outreachStatusQuery, () => state);
  setHandler(recordReplyUpdate, (reply) => submit({ id: ++requestSeq, type: 'reply', reply }), {
    validator: (reply) => {
      rejectIfEnded();
      if (!['interested', 'meeting', 'declined'].includes(reply?.outcome)) {
        throw ApplicationFailure.nonRetryable(`unknown outcome ${reply?.outcome}`, 'InvalidReply');
      }
    },
  });
  setHandler(closeOutreachUpdate, (close) => submit({ id: ++requestSeq, type: 'close', close }), {
    validator: (close) => {
      rejectIfEnded();
      if (!close?.reason?.trim()) throw ApplicationFailure.nonRetryable('a reason is required', 'InvalidClose');
    },
  });
  setHandler(restartFollowUpsUpdate, (arg) => submit({ id: ++requestSeq, type: 'restart', by: arg?.by }), {
    validator: (_arg) => {
      rejectIfEnded();
      if (state.stage !== 'escalated') throw ApplicationFailure.nonRetryable(`not escalated (${state.stage})`, NOT_ESCALATED, { stage: state.stage });
    },
  });

  /** Writes the step to PostgreSQL (event + stage + next action) before anyone is told. */
  const record = async (kind: string, stage: OutreachStage, detail: Record<string, unknown> = {}) => {
    state.stage = stage;
    await store.recordDossierStep({
      dossierId,
      eventKey: `${dossierId}:${++eventSeq}`,
      kind,
      stage,
      detail,
      next: state.next,
      close: isEnded() ? { reason: state.closed?.reason ?? stage } : undefined,
    });
  };

  /** Why sending stopped for good: the contact objected, or their server refused the address. */
  let stopReason: 'opted_out' | 'invalid_recipient' = 'opted_out';

  const send = async (kind: EmailKind, key: string, n?: number): Promise<SentEmail | null> => {
    let result;
    try {
      result = await mail.sendDossierEmail({ dossierId, key, kind, n, documentId: kind === 'initial' ? (state.proposalDocumentId ?? undefined) : undefined });
    } catch (error) {
      if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === 'InvalidRecipient') {
        stopReason = 'invalid_recipient';
        return null;
      }
      throw error;
    }
    if (result.status === 'opted_out') {
      stopReason = 'opted_out';
      return null;
    }
    const sent: SentEmail = { kind, key, messageId: result.messageId, subject: result.subject, to: result.to, sentAt: result.sentAt, round: state.round, n };
    state.sent.push(sent);
    return sent;
  };

  /** The sponsor can no longer be written to: the dossier ends, the reason in its timeline. */
  const stopSending = async () => {
    state.next = null;
    state.closed = { reason: stopReason, at: new Date().toISOString() };
    await record(stopReason, stopReason === 'opted_out' ? 'opted_out' : 'closed');
  };

  /** Waits until `at` unless somebody asks something first; true when interrupted. */
  const waitUntil = async (at: number): Promise<boolean> => condition(() => requests.length > 0, Math.max(0, at - Date.now()));

  /** Handles pending requests; returns 'restart' when a new round of follow-ups must begin. */
  const handleRequests = async (): Promise<'restart' | 'continue'> => {
    let outcome: 'restart' | 'continue' = 'continue';
    while (requests.length > 0) {
      const request = requests.shift()!;
      if (isEnded()) {
        handled.add(request.id);
        continue;
      }
      const at = new Date().toISOString();
      if (request.type === 'reply') {
        state.reply = { ...request.reply, at };
        state.next = null;
        if (request.reply.outcome === 'declined') {
          state.closed = { reason: 'declined', at, by: request.reply.by };
          await record('reply_recorded', 'declined', { outcome: 'declined', note: request.reply.note, by: request.reply.by });
        } else {
          await record('reply_recorded', request.reply.outcome === 'meeting' ? 'meeting' : 'interested', {
            outcome: request.reply.outcome,
            note: request.reply.note,
            by: request.reply.by,
          });
        }
      } else if (request.type === 'close') {
        state.next = null;
        state.closed = { reason: request.close.reason, at, by: request.close.by };
        await record('closed', 'closed', { reason: request.close.reason, by: request.close.by });
      } else if (state.stage === 'escalated') {
        state.round += 1;
        outcome = 'restart';
        await store.recordDossierStep({
          dossierId,
          eventKey: `${dossierId}:${++eventSeq}`,
          kind: 'followups_restarted',
          stage: state.stage,
          detail: { round: state.round, by: request.by },
          next: null,
        });
      }
      handled.add(request.id);
    }
    return outcome;
  };

  // 1. The dossier exists in PostgreSQL before anything else happens.
  await store.openDossier(input);

  // 2. The proposal PDF: stored on disk and in `documents`; only its id enters the history.
  const proposal = await pdf.renderProposal({ dossierId, version: 1 });
  state.proposalDocumentId = proposal.documentId;
  await record('proposal_generated', 'preparing', { documentId: proposal.documentId, sha256: proposal.sha256, sizeBytes: proposal.sizeBytes });

  // 3. The first email, proposal attached.
  if (requests.length === 0) {
    const first = await send('initial', `${dossierId}:initial`);
    if (!first) {
      await stopSending();
      await condition(allHandlersFinished);
      return state;
    }
    state.next = timings.followUpsMs.length
      ? { action: 'followup', n: 1, at: new Date(Date.parse(first.sentAt) + timings.followUpsMs[0]).toISOString() }
      : { action: 'escalation', at: new Date(Date.parse(first.sentAt) + timings.graceMs).toISOString() };
    await record('email_sent', 'contacted', { kind: 'initial', messageId: first.messageId, to: first.to, subject: first.subject });
  }

  // 4. Follow-ups and escalation, in rounds (a tutor may restart the follow-ups).
  let roundStart = state.sent.length ? Date.parse(state.sent[0].sentAt) : Date.now();
  while (!isEnded() && state.reply === null) {
    if (requests.length === 0) {
      let lastOffset = 0;
      for (let i = 0; i < timings.followUpsMs.length; i++) {
        const at = roundStart + timings.followUpsMs[i];
        state.next = { action: 'followup', n: i + 1, at: new Date(at).toISOString() };
        if (await waitUntil(at)) break;
        const followUp = await send('followup', `${dossierId}:r${state.round}:followup:${i + 1}`, i + 1);
        if (!followUp) {
          await stopSending();
          await condition(allHandlersFinished);
          return state;
        }
        lastOffset = timings.followUpsMs[i];
        const following = timings.followUpsMs[i + 1];
        state.next = following !== undefined
          ? { action: 'followup', n: i + 2, at: new Date(roundStart + following).toISOString() }
          : { action: 'escalation', at: new Date(roundStart + lastOffset + timings.graceMs).toISOString() };
        await record('email_sent', 'followed_up', { kind: 'followup', n: i + 1, messageId: followUp.messageId, to: followUp.to, subject: followUp.subject });
      }
      if (requests.length === 0) {
        const at = roundStart + lastOffset + timings.graceMs;
        state.next = { action: 'escalation', at: new Date(at).toISOString() };
        if (!(await waitUntil(at))) {
          const alert = await send('escalation', `${dossierId}:r${state.round}:escalation`);
          state.next = null;
          await record('escalated', 'escalated', alert ? { messageId: alert.messageId, to: alert.to } : {});
        }
      }
    }
    // Escalated (or interrupted): wait for a person's decision, however long it takes.
    await condition(() => requests.length > 0);
    if ((await handleRequests()) === 'restart') roundStart = Date.now();
  }

  // 5. A reply came: the follow-ups are over; later replies or a close may still come.
  while (!isEnded()) {
    await condition(() => requests.length > 0);
    await handleRequests();
  }
  await condition(allHandlersFinished);
  return state;
}
