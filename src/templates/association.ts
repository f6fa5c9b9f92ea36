import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import type { Lang } from '../domain/money';

const localisedProject = z.strictObject({
  title: z.string().trim().min(1),
  summary: z.string().trim().min(1),
  paragraphs: z.array(z.string().trim().min(1)).min(1),
});

/** templates/association.yaml: who the association is and what it asks support for. */
export const associationSchema = z.strictObject({
  name: z.string().trim().min(1),
  address: z.array(z.string().trim().min(1)).min(1),
  email: z.email(),
  phone: z.string().optional(),
  website: z.url().optional(),
  rna: z.string().optional(),
  siret: z.string().optional(),
  purpose: z.string().trim().min(1),
  /** Legal form as receipts and agreements state it, e.g. "Association régie par la loi du 1er juillet 1901". */
  legalForm: z.string().trim().min(1),
  /** Why gifts are tax-deductible: the quality a Cerfa n° 16216 receipt names (organisme d'intérêt général…). */
  taxStatus: z.string().trim().min(1),
  /** Who signs receipts and sponsorship agreements (the president or the treasurer), in text. */
  signatory: z.strictObject({ name: z.string().trim().min(1), title: z.string().trim().min(1) }),
  project: z.strictObject({ fr: localisedProject, en: localisedProject }),
  budget: z
    .array(z.strictObject({ fr: z.string().min(1), en: z.string().min(1), euros: z.number().int().nonnegative() }))
    .min(1),
});
export type AssociationProfile = z.infer<typeof associationSchema>;

export async function loadAssociation(templatesDir: string): Promise<AssociationProfile> {
  const file = path.join(templatesDir, 'association.yaml');
  const parsed = associationSchema.safeParse(YAML.parse(await readFile(file, 'utf8')));
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.')} : ${i.message}`).join(' ; ');
    throw new Error(`${file} : ${details}`);
  }
  return parsed.data;
}

/** The association's project and budget in one language, as the proposal PDF needs them. */
export function localise(profile: AssociationProfile, lang: Lang) {
  return {
    association: {
      name: profile.name,
      address: profile.address,
      email: profile.email,
      phone: profile.phone,
      website: profile.website,
      rna: profile.rna,
      siret: profile.siret,
      purpose: profile.purpose,
    },
    project: profile.project[lang],
    budget: profile.budget.map((line) => ({ label: line[lang], amountCents: line.euros * 100 })),
  };
}
