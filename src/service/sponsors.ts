import type { Sql } from '../db/sql';
import { CsvSyntaxError, parseCsv } from '../domain/csv';
import { MeceneError, type FieldIssue } from '../domain/errors';
import { describeIssues, sponsorInput, type SponsorInput } from '../domain/schemas';
import { slugify } from '../domain/slug';
import { parseInput } from './validate';

export interface Contact {
  id: number;
  name: string;
  email: string;
  role: string | null;
  source: string;
  optedOut: boolean;
}

export interface Sponsor {
  id: number;
  slug: string;
  name: string;
  kind: string;
  category: string | null;
  website: string | null;
  notes: string | null;
  contacts: Contact[];
}

async function uniqueSlug(sql: Sql, base: string): Promise<string> {
  const taken = new Set(
    (await sql<{ slug: string }[]>`SELECT slug FROM organisations WHERE slug = ${base} OR slug LIKE ${base + '-%'}`).map((r) => r.slug),
  );
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

async function insertSponsor(sql: Sql, input: SponsorInput, slug: string): Promise<number> {
  const [org] = await sql<{ id: number }[]>`
    INSERT INTO organisations (slug, name, kind, category, website, notes)
    VALUES (${slug}, ${input.name}, ${input.kind}, ${input.category ?? null}, ${input.website ?? null}, ${input.notes ?? null})
    RETURNING id`;
  await sql`
    INSERT INTO contacts (organisation_id, name, email, role, source)
    VALUES (${org.id}, ${input.contactName}, ${input.contactEmail}, ${input.contactRole ?? null}, ${input.source})`;
  return Number(org.id);
}

/** Registers a sponsor with its first contact, in one transaction. */
export async function addSponsor(sql: Sql, raw: unknown): Promise<Sponsor> {
  const input = parseInput(sponsorInput, raw);
  const id = await sql.begin(async (tx) => {
    const slug = input.slug ?? (await uniqueSlug(tx as unknown as Sql, slugify(input.name)));
    const [clash] = await tx`SELECT 1 FROM organisations WHERE slug = ${slug}`;
    if (clash) throw new MeceneError('error.duplicateSponsor', { slug }, 409);
    return insertSponsor(tx as unknown as Sql, input, slug);
  });
  return (await getSponsor(sql, String(id)))!;
}

export async function listSponsors(sql: Sql): Promise<Sponsor[]> {
  const orgs = await sql<any[]>`SELECT * FROM organisations ORDER BY name`;
  const contacts = await sql<any[]>`SELECT * FROM contacts ORDER BY id`;
  return orgs.map((o) => toSponsor(o, contacts.filter((c) => Number(c.organisation_id) === Number(o.id))));
}

/** Finds a sponsor by its identifier (slug) or number. */
export async function getSponsor(sql: Sql, ref: string): Promise<Sponsor | null> {
  const key = ref.trim().toLowerCase();
  const [org] = /^\d+$/.test(key)
    ? await sql<any[]>`SELECT * FROM organisations WHERE id = ${Number(key)}`
    : await sql<any[]>`SELECT * FROM organisations WHERE slug = ${key}`;
  if (!org) return null;
  const contacts = await sql<any[]>`SELECT * FROM contacts WHERE organisation_id = ${org.id} ORDER BY id`;
  return toSponsor(org, contacts);
}

export async function requireSponsor(sql: Sql, ref: string): Promise<Sponsor> {
  const sponsor = await getSponsor(sql, ref);
  if (!sponsor) throw new MeceneError('error.unknownSponsor', { ref }, 404);
  return sponsor;
}

function toSponsor(o: any, contacts: any[]): Sponsor {
  return {
    id: Number(o.id),
    slug: o.slug,
    name: o.name,
    kind: o.kind,
    category: o.category,
    website: o.website,
    notes: o.notes,
    contacts: contacts.map((c) => ({ id: Number(c.id), name: c.name, email: c.email, role: c.role, source: c.source, optedOut: c.opted_out_at !== null })),
  };
}

/** CSV headers, English or French, mapped to input fields. */
const COLUMNS: Record<string, keyof SponsorInput> = {
  name: 'name', nom: 'name',
  slug: 'slug', identifiant: 'slug',
  kind: 'kind', type: 'kind',
  category: 'category', categorie: 'category', 'catégorie': 'category',
  website: 'website', site: 'website', site_web: 'website',
  notes: 'notes',
  contact_name: 'contactName', contact_nom: 'contactName',
  contact_email: 'contactEmail', contact_courriel: 'contactEmail',
  contact_role: 'contactRole', contact_fonction: 'contactRole',
  source: 'source',
};

export interface RejectedRow {
  line: number;
  issues: FieldIssue[];
}

export interface ImportReport {
  imported: { line: number; slug: string; name: string }[];
  rejected: RejectedRow[];
}

/** Raised when a file has invalid rows and nothing was imported. */
export class CsvRejectedError extends MeceneError {
  constructor(readonly file: string, readonly rejected: RejectedRow[]) {
    super('error.csvInvalid', { count: rejected.length, file }, 422);
  }
}

/**
 * Imports sponsors from a CSV file: every row is validated first; with any invalid row nothing
 * is written unless `skipInvalid`, and then the valid rows go in one transaction.
 */
export async function importSponsorsCsv(sql: Sql, text: string, opts: { file: string; skipInvalid?: boolean }): Promise<ImportReport> {
  let parsed;
  try {
    parsed = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new MeceneError('error.csvParse', { file: opts.file, message: error.message }, 400);
    throw error;
  }
  const unknown = parsed.headers.filter((h) => !(h.toLowerCase() in COLUMNS));
  if (unknown.length) {
    throw new MeceneError('error.csvParse', { file: opts.file, message: `colonnes inconnues / unknown columns: ${unknown.join(', ')} (attendues / expected: ${[...new Set(Object.keys(COLUMNS))].join(', ')})` }, 400);
  }
  const valid: { line: number; input: SponsorInput; slug: string }[] = [];
  const rejected: RejectedRow[] = [];
  const existing = new Set((await sql<{ slug: string }[]>`SELECT slug FROM organisations`).map((r) => r.slug));
  const seen = new Set<string>();
  for (const record of parsed.records) {
    const raw: Record<string, string> = {};
    for (const [header, value] of Object.entries(record.values)) if (value.trim() !== '') raw[COLUMNS[header.toLowerCase()]] = value;
    const result = sponsorInput.safeParse(raw);
    if (!result.success) {
      rejected.push({ line: record.line, issues: describeIssues(result.error) });
      continue;
    }
    const slug = result.data.slug ?? slugify(result.data.name);
    if (existing.has(slug) || seen.has(slug)) {
      rejected.push({ line: record.line, issues: [{ field: 'slug', problem: `« ${slug} » existe déjà / already exists` }] });
      continue;
    }
    seen.add(slug);
    valid.push({ line: record.line, input: result.data, slug });
  }
  if (rejected.length && !opts.skipInvalid) throw new CsvRejectedError(opts.file, rejected);
  await sql.begin(async (tx) => {
    for (const row of valid) await insertSponsor(tx as unknown as Sql, row.input, row.slug);
  });
  return { imported: valid.map((v) => ({ line: v.line, slug: v.slug, name: v.input.name })), rejected };
}
