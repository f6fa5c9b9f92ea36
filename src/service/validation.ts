import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { z } from 'zod';
import { verifyValidationLink, type ValidationAction, type ValidationLinkPayload } from '../domain/signed-link';
import { t, type Lang } from '../i18n';
import { RELATIONSHIP_ENDED_ERROR, WRONG_STAGE, decideProposalUpdate } from '../workflows/sponsor-outreach/messages';
import type { OutreachDeps } from './outreach';

/**
 * Tutor validation through signed links: what a link shows (GET: never decides, mail scanners
 * follow links) and the decision itself (POST). Every check comes before anything is written;
 * a link's use is recorded (its jti) just before the workflow update and removed again if the
 * process refuses it, so a refused or failed decision changes nothing and the link still works.
 */

export interface ValidationDeps extends OutreachDeps {
  /** Signs validation links (the same secret as opt-out links). */
  secret: string;
  /** The clock, for tests. */
  now?: () => number;
}

/** What a validation link is about, read from PostgreSQL. */
export interface ValidationRequestView {
  dossierId: string;
  version: number;
  /** The newest version of the dossier's proposal: links for older ones are outdated. */
  currentVersion: number;
  documentId: string;
  sponsor: { name: string; slug: string };
  contact: { name: string; email: string };
  student: { name: string; email: string };
  tutor: { name: string; email: string };
  amountAskedCents: number;
  requestedAt: Date;
  expiresAt: Date;
  email: { to: string; subject: string; text: string };
  decided: { decision: ValidationAction; at: Date; by: string | null; comment: string | null } | null;
  workflowId: string;
}

export type ValidationRefusal =
  | 'forged'
  | 'malformed'
  | 'expired'
  | 'unknown'
  | 'reused'
  | 'outdated'
  | 'decided'
  | 'comment_required'
  | 'comment_too_long'
  | 'rejected'
  | 'unavailable';

/** The HTTP status of each refusal: 400 bad link or input, 404 unknown, 409 conflicts, 410 gone, 503 retry later. */
export const REFUSAL_STATUS: Record<ValidationRefusal, number> = {
  forged: 400,
  malformed: 400,
  comment_required: 400,
  comment_too_long: 400,
  unknown: 404,
  reused: 409,
  decided: 409,
  rejected: 409,
  expired: 410,
  outdated: 410,
  unavailable: 503,
};

export type ValidationLinkState =
  | { ok: true; action: ValidationAction; link: ValidationLinkPayload; request: ValidationRequestView }
  | { ok: false; reason: ValidationRefusal; status: number; link?: ValidationLinkPayload; request?: ValidationRequestView; detail?: string };

export type ValidationDecision =
  | { ok: true; action: ValidationAction; request: ValidationRequestView; by: string; comment?: string }
  | Extract<ValidationLinkState, { ok: false }>;

export const MAX_COMMENT_LENGTH = 5000;

const refused = (reason: ValidationRefusal, extra: Omit<Extract<ValidationLinkState, { ok: false }>, 'ok' | 'reason' | 'status'> = {}) =>
  ({ ok: false, reason, status: REFUSAL_STATUS[reason], ...extra }) as const;

async function loadRequest(deps: OutreachDeps, dossierId: string, version: number): Promise<ValidationRequestView | null> {
  const [r] = await deps.sql<any[]>`
    SELECT v.dossier_id, v.version, v.document_id, v.requested_at, v.expires_at, v.email_to, v.email_subject, v.email_text,
           v.decided_at, v.decision, v.comment, v.decided_by,
           (SELECT max(x.version) FROM validation_requests x WHERE x.dossier_id = v.dossier_id) AS current_version,
           d.amount_asked_cents, d.workflow_id, o.name AS org_name, o.slug,
           c.name AS contact_name, c.email AS contact_email,
           s.name AS student_name, s.email AS student_email, tp.name AS tutor_name, tp.email AS tutor_email
    FROM validation_requests v
    JOIN dossiers d ON d.id = v.dossier_id
    JOIN organisations o ON o.id = d.organisation_id
    JOIN contacts c ON c.id = d.contact_id
    JOIN people s ON s.id = d.student_id
    JOIN people tp ON tp.id = v.tutor_id
    WHERE v.dossier_id = ${dossierId} AND v.version = ${version}`;
  if (!r) return null;
  return {
    dossierId: r.dossier_id,
    version: Number(r.version),
    currentVersion: Number(r.current_version),
    documentId: r.document_id,
    sponsor: { name: r.org_name, slug: r.slug },
    contact: { name: r.contact_name, email: r.contact_email },
    student: { name: r.student_name, email: r.student_email },
    tutor: { name: r.tutor_name, email: r.tutor_email },
    amountAskedCents: Number(r.amount_asked_cents),
    requestedAt: r.requested_at,
    expiresAt: r.expires_at,
    email: { to: r.email_to, subject: r.email_subject, text: r.email_text },
    decided: r.decided_at ? { decision: r.decision, at: r.decided_at, by: r.decided_by, comment: r.comment } : null,
    workflowId: r.workflow_id,
  };
}

