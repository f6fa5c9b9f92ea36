import nodemailer from 'nodemailer';
import path from 'node:path';
import type { ActivityDeps } from '../activities';
import type { Config } from '../config';
import type { Sql } from '../db/sql';
import { loadAssociation } from '../templates/association';
import { loadMailTemplates } from '../templates/mail';
import { resolveSecret } from './secret';

/** "Name <address>" or a bare address. */
export function parseMailbox(text: string): { name: string; address: string } {
  const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(text);
  return m ? { name: m[1].replace(/^"|"$/g, ''), address: m[2] } : { name: '', address: text.trim() };
}

/** Builds what activities need, once per worker: templates compiled, one pooled SMTP transport. */
export async function buildActivityDeps(config: Config, sql: Sql, smtpUrl: string): Promise<ActivityDeps> {
  const [templates, association, secret] = await Promise.all([
    loadMailTemplates(config.templatesDir),
    loadAssociation(config.templatesDir),
    resolveSecret(config.secret, config.dataDir),
  ]);
  const transport = createSmtpTransport(smtpUrl);
  return {
    sql,
    transport,
    templates,
    association,
    documentsDir: path.join(config.dataDir, 'documents'),
    mailFrom: config.mailFrom ? parseMailbox(config.mailFrom) : { name: association.name, address: association.email },
    publicUrl: config.http.publicUrl,
    secret,
  };
}

/** A pooled nodemailer transport from smtp://user:pass@host:port (smtps:// for implicit TLS). */
export function createSmtpTransport(smtpUrl: string) {
  const url = new URL(smtpUrl);
  return nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    pool: true,
    maxConnections: 5,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 60_000,
  });
}
