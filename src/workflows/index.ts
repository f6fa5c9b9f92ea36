// The worker's workflowsPath: workflow functions only.
export { sponsorOutreach } from './sponsor-outreach/workflow';
export { fundingApplication } from './funding-application/workflow';
export { fortnightlyDigest } from './digest/workflow';
