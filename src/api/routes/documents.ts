import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { MeceneError } from '../../domain/errors';
import type { ApiDeps } from '../app';

export const documentRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  app.get<{ Params: { id: string } }>('/api/documents/:id', async (request, reply) => {
    if (!/^[0-9a-f-]{36}$/.test(request.params.id)) throw new MeceneError('error.notFound', {}, 404);
    const [doc] = await deps.sql<{ path: string; kind: string; version: number }[]>`SELECT path, kind, version FROM documents WHERE id = ${request.params.id}`;
    if (!doc) throw new MeceneError('error.notFound', {}, 404);
    const content = await readFile(path.join(deps.documentsDir, doc.path));
    return reply.type('application/pdf').header('content-disposition', `inline; filename="${path.basename(doc.path)}"`).send(content);
  });
};
