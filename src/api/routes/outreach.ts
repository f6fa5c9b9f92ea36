import type { FastifyInstance } from 'fastify';
import { dossiersCsv } from '../../service/pipeline';
import { closeOutreach, listOutreach, outreachStatus, recordReply, restartFollowUps, startOutreach } from '../../service/outreach';
import type { ApiDeps } from '../app';

type SponsorParams = { Params: { sponsor: string } };

export const outreachRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  app.get<{ Querystring: { all?: string } }>('/api/outreach', async (request) => listOutreach(deps.sql, { all: request.query.all === 'true' }));
  app.get('/api/outreach.csv', async (_request, reply) =>
    reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="dossiers.csv"').send(await dossiersCsv(deps.sql)),
  );
  app.post('/api/outreach', async (request, reply) => reply.status(201).send(await startOutreach(deps, request.body)));
  app.get<SponsorParams>('/api/outreach/:sponsor', async (request) => outreachStatus(deps, request.params.sponsor));
  app.post<SponsorParams>('/api/outreach/:sponsor/reply', async (request) => recordReply(deps, request.params.sponsor, request.body ?? {}));
  app.post<SponsorParams>('/api/outreach/:sponsor/close', async (request) => closeOutreach(deps, request.params.sponsor, request.body ?? {}));
  app.post<SponsorParams>('/api/outreach/:sponsor/restart', async (request) =>
    restartFollowUps(deps, request.params.sponsor, (request.body as { by?: string } | undefined) ?? {}),
  );
};
