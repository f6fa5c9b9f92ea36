import type { FastifyInstance, FastifyReply } from 'fastify';
import { t, type Lang } from '../../i18n';
import { APPROVAL_STATUS, decideApprovalLink, inspectApprovalLink, type ApprovalState } from '../../service/application-links';
import { requestLang, type ApiDeps } from '../app';
import { escapeHtml as e, page } from '../page';

const milestoneWords = (m: 'tutor_review' | 'treasurer_signoff', lang: Lang) => t(`milestone.${m}`, {}, lang);

function refusal(reply: FastifyReply, lang: Lang, state: Extract<ApprovalState, { ok: false }>) {
  const text = state.reason === 'refused' ? t('approval.refused', { reason: state.detail ?? '' }, lang) : t(`approval.${state.reason}`, {}, lang);
  return page(reply, APPROVAL_STATUS[state.reason], lang, t('approval.title', {}, lang), `<h1>${e(t('approval.title', {}, lang))}</h1><p role="alert">${e(text)}</p>`);
}

/**
 * The links of a funding application's review and sign-off emails. GET only shows what the
 * link would decide (mail scanners follow links); POST decides, once.
 */
export const approvalRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  const service = { sql: deps.sql, client: deps.client, taskQueue: deps.taskQueue, secret: deps.secret };
  // A wildcard: tokens are longer than the router's parameter limit.
  app.get<{ Params: { '*': string } }>('/approval/*', async (request, reply) => {
    const lang = requestLang(request);
    const state = await inspectApprovalLink(service, request.params['*']);
    if (!state.ok) return refusal(reply, lang, state);
    const { payload, application } = state.link;
    const name = `${application.funder} — ${application.programme}`;
    const form =
      payload.a === 'approve'
        ? `<p>${e(t('approval.confirm.approve', { milestone: milestoneWords(payload.m, lang), application: name }, lang))}</p><form method="post"><button type="submit">${e(t('approval.button.approve', {}, lang))}</button></form>`
        : `<p>${e(t('approval.confirm.changes', { application: name }, lang))}</p><form method="post"><label>${e(t('approval.comment', {}, lang))}<br><textarea name="comment" rows="6" cols="60" required></textarea></label><br><button type="submit">${e(t('approval.button.changes', {}, lang))}</button></form>`;
    return page(reply, 200, lang, t('approval.title', {}, lang), `<h1>${e(t('approval.title', {}, lang))}</h1>${form}`);
  });
  app.post<{ Params: { '*': string } }>('/approval/*', async (request, reply) => {
    const lang = requestLang(request);
    const body = typeof request.body === 'string' ? new URLSearchParams(request.body) : null;
    const comment = body?.get('comment') ?? (request.body as { comment?: string } | undefined)?.comment;
    const state = await decideApprovalLink(service, request.params['*'], { comment: comment ?? undefined }, lang);
    if (!state.ok) return refusal(reply, lang, state);
    const { payload, application } = state.link;
    const done = t('approval.done', { milestone: milestoneWords(payload.m, lang), application: `${application.funder} — ${application.programme}` }, lang);
    return page(reply, 200, lang, t('approval.title', {}, lang), `<h1>${e(t('approval.title', {}, lang))}</h1><p role="status">${e(done)}</p>`);
  });
};
