import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../app';

export const applicationsRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  void deps;
  void app;
};
