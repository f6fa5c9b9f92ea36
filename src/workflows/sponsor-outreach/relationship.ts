import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../../activities';
import { nextOpening, parisDayOf } from '../shared/send-window';
import {
  DECLINE_REASONS,
  RELATIONSHIP_ENDED,
  RELATIONSHIP_ENDED_ERROR,
  WRONG_STAGE,
  closeOutreachUpdate,
  decideProposalUpdate,
  endRelationshipUpdate,
  handOverDossierUpdate,
  outreachStatusQuery,
  pauseDossierUpdate,
  recordMeetingResultUpdate,
  recordPaymentUpdate,
  recordPledgeUpdate,
  recordRelationshipReplyUpdate,
  relationshipStatusQuery,
  resubmitProposalUpdate,
  restartFollowUpsUpdate,
  resumeDossierUpdate,
  scheduleMeetingUpdate,
  type RelationshipInput,
  type RelationshipReplyInput,
  type RelationshipStage,
  type RelationshipState,
  type SentEmail,
} from './messages';
import { dueDossierAlarms, nextSend, pendingDossierAlarms, type DossierAlarm, type DueSend } from './relationship-plan';

type Activities = ReturnType<typeof createActivities>;

type Request =
  | { id: number; type: 'decide'; input: { version: number; decision: 'approve' | 'changes'; comment?: string; by: string } }
  | { id: number; type: 'resubmit'; input: { amountAskedCents?: number; note?: string; by: string } }
  | { id: number; type: 'reply'; input: RelationshipReplyInput }
  | { id: number; type: 'meeting'; input: { at: string; durationMin: number; place?: string; videoUrl?: string; by: string } }
  | { id: number; type: 'meetingResult'; input: { meeting: number; summary: string; nextStep?: string; nextStepDue?: string; by: string } }
  | { id: number; type: 'pledge'; input: { amountCents: number; nature: 'cash' | 'in_kind' | 'skills'; description: string; counterparts: string; instalments: { expectedAt: string; amountCents: number }[]; by: string } }
  | { id: number; type: 'payment'; input: { amountCents: number; receivedOn: string; instalment?: number; method: 'transfer' | 'cheque' | 'cash' | 'in_kind'; by: string } }
  | { id: number; type: 'pause'; input: { reason: string; by: string } }
  | { id: number; type: 'resume'; input: { by: string } }
  | { id: number; type: 'handover'; input: { studentId: number; by: string } }
  | { id: number; type: 'end'; input: { outcome: 'lost' | 'withdrawn'; reason: string; by: string } }
  | { id: number; type: 'restart'; input: { by?: string } };

const reject = (message: string, type: string, details: Record<string, unknown> = {}): never => {
  throw ApplicationFailure.nonRetryable(message, type, details);
};

/**
 * One sponsor relationship, from the proposal to the last receipt:
 * proposal → a tutor's validation (signed links; changes → resubmission → new version) →
 * first email and follow-ups inside the send window and the caps → a reply (interested,
 * meeting, declined, call back later, out of office) → meetings with invitations → a pledge
 * and its agreement → payments, each with a numbered receipt → won. Every wait on a person
 * reminds them, then climbs the ladder; pause, handover and the end can come at any time.
 */
