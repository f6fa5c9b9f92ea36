import type { FastifyInstance, FastifyReply } from 'fastify';
import { formatDateTime } from '../../domain/dates';
import { formatEuros } from '../../domain/money';
import { t, type Lang } from '../../i18n';
import {
  MAX_COMMENT_LENGTH,
  decideValidation,
  inspectValidationLink,
  parseDecisionBody,
  type ValidationLinkState,
  type ValidationRequestView,
} from '../../service/validation';
import type { ValidationAction } from '../../domain/signed-link';
import { requestLang, type ApiDeps } from '../app';
import { escapeHtml as e, page } from '../page';

type Refusal = Extract<ValidationLinkState, { ok: false }>;

/** The page of a refused link or decision: what happened, and that nothing was recorded. */
function refusalPage(reply: FastifyReply, lang: Lang, r: Refusal) {
  const req = r.request;
  const message = (() => {
    switch (r.reason) {
      case 'outdated':
        return t('validation.error.outdated', { version: req!.version, current: req!.currentVersion }, lang);
      case 'decided':
        return t(
          'validation.error.decided',
          {
            version: req!.version,
            sponsor: req!.sponsor.name,
            decision: t(`validation.decision.${req!.decided!.decision}`, {}, lang),
            date: formatDateTime(req!.decided!.at, lang),
            by: req!.decided!.by ?? '?',
          },
          lang,
        );
      case 'rejected':
        return t('validation.error.rejected', { reason: r.detail ?? '?' }, lang);
      case 'comment_required':
        return t('validation.page.commentRequired', {}, lang);
      case 'comment_too_long':
        return t('validation.page.commentTooLong', { length: r.detail ?? '?', max: MAX_COMMENT_LENGTH }, lang);
      default:
        return t(`validation.error.${r.reason}`, {}, lang);
    }
  })();
  return page(
    reply,
    r.status,
    lang,
    t('validation.title', {}, lang),
    `<h1>${e(t('validation.title', {}, lang))}</h1><p role="alert">${e(message)}</p><p><strong>${e(t('validation.nothingRecorded', {}, lang))}</strong></p>`,
  );
}

/** The confirmation page: the proposal, the email that will be sent, and one form (no decision on GET). */
function formPage(reply: FastifyReply, status: number, lang: Lang, action: ValidationAction, req: ValidationRequestView, error?: string) {
  const amount = formatEuros(req.amountAskedCents, lang);
  const form =
    action === 'approve'
      ? `<p>${e(t('validation.page.approveNote', {}, lang))}</p>` +
        `<form method="post"><button type="submit">${e(t('validation.page.approveButton', {}, lang))}</button></form>`
      : `<form method="post"><p><label for="comment">${e(t('validation.page.commentLabel', { student: req.student.name }, lang))}</label></p>` +
        `<p><textarea id="comment" name="comment" rows="8" required maxlength="${MAX_COMMENT_LENGTH}" style="width:100%"></textarea></p>` +
        `<button type="submit">${e(t('validation.page.changesButton', {}, lang))}</button></form>`;
  return page(
    reply,
    status,
    lang,
    t('validation.title', {}, lang),
    `<h1>${e(t(`validation.page.heading.${action}`, { sponsor: req.sponsor.name }, lang))}</h1>` +
      `<p>${e(t('validation.page.intro', { student: req.student.name, contact: req.contact.name, sponsor: req.sponsor.name, amount }, lang))}</p>` +
      `<p>${e(t('validation.page.proposal', { version: req.version }, lang))} <a href="/api/documents/${e(req.documentId)}">${e(t('validation.page.pdf', {}, lang))}</a></p>` +
      `<h2>${e(t('validation.page.emailHeading', {}, lang))}</h2>` +
      `<p>${e(t('validation.page.emailTo', {}, lang))} : ${e(req.email.to)}<br>${e(t('validation.page.emailSubject', {}, lang))} : <strong>${e(req.email.subject)}</strong></p>` +
      `<blockquote style="border-left:3px solid #ccc;margin-left:0;padding-left:1em;white-space:pre-wrap">${e(req.email.text)}</blockquote>` +
      `<p>${e(t('validation.page.expires', { date: formatDateTime(req.expiresAt, lang) }, lang))}</p>` +
      (error ? `<p role="alert" style="color:#a00">${e(error)}</p>` : '') +
      form,
  );
}

/**
 * The tutor's validation links. GET shows what the link decides and asks for confirmation
 * (mail scanners follow links: GET never decides); POST decides. Statuses: 200 shown or
 * decided, 400 forged or malformed link (or a missing comment), 404 unknown request,
 * 409 reused link, already decided or refused by the process, 410 expired or outdated, 503 retry.
 */
export const validationRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  const service = { sql: deps.sql, client: deps.client, taskQueue: deps.taskQueue, secret: deps.secret };

  // A wildcard rather than `:token`: tokens (~230 characters) exceed the router's parameter limit.
  app.get<{ Params: { '*': string } }>('/validation/*', async (request, reply) => {
    const lang = requestLang(request);
    const state = await inspectValidationLink(service, request.params['*']);
    if (!state.ok) return refusalPage(reply, lang, state);
    return formPage(reply, 200, lang, state.action, state.request);
  });

  app.post<{ Params: { '*': string } }>('/validation/*', async (request, reply) => {
    const lang = requestLang(request);
    const result = await decideValidation(service, request.params['*'], parseDecisionBody(request.body), lang);
    if (!result.ok) {
      if ((result.reason === 'comment_required' || result.reason === 'comment_too_long') && result.request && result.link) {
        const message = result.reason === 'comment_required' ? t('validation.page.commentRequired', {}, lang) : t('validation.page.commentTooLong', { length: result.detail ?? '?', max: MAX_COMMENT_LENGTH }, lang);
        return formPage(reply, result.status, lang, result.link.a, result.request, message);
      }
      return refusalPage(reply, lang, result);
    }
    const done =
      result.action === 'approve'
        ? t('validation.done.approve', { sponsor: result.request.sponsor.name, version: result.request.version }, lang)
        : t('validation.done.changes', { student: result.request.student.name }, lang);
    return page(reply, 200, lang, t('validation.title', {}, lang), `<h1>${e(t('validation.title', {}, lang))}</h1><p role="status">${e(done)}</p>`);
  });
};
