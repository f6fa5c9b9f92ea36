import type { FastifyInstance } from 'fastify';
import {
  addFunder,
  applicationStatus,
  completeDraft,
  listApplications,
  markDocumentReady,
  moveDeadline,
  recordDecision,
  recordMoney,
  recordReportSubmitted,
  recordSubmission,
  reviewApplication,
  signOffBudget,
  startApplication,
  withdrawApplication,
  type ApplicationDeps,
} from '../../service/applications';
import type { ApplicationStatus } from '../../workflows/funding-application/messages';
import type { ApiDeps } from '../app';

type Ref = { Params: { ref: string } };
type Step = (deps: ApplicationDeps, ref: string, raw: unknown) => Promise<ApplicationStatus>;

/** Funders and funding applications: every step of the process is a POST on the application. */
export const applicationsRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  app.post('/api/funders', async (request, reply) => reply.status(201).send(await addFunder(deps.sql, request.body)));
  app.get<{ Querystring: { all?: string } }>('/api/applications', async (request) => listApplications(deps.sql, { all: request.query.all === 'true' }));
  app.post('/api/applications', async (request, reply) => reply.status(201).send(await startApplication(deps, request.body)));
  app.get<Ref>('/api/applications/:ref', async (request) => applicationStatus(deps, request.params.ref));
  const steps: Record<string, Step> = {
    documents: markDocumentReady,
    'draft-done': completeDraft,
    review: reviewApplication,
    'sign-off': signOffBudget,
    submit: recordSubmission,
    deadline: moveDeadline,
    decision: recordDecision,
    money: recordMoney,
    reports: recordReportSubmitted,
    withdraw: withdrawApplication,
  };
  for (const [path, step] of Object.entries(steps)) {
    app.post<Ref>(`/api/applications/:ref/${path}`, async (request) => step(deps, request.params.ref, request.body ?? {}));
  }
};
