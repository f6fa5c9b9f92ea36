import type { FastifyInstance } from 'fastify';
import { MeceneError } from '../../domain/errors';
import type { MailStore } from '../../mail/catcher';
import type { ApiDeps } from '../app';

/** The local catcher's mailbox, for development: what Mécène would have sent. */
export const mailRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  const store = (): MailStore => {
    if (!deps.mailStore) throw new MeceneError('error.catcherDisabled', {}, 404);
    return deps.mailStore;
  };
  app.get('/api/mail', async () => store().list());
  app.get<{ Params: { id: string } }>('/api/mail/:id', async (request) => {
    const mail = await store().get(request.params.id);
    if (!mail) throw new MeceneError('error.mailNotFound', { id: request.params.id }, 404);
    return mail;
  });
  app.get<{ Params: { id: string } }>('/api/mail/:id/raw', async (request, reply) => {
    const raw = await store().raw(request.params.id);
    if (!raw) throw new MeceneError('error.mailNotFound', { id: request.params.id }, 404);
    return reply.type('message/rfc822').send(raw);
  });
  app.get<{ Params: { id: string; index: string } }>('/api/mail/:id/attachments/:index', async (request, reply) => {
    const attachment = await store().attachment(request.params.id, Number(request.params.index));
    if (!attachment) throw new MeceneError('error.mailNotFound', { id: `${request.params.id}/${request.params.index}` }, 404);
    return reply
      .type(attachment.contentType)
      .header('content-disposition', `attachment; filename="${attachment.filename.replace(/"/g, '')}"`)
      .send(attachment.content);
  });
};
