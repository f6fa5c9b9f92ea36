import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/sql';
import type { SendSettings } from '../domain/send-rules';
import { currentLanguage, type Lang } from '../i18n';
import { describeError } from '../i18n/errors';
import type { MailStore } from '../mail/catcher';
import type { AssociationProfile } from '../templates/association';
import { applicationsRoutes } from './routes/applications';
import { approvalRoutes } from './routes/approval';
import { documentRoutes } from './routes/documents';
import { mailRoutes } from './routes/mail';
import { optOutRoutes } from './routes/opt-out';
import { outreachRoutes } from './routes/outreach';
import { peopleRoutes } from './routes/people';
import { pipelineRoutes } from './routes/pipeline';
import { relationshipRoutes } from './routes/relationship';
import { reportRoutes } from './routes/report';
import { sponsorRoutes } from './routes/sponsors';
import { validationRoutes } from './routes/validation';

export interface ApiDeps {
  sql: Sql;
  client: Client;
  taskQueue: string;
  /** The local mail catcher's store; null when a real SMTP relay is configured. */
  mailStore: MailStore | null;
  secret: string;
  associationName: string;
  /** templates/association.yaml, for documents the API renders (the report's letterhead). */
  association?: AssociationProfile;
  documentsDir: string;
  logger?: boolean | object;
  /** Send window and caps for the outreach started through the API (config `SEND_*`). */
  sending?: SendSettings;
}

/** The language of the answer: `?lang=en`, else Accept-Language, else the configured one. */
export function requestLang(request: FastifyRequest): Lang {
  const query = (request.query as { lang?: string } | undefined)?.lang;
  if (query === 'en' || query === 'fr') return query;
  const accept = request.headers['accept-language'];
  if (accept) return accept.trim().toLowerCase().startsWith('en') ? 'en' : 'fr';
  return currentLanguage();
}

/** Builds the HTTP API; server.ts and `npm start` only make it listen, tests use `inject`. */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: 5 * 1024 * 1024 });
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    const lang = requestLang(request);
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    if (fastifyError.statusCode && fastifyError.statusCode < 500 && fastifyError.code?.startsWith('FST_')) {
      const message = lang === 'fr' ? `Requête invalide : ${fastifyError.message}` : `Bad request: ${fastifyError.message}`;
      return reply.status(fastifyError.statusCode).send({ error: { code: 'bad_request', message } });
    }
    const described = describeError(error, lang);
    if (described.status >= 500) request.log.error(error);
    return reply.status(described.status).send({ error: { code: described.code, message: described.message, ...(described.details ? { details: described.details } : {}) } });
  });
  app.setNotFoundHandler((request, reply) => {
    const lang = requestLang(request);
    reply.status(404).send({ error: { code: 'not_found', message: lang === 'fr' ? `Route inconnue : ${request.method} ${request.url}` : `Unknown route: ${request.method} ${request.url}` } });
  });

  app.get('/api/health', async () => ({ ok: true }));
  await app.register(peopleRoutes(deps));
  await app.register(sponsorRoutes(deps));
  await app.register(outreachRoutes(deps));
  await app.register(documentRoutes(deps));
  await app.register(mailRoutes(deps));
  await app.register(optOutRoutes(deps));
  await app.register(applicationsRoutes(deps));
  await app.register(approvalRoutes(deps));
  await app.register(pipelineRoutes(deps));
  await app.register(reportRoutes(deps));
  await app.register(relationshipRoutes(deps));
  await app.register(validationRoutes(deps));
  return app;
}
