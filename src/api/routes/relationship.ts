import type { FastifyInstance } from 'fastify';
import {
  endDossier,
  handOverDossier,
  pauseDossier,
  recordMeetingResult,
  recordPayment,
  recordPledge,
  resubmitProposal,
  resumeDossier,
  scheduleMeeting,
} from '../../service/relationship';
import type { OutreachDeps } from '../../service/outreach';
import type { RelationshipState } from '../../workflows/sponsor-outreach/messages';
import type { ApiDeps } from '../app';

type Step = (deps: OutreachDeps, ref: string, raw: unknown) => Promise<RelationshipState>;

/** The steps of a whole sponsor relationship: each one a POST on the sponsor's outreach. */
export const relationshipRoutes = (deps: ApiDeps) => async (app: FastifyInstance) => {
  const steps: Record<string, Step> = {
    resubmit: resubmitProposal,
    meeting: scheduleMeeting,
    'meeting-result': recordMeetingResult,
    pledge: recordPledge,
    payment: recordPayment,
    pause: pauseDossier,
    resume: resumeDossier,
    handover: handOverDossier,
    end: endDossier,
  };
  for (const [path, step] of Object.entries(steps)) {
    app.post<{ Params: { sponsor: string } }>(`/api/outreach/:sponsor/${path}`, async (request) => step(deps, request.params.sponsor, request.body ?? {}));
  }
};
