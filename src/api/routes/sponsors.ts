import type { FastifyInstance } from 'fastify';
import { MeceneError } from '../../domain/errors';
import { addSponsor, importSponsorsCsv, listSponsors, requireSponsor } from '../../service/sponsors';
import type { ApiDeps } from '../app';

export const sponsorRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  app.get('/api/sponsors', async () => listSponsors(deps.sql));
  app.get<{ Params: { ref: string } }>('/api/sponsors/:ref', async (request) => requireSponsor(deps.sql, request.params.ref));
  app.post('/api/sponsors', async (request, reply) => reply.status(201).send(await addSponsor(deps.sql, request.body)));
  // Body: the CSV file itself (Content-Type: text/csv). ?skipInvalid=true imports the valid rows only.
  app.post<{ Querystring: { skipInvalid?: string; file?: string } }>('/api/sponsors/import', async (request, reply) => {
    if (typeof request.body !== 'string') throw new MeceneError('error.csvParse', { file: 'requête', message: 'Content-Type: text/csv attendu / expected' }, 415);
    const report = await importSponsorsCsv(deps.sql, request.body, { file: request.query.file ?? 'import.csv', skipInvalid: request.query.skipInvalid === 'true' });
    return reply.status(201).send(report);
  });
};
