import type { Sql } from '../src/db/sql';

/** N sponsors with one contact each, a student and a tutor, inserted in bulk. */
export async function seedSponsors(sql: Sql, n: number, prefix: string) {
  const [student] = await sql<{ id: number }[]>`
    INSERT INTO people (name, email, role) VALUES ('Camille Martin', ${`camille.${prefix}@etu.test`}, 'student') RETURNING id`;
  const [tutor] = await sql<{ id: number }[]>`
    INSERT INTO people (name, email, role) VALUES ('Jérôme Leroy', ${`jerome.${prefix}@tut.test`}, 'tutor') RETURNING id`;
  const sponsors: { id: number; slug: string; name: string; contactId: number }[] = [];
  for (let start = 0; start < n; start += 1000) {
    const rows = Array.from({ length: Math.min(1000, n - start) }, (_, k) => {
      const i = start + k;
      return { slug: `${prefix}-${i}`, name: `Entreprise Générale ${prefix} n° ${i}`, kind: 'company' };
    });
    const orgs = await sql<{ id: number; slug: string; name: string }[]>`INSERT INTO organisations ${sql(rows)} RETURNING id, slug, name`;
    const contacts = await sql<{ id: number; organisation_id: number }[]>`
      INSERT INTO contacts ${sql(orgs.map((o) => ({ organisation_id: o.id, name: 'Hélène Dupré', email: `contact@${o.slug}.test`, source: 'bench' })))}
      RETURNING id, organisation_id`;
    const byOrg = new Map(contacts.map((c) => [Number(c.organisation_id), Number(c.id)]));
    for (const o of orgs) sponsors.push({ id: Number(o.id), slug: o.slug, name: o.name, contactId: byOrg.get(Number(o.id))! });
  }
  return { studentId: Number(student.id), tutorId: Number(tutor.id), sponsors };
}
