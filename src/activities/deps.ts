import type { Transporter } from 'nodemailer';
import type { Sql } from '../db/sql';
import type { AssociationProfile } from '../templates/association';
import type { MailTemplates } from '../templates/mail';

/** What activities need from the outside world; the worker builds it once, tests hand in their own. */
export interface ActivityDeps {
  sql: Sql;
  transport: Transporter;
  templates: MailTemplates;
  association: AssociationProfile;
  /** Where generated PDFs are written (documents.path is relative to it). */
  documentsDir: string;
  mailFrom: { name: string; address: string };
  /** Base URL of the HTTP API, for links in emails. */
  publicUrl: string;
  /** Signs opt-out links. */
  secret: string;
}
