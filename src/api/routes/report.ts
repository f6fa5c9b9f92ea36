import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../app';

export const reportRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  void deps;
  void app;
};
