import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../app';

export const pipelineRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  void deps;
  void app;
};
