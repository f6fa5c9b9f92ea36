import type { FastifyInstance } from 'fastify';
import { addPerson, listPeople } from '../../service/people';
import type { ApiDeps } from '../app';

export const peopleRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  app.get('/api/people', async () => listPeople(deps.sql));
  app.post('/api/people', async (request, reply) => reply.status(201).send(await addPerson(deps.sql, request.body)));
};
