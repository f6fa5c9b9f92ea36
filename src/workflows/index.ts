// The worker's workflowsPath: workflow functions only.
export { sponsorOutreach } from './sponsor-outreach/workflow';
