import type { FastifyInstance, FastifyReply } from 'fastify';
import { verifyOptOutToken } from '../../domain/opt-out';
import { t, type Lang } from '../../i18n';
import { requestLang, type ApiDeps } from '../app';
import { escapeHtml as escape, page as htmlPage } from '../page';

const page = (reply: FastifyReply, status: number, lang: Lang, body: string) => htmlPage(reply, status, lang, t('optout.title', {}, lang), body);

/**
 * The objection link of every outreach email (CNIL). GET shows a confirmation (mail scanners
 * follow links); POST records it, which is also what RFC 8058 one-click unsubscribe sends.
 */
export const optOutRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  const contactFor = async (token: string) => {
    const id = verifyOptOutToken(deps.secret, token);
    if (id === null) return null;
    const [contact] = await deps.sql<{ id: number; email: string }[]>`SELECT id, email FROM contacts WHERE id = ${id}`;
    return contact ?? null;
  };
  app.get<{ Params: { token: string } }>('/opt-out/:token', async (request, reply) => {
    const lang = requestLang(request);
    const contact = await contactFor(request.params.token);
    if (!contact) return page(reply, 404, lang, `<p>${escape(t('optout.invalid', {}, lang))}</p>`);
    const question = t('optout.confirm', { association: deps.associationName, email: contact.email }, lang);
    return page(
      reply,
      200,
      lang,
      `<h1>${escape(t('optout.title', {}, lang))}</h1><p>${escape(question)}</p>` +
        `<form method="post"><button type="submit">${escape(t('optout.button', {}, lang))}</button></form>`,
    );
  });
  app.post<{ Params: { token: string } }>('/opt-out/:token', async (request, reply) => {
    const lang = requestLang(request);
    const contact = await contactFor(request.params.token);
    if (!contact) return page(reply, 404, lang, `<p>${escape(t('optout.invalid', {}, lang))}</p>`);
    // Permanent and address-wide: the same person at another organisation objected too.
    await deps.sql`UPDATE contacts SET opted_out_at = COALESCE(opted_out_at, now()) WHERE email = ${contact.email}`;
    return page(reply, 200, lang, `<p>${escape(t('optout.done', { association: deps.associationName, email: contact.email }, lang))}</p>`);
  });
};