/**
 * Every check a link must pass, in order, reading only: signature and shape, expiry, the
 * request it names, single use, current version, still undecided. Used by GET (the page) and
 * again by POST before anything is written.
 */
export async function inspectValidationLink(deps: ValidationDeps, token: string): Promise<ValidationLinkState> {
  const now = (deps.now ?? Date.now)();
  const verified = verifyValidationLink(deps.secret, token, now);
  if (!verified.ok) return refused(verified.reason);
  const link = verified.payload;
  const request = await loadRequest(deps, link.d, link.v);
  if (!request) return refused('unknown', { link });
  if (request.expiresAt.getTime() <= now) return refused('expired', { link, request });
  const [used] = await deps.sql`SELECT 1 FROM link_uses WHERE jti = ${link.j}`;
  if (used) return refused('reused', { link, request });
  if (request.version < request.currentVersion) return refused('outdated', { link, request });
  if (request.decided) return refused('decided', { link, request });
  return { ok: true, action: link.a, link, request };
}

const decisionBody = z.object({ comment: z.string().optional() }).loose();

/** Reads the form (urlencoded) or JSON body of a decision. */
export function parseDecisionBody(body: unknown): { comment?: string } {
  if (typeof body === 'string') return { comment: new URLSearchParams(body).get('comment') ?? undefined };
  const parsed = decisionBody.safeParse(body ?? {});
  return parsed.success ? { comment: parsed.data.comment } : {};
}

/**
 * Decides a proposal version through its signed link: checks everything (nothing written on
 * any refusal), records the link's use (a concurrent second use of the same link conflicts
 * here), then sends the decision to the dossier's process. If the process refuses it or cannot
 * be reached, the use is removed again: the link still works and nothing changed.
 */
export async function decideValidation(deps: ValidationDeps, token: string, input: { comment?: string }, lang: Lang): Promise<ValidationDecision> {
  const state = await inspectValidationLink(deps, token);
  if (!state.ok) return state;
  const { link, request } = state;
  const comment = input.comment?.replace(/\r\n/g, '\n').trim() || undefined;
  if (link.a === 'changes' && !comment) return refused('comment_required', { link, request });
  if (comment && comment.length > MAX_COMMENT_LENGTH) return refused('comment_too_long', { link, request, detail: String(comment.length) });

  const by = await decidedBy(deps, link, request);
  const [claimed] = await deps.sql`
    INSERT INTO link_uses (jti, dossier_id, outcome) VALUES (${link.j}, ${link.d}, ${link.a})
    ON CONFLICT (jti) DO NOTHING RETURNING jti`;
  if (!claimed) return refused('reused', { link, request });

  const release = () => deps.sql`DELETE FROM link_uses WHERE jti = ${link.j}`;
  try {
    await deps.client.workflow
      .getHandle(request.workflowId)
      .executeUpdate(decideProposalUpdate, { args: [{ version: link.v, decision: link.a, ...(comment ? { comment } : {}), by }] });
  } catch (error) {
    await release();
    const fresh = await loadRequest(deps, link.d, link.v);
    if (fresh?.decided) return refused('decided', { link, request: fresh });
    if (fresh && fresh.version < fresh.currentVersion) return refused('outdated', { link, request: fresh });
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const { type, message, details } = error.cause;
      if (type === 'OutdatedVersion') {
        const current = Number((details?.[0] as { current?: number } | undefined)?.current);
        return refused('outdated', { link, request: { ...request, currentVersion: Number.isInteger(current) ? current : request.currentVersion + 1 } });
      }
      if (type === WRONG_STAGE) return refused('rejected', { link, request, detail: t('validation.error.notAwaiting', {}, lang) });
      if (type === RELATIONSHIP_ENDED_ERROR) return refused('rejected', { link, request, detail: t('validation.error.ended', {}, lang) });
      return refused('rejected', { link, request, detail: message });
    }
    if (error instanceof WorkflowNotFoundError || (error instanceof Error && /already completed/i.test(error.message))) {
      return refused('rejected', { link, request, detail: t('validation.error.noProcess', {}, lang) });
    }
    return refused('unavailable', { link, request, detail: (error as Error)?.message });
  }
  // The process has the decision; the request row keeps it for the pages (first writer wins).
  await deps.sql`
    UPDATE validation_requests SET decided_at = now(), decision = ${link.a}, comment = ${comment ?? null}, decided_by = ${by}
    WHERE dossier_id = ${link.d} AND version = ${link.v} AND decided_at IS NULL`;
  return { ok: true, action: link.a, request, by, ...(comment ? { comment } : {}) };
}

/** The address the link was sent to (its recipient), else the tutor the request was sent to. */
async function decidedBy(deps: OutreachDeps, link: ValidationLinkPayload, request: ValidationRequestView): Promise<string> {
  if (link.p !== undefined) {
    const [p] = await deps.sql<{ email: string }[]>`SELECT email FROM people WHERE id = ${link.p}`;
    if (p) return p.email;
  }
  return request.tutor.email;
}