export async function sponsorRelationship(input: RelationshipInput): Promise<RelationshipState> {
  const { dossierId, timings } = input;
  const store = proxyLocalActivities<Activities>({ startToCloseTimeout: '30s', retry: { initialInterval: '500ms', maximumInterval: '10s' } });
  const pdf = proxyLocalActivities<Activities>({ startToCloseTimeout: '2m', retry: { initialInterval: '1s', maximumInterval: '30s' } });
  const mail = proxyLocalActivities<Activities>({
    startToCloseTimeout: timings.sendTimeoutMs,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2m', nonRetryableErrorTypes: ['InvalidRecipient', 'TemplateError'] },
  });

  const state: RelationshipState = input.carried ?? {
    dossierId,
    sponsor: input.sponsor,
    stage: 'validation',
    contactIds: input.contactIds,
    proposalVersion: 1,
    validation: null,
    round: 0,
    sequenceStart: null,
    followUpsSent: 0,
    sent: [],
    reply: null,
    callbackAt: null,
    paused: null,
    meetings: [],
    nextStepDue: null,
    pledge: null,
    receipts: 0,
    closed: null,
    notified: [],
    eventSeq: 0,
    requestSeq: 0,
  };
  const requests: Request[] = [];
  const handled = new Set<number>();
  /** Slots reserved for this run's pending sends (key → instant); re-reserving returns the same slot. */
  const slots = new Map<string, string>();

  const isEnded = () => RELATIONSHIP_ENDED.includes(state.stage);
  const submit = async (request: Request): Promise<RelationshipState> => {
    requests.push(request);
    await condition(() => handled.has(request.id));
    return state;
  };
  const open = () => {
    if (isEnded()) reject(`relationship has ended (${state.stage})`, RELATIONSHIP_ENDED_ERROR, { stage: state.stage });
  };
  const at = (...stages: RelationshipStage[]) => {
    open();
    if (!stages.includes(state.stage)) reject(`not possible at stage ${state.stage}`, WRONG_STAGE, { stage: state.stage, expected: stages });
  };
  const AFTER_CONTACT: RelationshipStage[] = ['contacted', 'followed_up', 'escalated', 'callback', 'interested', 'meeting', 'pledged'];
  const REPLYABLE = AFTER_CONTACT.filter((s) => s !== 'pledged');

  setHandler(relationshipStatusQuery, () => state);
  // The first version's query still answers, in the shape the CLI knows, for dossiers of both kinds.
  setHandler(outreachStatusQuery, () => ({
    dossierId,
    sponsor: state.sponsor,
    stage: state.stage as never,
    round: state.round,
    sent: state.sent,
    next: (() => {
      const send = nextSend(state, timings);
      return send && send.kind !== 'initial' ? { action: send.kind, n: send.n, at: slots.get(send.key) ?? send.dueAt } : null;
    })(),
    reply: state.reply && ['interested', 'meeting', 'declined'].includes(state.reply.outcome) ? (state.reply as never) : null,
    closed: state.closed,
    proposalDocumentId: null,
  }));
  setHandler(decideProposalUpdate, (i) => submit({ id: ++state.requestSeq, type: 'decide', input: i }), {
    validator: (i) => {
      at('validation');
      if (i.version !== state.proposalVersion) reject(`version ${i.version} is not the current one (${state.proposalVersion})`, 'OutdatedVersion', { current: state.proposalVersion });
      if (i.decision === 'changes' && !i.comment?.trim()) reject('a comment is required', 'InvalidDecision');
    },
  });
  setHandler(resubmitProposalUpdate, (i) => submit({ id: ++state.requestSeq, type: 'resubmit', input: i }), { validator: (_i) => at('changes_requested', 'validation') });
  setHandler(recordRelationshipReplyUpdate, (i) => submit({ id: ++state.requestSeq, type: 'reply', input: i }), {
    validator: (i) => {
      at(...REPLYABLE);
      if (i.outcome === 'declined' && i.reason && !DECLINE_REASONS.includes(i.reason)) reject(`unknown reason ${i.reason}`, 'InvalidReply');
      if ((i.outcome === 'callback' || i.outcome === 'out_of_office') && !(Date.parse(i.until ?? '') > Date.now())) reject('a future date is required', 'InvalidReply');
    },
  });
  // The first version's reply update, kept for clients that still send it.
  setHandler(closeOutreachUpdate, (i) => submit({ id: ++state.requestSeq, type: 'end', input: { outcome: 'lost', reason: i.reason, by: i.by ?? '' } }) as never, { validator: (_i) => open() });
  setHandler(scheduleMeetingUpdate, (i) => submit({ id: ++state.requestSeq, type: 'meeting', input: i }), {
    validator: (i) => {
      at(...AFTER_CONTACT);
      if (!(Date.parse(i.at) > Date.now())) reject('the meeting must be in the future', 'InvalidMeeting');
      if (!i.place?.trim() && !i.videoUrl?.trim()) reject('a place or a video link is required', 'InvalidMeeting');
    },
  });
  setHandler(recordMeetingResultUpdate, (i) => submit({ id: ++state.requestSeq, type: 'meetingResult', input: i }), {
    validator: (i) => {
      open();
      const m = state.meetings.find((x) => x.id === i.meeting);
      if (!m) reject(`unknown meeting ${i.meeting}`, 'UnknownItem', { item: i.meeting, known: state.meetings.map((x) => x.id) });
      if (m!.result) reject(`meeting ${i.meeting} already has a result`, WRONG_STAGE, { stage: state.stage });
    },
  });
  setHandler(recordPledgeUpdate, (i) => submit({ id: ++state.requestSeq, type: 'pledge', input: i }), {
    validator: (i) => {
      at(...REPLYABLE);
      const sum = i.instalments.reduce((a: number, x: { amountCents: number }) => a + x.amountCents, 0);
      if (!(i.amountCents > 0) || !i.instalments.length || sum !== i.amountCents) reject(`instalments add up to ${sum}, not ${i.amountCents}`, 'InvalidAmount', { instalmentsCents: sum, pledgedCents: i.amountCents });
    },
  });
  setHandler(recordPaymentUpdate, (i) => submit({ id: ++state.requestSeq, type: 'payment', input: i }), {
    validator: (i) => {
      at('pledged');
      const remaining = state.pledge!.instalments.reduce((a, x) => a + x.amountCents - x.receivedCents, 0);
      if (!(i.amountCents > 0) || i.amountCents > remaining) reject(`amount ${i.amountCents} exceeds the ${remaining} cents still expected`, 'InvalidAmount', { remainingCents: remaining });
      if (i.instalment !== undefined && !state.pledge!.instalments.some((x) => x.n === i.instalment)) reject(`unknown instalment ${i.instalment}`, 'UnknownItem', { item: i.instalment, known: state.pledge!.instalments.map((x) => x.n) });
    },
  });
  setHandler(pauseDossierUpdate, (i) => submit({ id: ++state.requestSeq, type: 'pause', input: i }), {
    validator: (i) => {
      open();
      if (state.paused) reject('already paused', WRONG_STAGE, { stage: state.stage });
      if (!i.reason?.trim()) reject('a reason is required', 'InvalidPause');
    },
  });
  setHandler(resumeDossierUpdate, (i) => submit({ id: ++state.requestSeq, type: 'resume', input: i }), {
    validator: (_i) => {
      open();
      if (!state.paused) reject('not paused', WRONG_STAGE, { stage: state.stage });
    },
  });
  setHandler(restartFollowUpsUpdate, (i) => submit({ id: ++state.requestSeq, type: 'restart', input: i ?? {} }) as never, { validator: (_i) => at('escalated') });
  setHandler(handOverDossierUpdate, (i) => submit({ id: ++state.requestSeq, type: 'handover', input: i }), { validator: (_i) => open() });
  setHandler(endRelationshipUpdate, (i) => submit({ id: ++state.requestSeq, type: 'end', input: i }), {
    validator: (i) => {
      open();
      if (!i.reason?.trim()) reject('a reason is required', 'InvalidEnd');
    },
  });

  /** The next thing the process will do by itself, for the dossier's "next action" column. */
  const nextAction = (): { action: string; at: string } | null => {
    const send = nextSend(state, timings);
    const alarm = pendingDossierAlarms(state, timings)[0];
    const candidates = [
      ...(send ? [{ action: send.kind === 'escalation' ? 'escalation' : send.kind, at: slots.get(send.key) ?? send.dueAt }] : []),
      ...(alarm ? [{ action: `${alarm.about}_${alarm.kind}`, at: alarm.at }] : []),
      ...(state.stage === 'callback' && state.callbackAt && !state.paused ? [{ action: 'callback', at: state.callbackAt }] : []),
    ];
    return candidates.sort((a, b) => a.at.localeCompare(b.at))[0] ?? null;
  };

  /** Writes the step (event + stage + next action + pipeline row) before anyone is told. */
  const record = async (kind: string, detail: Record<string, unknown> = {}, change: { studentId?: number; amountAskedCents?: number; paused?: { reason: string } | null; meeting?: { n: number; startsAt: string; durationMin: number; place?: string; videoUrl?: string }; meetingResult?: { n: number; summary: string; nextStep?: string; nextStepDue?: string; by: string } } = {}) => {
    await store.recordDossierStep({
      dossierId,
      eventKey: `${dossierId}:${++state.eventSeq}`,
      kind,
      stage: state.stage as never,
      detail,
      next: nextAction() as never,
      close: isEnded() ? { reason: state.closed?.reason ?? state.stage } : undefined,
      ...change,
    });
  };

  /** Renders the current version of the proposal and asks the tutor to validate it. */
  const requestValidation = async () => {
    const version = state.proposalVersion;
    const proposal = await pdf.renderProposal({ dossierId, version });
    const requestedAt = new Date().toISOString();
    state.stage = 'validation';
    state.validation = { version, requestedAt, decided: null };
    await mail.sendValidationRequest({ dossierId, version, key: `${dossierId}:validation:v${version}`, documentId: proposal.documentId, expiresAt: new Date(Date.now() + timings.linkTtlMs).toISOString() });
    await record('validation_requested', { version, documentId: proposal.documentId, sha256: proposal.sha256 });
  };

  /** Sends one email of the sequence to every contact still reachable; contacts who objected drop out. */
  const sendToContacts = async (send: DueSend) => {
    const reached: SentEmail[] = [];
    for (const contactId of [...state.contactIds]) {
      const key = input.contactIds.length > 1 ? `${send.key}:c${contactId}` : send.key;
      let result;
      try {
        result = await mail.sendDossierEmail({ dossierId, key, kind: send.kind, n: send.n, contactId });
      } catch (error) {
        if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === 'InvalidRecipient') {
          await dropContact(contactId, 'invalid_recipient');
          continue;
        }
        throw error;
      }
      if (result.status === 'opted_out') {
        await dropContact(contactId, 'opted_out');
        continue;
      }
      const sent: SentEmail = { kind: send.kind, key, messageId: result.messageId, subject: result.subject, to: result.to, sentAt: result.sentAt, round: state.round, n: send.n };
      state.sent.push(sent);
      reached.push(sent);
    }
    return reached;
  };

  /** A contact can no longer be written to: the student is told; with nobody left, the dossier ends. */
  const dropContact = async (contactId: number, why: 'opted_out' | 'invalid_recipient') => {
    state.contactIds = state.contactIds.filter((c) => c !== contactId);
    await mail.sendDossierNotice({ dossierId, key: `${dossierId}:contact:${contactId}:${why}`, about: why, ref: String(contactId), kind: 'reminder', to: 'student', dueAt: new Date().toISOString() });
    if (!state.contactIds.length) {
      state.stage = 'opted_out';
      state.closed = { reason: why, at: new Date().toISOString() };
    }
    await record(why, { contactId });
  };

  const performSend = async (send: DueSend) => {
    if (send.kind === 'escalation') {
      const alert = await mail.sendDossierEmail({ dossierId, key: send.key, kind: 'escalation' });
      state.sent.push({ kind: 'escalation', key: send.key, messageId: alert.messageId, subject: alert.subject, to: alert.to, sentAt: alert.sentAt, round: state.round });
      state.stage = 'escalated';
      await record('escalated', { messageId: alert.messageId, to: alert.to });
      return;
    }
    const reached = await sendToContacts(send);
    if (isEnded()) return;
    if (send.kind === 'followup') state.followUpsSent += 1;
    if (!reached.length) return;
    state.stage = send.kind === 'initial' ? 'contacted' : 'followed_up';
    await record('email_sent', { kind: send.kind, n: send.n, messages: reached.map((r) => ({ messageId: r.messageId, to: r.to })) });
  };

  const raise = async (alarm: DossierAlarm) => {
    if (alarm.about === 'validation') {
      await mail.sendValidationReminder({ dossierId, version: state.proposalVersion, key: `${dossierId}:${alarm.key}`, to: alarm.to as 'tutor' | 'other_tutors' | 'everyone' });
    } else {
      await mail.sendDossierNotice({ dossierId, key: `${dossierId}:${alarm.key}`, about: alarm.about, ref: alarm.ref, kind: alarm.kind, to: alarm.to, dueAt: alarm.dueAt });
    }
    state.notified.push(alarm.key);
    await record(alarm.kind === 'reminder' ? 'reminder_sent' : 'escalated_to', { about: alarm.about, ref: alarm.ref, to: alarm.to });
  };

  const handle = async (request: Request) => {
    const now = new Date().toISOString();
    switch (request.type) {
      case 'decide': {
        const { decision, comment, by } = request.input;
        state.validation = { ...state.validation!, decided: decision, comment };
        if (decision === 'approve') {
          state.stage = 'approved';
          state.sequenceStart = now;
          return record('proposal_approved', { version: state.proposalVersion, by });
        }
        state.stage = 'changes_requested';
        state.validation.requestedAt = now;
        await mail.sendChangesRequested({ dossierId, version: state.proposalVersion, comment: comment!, by, key: `${dossierId}:changes:v${state.proposalVersion}` });
        return record('proposal_changes_requested', { version: state.proposalVersion, comment, by });
      }
      case 'resubmit': {
        const { amountAskedCents, note, by } = request.input;
        state.proposalVersion += 1;
        await record('proposal_resubmitted', { version: state.proposalVersion, amountAskedCents, note, by }, { amountAskedCents });
        return requestValidation();
      }
      case 'reply': {
        const r = request.input;
        state.reply = { outcome: r.outcome, note: r.note, at: now, by: r.by, reason: r.reason };
        if (r.outcome === 'declined') {
          if (r.closingEmail) for (const contactId of state.contactIds) await mail.sendDossierEmail({ dossierId, key: `${dossierId}:closing:c${contactId}`, kind: 'closing', contactId });
          state.stage = 'lost';
          state.closed = { reason: `declined:${r.reason ?? 'other'}`, at: now, by: r.by };
        } else if (r.outcome === 'callback' || r.outcome === 'out_of_office') {
          state.stage = 'callback';
          state.callbackAt = r.until!;
        } else {
          state.stage = r.outcome === 'meeting' ? 'meeting' : 'interested';
          state.nextStepDue = new Date(Date.now() + timings.nextStepMs).toISOString();
        }
        return record('reply_recorded', { outcome: r.outcome, note: r.note, by: r.by, reason: r.reason, until: r.until, from: r.from });
      }
      case 'meeting': {
        const m = { id: state.meetings.length + 1, at: request.input.at, durationMin: request.input.durationMin, place: request.input.place, videoUrl: request.input.videoUrl };
        state.meetings.push(m);
        state.stage = 'meeting';
        state.nextStepDue = null;
        await mail.sendMeetingInvitation({ dossierId, meeting: m, key: `${dossierId}:meeting:${m.id}` });
        return record('meeting_scheduled', { meeting: m, by: request.input.by }, { meeting: { n: m.id, startsAt: m.at, durationMin: m.durationMin, place: m.place, videoUrl: m.videoUrl } });
      }
      case 'meetingResult': {
        const m = state.meetings.find((x) => x.id === request.input.meeting)!;
        m.result = { summary: request.input.summary, nextStep: request.input.nextStep, nextStepDue: request.input.nextStepDue, at: now, by: request.input.by };
        state.nextStepDue = request.input.nextStepDue ?? new Date(Date.now() + timings.nextStepMs).toISOString();
        return record('meeting_result', { meeting: m.id, summary: m.result.summary, nextStep: m.result.nextStep, nextStepDue: state.nextStepDue, by: request.input.by }, { meetingResult: { n: m.id, summary: m.result.summary, nextStep: m.result.nextStep, nextStepDue: state.nextStepDue ?? undefined, by: request.input.by } });
      }
      case 'pledge': {
        const p = request.input;
        const key = `${dossierId}:pledge:${state.eventSeq + 1}`;
        const pledge = await store.recordPledge({ dossierId, key, amountCents: p.amountCents, nature: p.nature, description: p.description, counterparts: p.counterparts, instalments: p.instalments.map((x) => ({ expectedOn: parisDayOf(Date.parse(x.expectedAt)), amountCents: x.amountCents })), by: p.by });
        const convention = await pdf.renderConvention({ dossierId, pledgeId: pledge.pledgeId });
        state.pledge = { id: pledge.pledgeId, amountCents: p.amountCents, nature: p.nature, instalments: p.instalments.map((x, i) => ({ n: i + 1, expectedAt: x.expectedAt, amountCents: x.amountCents, receivedCents: 0 })) };
        state.stage = 'pledged';
        state.nextStepDue = null;
        await mail.sendDossierNotice({ dossierId, key: `${dossierId}:convention:${pledge.pledgeId}`, about: 'convention', ref: convention.documentId, kind: 'reminder', to: 'student', dueAt: now });
        return record('pledge_recorded', { pledgeId: pledge.pledgeId, amountCents: p.amountCents, nature: p.nature, instalments: p.instalments.length, conventionDocumentId: convention.documentId, by: p.by });
      }
      case 'payment': {
        const p = request.input;
        const pledge = state.pledge!;
        // Default: the earliest instalment not fully paid.
        const n = p.instalment ?? pledge.instalments.find((x) => x.receivedCents < x.amountCents)?.n ?? 1;
        const key = `${dossierId}:payment:${state.receipts + 1}`;
        const paid = await store.recordSponsorPayment({ dossierId, key, amountCents: p.amountCents, receivedOn: p.receivedOn, instalment: n, method: p.method, by: p.by });
        // The instalment named is paid up to its amount; the rest pays the earliest open ones (as the ledger does).
        let left = p.amountCents;
        for (const x of [pledge.instalments.find((i) => i.n === n)!, ...pledge.instalments]) {
          const paid = Math.min(left, x.amountCents - x.receivedCents);
          x.receivedCents += paid;
          left -= paid;
          if (left === 0) break;
        }
        state.receipts += 1;
        await mail.sendReceipt({ dossierId, receiptId: paid.receiptId, key: `${key}:receipt` });
        const all = pledge.instalments.every((x) => x.receivedCents >= x.amountCents);
        if (all) {
          state.stage = 'won';
          state.closed = { reason: 'won', at: now, by: p.by };
        }
        return record('payment_recorded', { amountCents: p.amountCents, instalment: n, receiptNumber: paid.receiptNumber, receivedOn: p.receivedOn, by: p.by });
      }
      case 'pause':
        state.paused = { reason: request.input.reason, by: request.input.by, at: now };
        return record('paused', { reason: request.input.reason, by: request.input.by }, { paused: { reason: request.input.reason } });
      case 'resume': {
        const pausedFor = Date.now() - Date.parse(state.paused!.at);
        state.paused = null;
        // Time stood still while paused: what was due waits as long again.
        if (state.sequenceStart) state.sequenceStart = new Date(Date.parse(state.sequenceStart) + pausedFor).toISOString();
        if (state.nextStepDue) state.nextStepDue = new Date(Date.parse(state.nextStepDue) + pausedFor).toISOString();
        slots.clear();
        return record('resumed', { by: request.input.by, pausedMs: pausedFor }, { paused: null });
      }
      case 'handover':
        return record('handed_over', { studentId: request.input.studentId, by: request.input.by }, { studentId: request.input.studentId });
      case 'restart':
        // After the tutor's alert: a new round of follow-ups, counted from now.
        state.round += 1;
        state.followUpsSent = 0;
        state.sequenceStart = new Date(Date.now() + (timings.followUpsMs[0] ?? 0)).toISOString();
        state.stage = 'followed_up';
        return record('followups_restarted', { round: state.round, by: request.input.by });
      case 'end':
        state.stage = request.input.outcome;
        state.closed = { reason: request.input.reason, at: now, by: request.input.by };
        return record('ended', { outcome: request.input.outcome, reason: request.input.reason, by: request.input.by });
    }
  };

  // 1. The dossier exists in PostgreSQL, then the proposal goes to a tutor.
  if (!input.carried) {
    await store.openDossier(input);
    if (timings.validation === 'tutor') await requestValidation();
    else {
      // Validation waived by the policy: the proposal is generated and the sequence starts at once.
      const proposal = await pdf.renderProposal({ dossierId, version: 1 });
      state.stage = 'approved';
      state.sequenceStart = new Date().toISOString();
      await record('proposal_generated', { version: 1, documentId: proposal.documentId, sha256: proposal.sha256, sizeBytes: proposal.sizeBytes });
    }
  }

  // 2. Until it ends: people's requests first, else the next email or reminder when due.
  while (!isEnded()) {
    if (requests.length === 0) {
      const send = nextSend(state, timings);
      let sendAt: number | null = null;
      if (send) {
        let slot = slots.get(send.key);
        if (!slot) {
          if (send.kind === 'escalation') slot = new Date(nextOpening(Math.max(Date.parse(send.dueAt), 0), timings.sendRules)).toISOString();
          else slot = (await store.reserveSendSlot({ key: send.key, domain: input.recipientDomain, notBefore: send.dueAt, rules: timings.sendRules, dailyCap: timings.dailyCap, domainCap: timings.domainCap })).at;
          slots.set(send.key, slot);
        }
        sendAt = Date.parse(slot);
      }
      const alarm = pendingDossierAlarms(state, timings)[0];
      const callback = state.stage === 'callback' && !state.paused && state.callbackAt ? Date.parse(state.callbackAt) : null;
      const wakeAt = Math.min(sendAt ?? Infinity, alarm ? Date.parse(alarm.at) : Infinity, callback ?? Infinity);
      if (wakeAt === Infinity) await condition(() => requests.length > 0);
      else if (wakeAt > Date.now()) await condition(() => requests.length > 0, wakeAt - Date.now());
    }
    if (requests.length > 0) {
      while (requests.length > 0 && !isEnded()) {
        const request = requests.shift()!;
        await handle(request);
        handled.add(request.id);
      }
    } else {
      const now = Date.now();
      if (state.stage === 'callback' && state.callbackAt && Date.parse(state.callbackAt) <= now) {
        // The date they gave has come: a new round of follow-ups starts from it.
        state.round += 1;
        state.sequenceStart = state.callbackAt;
        state.followUpsSent = 0;
        state.callbackAt = null;
        state.stage = 'followed_up';
        await record('callback_due', { round: state.round });
      }
      const send = nextSend(state, timings);
      const slot = send ? slots.get(send.key) : undefined;
      if (send && slot && Date.parse(slot) <= now) {
        await performSend(send);
        slots.delete(send.key);
      }
      const { send: alarms, superseded } = dueDossierAlarms(state, timings, now);
      for (const a of superseded) state.notified.push(a.key);
      for (const alarm of alarms) await raise(alarm);
    }
    if (!isEnded() && requests.length === 0 && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > timings.historyLimit)) {
      // A relationship lives for months: start afresh with the compact state (slots are re-reserved idempotently).
      await condition(() => allHandlersFinished() || requests.length > 0);
      if (requests.length === 0) {
        // Keys carry their due dates and never recur: the recent ones are all that can matter.
        state.notified = state.notified.slice(-200);
        state.sent = state.sent.slice(-20);
        await continueAsNew<typeof sponsorRelationship>({ ...input, carried: state });
      }
    }
  }
  for (const request of requests.splice(0)) handled.add(request.id);
  await condition(allHandlersFinished);
  return state;
}
