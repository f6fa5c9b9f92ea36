import { MeceneError } from '../domain/errors';
import { verifyValidationLink, type ValidationLinkPayload } from '../domain/signed-link';
import { describeError } from '../i18n/errors';
import type { Lang } from '../i18n';
import { applicationStatusQuery, fundingApplicationId, type ApplicationStatus } from '../workflows/funding-application/messages';
import { reviewApplication, signOffBudget, type ApplicationDeps } from './applications';

/**
 * The signed links of a funding application's tutor review and treasurer sign-off: checked
 * (signature, expiry, current round, single use) before the step is sent to the process with
 * the recipient's identity, whose role the service checks as for the CLI.
 */
export type ApprovalRefusal = 'invalid' | 'expired' | 'used' | 'outdated' | 'refused';
export const APPROVAL_STATUS: Record<ApprovalRefusal, number> = { invalid: 400, expired: 410, outdated: 410, used: 409, refused: 409 };

export interface ApprovalLink {
  payload: ValidationLinkPayload & { m: 'tutor_review' | 'treasurer_signoff'; p: number };
  application: { funder: string; programme: string; stage: string };
}

export type ApprovalState = { ok: true; link: ApprovalLink } | { ok: false; reason: ApprovalRefusal; detail?: string };

export async function inspectApprovalLink(deps: ApplicationDeps & { secret: string }, token: string): Promise<ApprovalState> {
  const verified = verifyValidationLink(deps.secret, token, Date.now(), 'application-approval');
  if (!verified.ok) return { ok: false, reason: verified.reason === 'expired' ? 'expired' : 'invalid' };
  const payload = verified.payload;
  if (!payload.m || !payload.p) return { ok: false, reason: 'invalid' };
  const [used] = await deps.sql`SELECT 1 FROM application_link_uses WHERE jti = ${payload.j}`;
  if (used) return { ok: false, reason: 'used' };
  let live: ApplicationStatus;
  try {
    live = await deps.client.workflow.getHandle(fundingApplicationId(payload.d)).query(applicationStatusQuery);
  } catch {
    return { ok: false, reason: 'outdated' };
  }
  const expectedStage = payload.m === 'tutor_review' ? 'review' : 'signoff';
  if (live.stage !== expectedStage || live.approvalRequests?.[payload.m] !== payload.v) return { ok: false, reason: 'outdated' };
  return { ok: true, link: { payload: payload as ApprovalLink['payload'], application: { funder: live.funder.name, programme: live.programme, stage: live.stage } } };
}

/** Decides through the link: recorded once, and only if the process accepts the step. */
export async function decideApprovalLink(deps: ApplicationDeps & { secret: string }, token: string, input: { comment?: string }, lang: Lang): Promise<ApprovalState> {
  const state = await inspectApprovalLink(deps, token);
  if (!state.ok) return state;
  const { payload } = state.link;
  if (payload.a === 'changes' && !input.comment?.trim()) return { ok: false, reason: 'refused', detail: lang === 'fr' ? 'un commentaire est nécessaire' : 'a comment is required' };
  const [person] = await deps.sql<{ email: string }[]>`SELECT email FROM people WHERE id = ${payload.p}`;
  if (!person) return { ok: false, reason: 'invalid' };
  const claimed = await deps.sql`
    INSERT INTO application_link_uses (jti, application_id, milestone, outcome) VALUES (${payload.j}, ${payload.d}, ${payload.m}, ${payload.a})
    ON CONFLICT (jti) DO NOTHING RETURNING jti`;
  if (!claimed.length) return { ok: false, reason: 'used' };
  const ref = payload.d;
  try {
    if (payload.m === 'treasurer_signoff') await signOffBudget(deps, ref, { by: person.email });
    else if (payload.a === 'approve') await reviewApplication(deps, ref, { decision: 'approve', by: person.email });
    else await reviewApplication(deps, ref, { decision: 'changes', comment: input.comment!.trim(), by: person.email });
  } catch (error) {
    // Nothing was recorded: the link still works once the reason is fixed.
    await deps.sql`DELETE FROM application_link_uses WHERE jti = ${payload.j}`;
    if (error instanceof MeceneError) return { ok: false, reason: 'refused', detail: describeError(error, lang).message };
    throw error;
  }
  return state;
}
