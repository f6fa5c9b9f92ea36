import type { Sql } from '../db/sql';
import { MeceneError } from '../domain/errors';
import { personInput, type Role } from '../domain/schemas';
import { parseInput } from './validate';

export interface Person {
  id: number;
  name: string;
  email: string;
  role: Role;
}

export async function addPerson(sql: Sql, raw: unknown): Promise<Person> {
  const input = parseInput(personInput, raw);
  const [row] = await sql<Person[]>`
    INSERT INTO people (name, email, role) VALUES (${input.name}, ${input.email}, ${input.role})
    ON CONFLICT (email) DO NOTHING
    RETURNING id, name, email, role`;
  if (!row) throw new MeceneError('error.duplicatePerson', { email: input.email }, 409);
  return { ...row, id: Number(row.id) };
}

export async function listPeople(sql: Sql): Promise<Person[]> {
  const rows = await sql<Person[]>`SELECT id, name, email, role FROM people ORDER BY role, name`;
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/**
 * The person with this address, who must hold this role (or one of these roles): a tutor cannot
 * own a dossier as a student, a student cannot sign off a budget.
 */
export async function personWithRole(sql: Sql, email: string, role: Role | Role[]): Promise<Person> {
  const roles = Array.isArray(role) ? role : [role];
  const [row] = await sql<Person[]>`SELECT id, name, email, role FROM people WHERE email = ${email.toLowerCase()}`;
  if (!row) throw new MeceneError('error.unknownPerson', { email }, 404);
  if (!roles.includes(row.role)) {
    // One role expected: the owner of a new dossier (422); several: someone acting on one (403).
    const status = Array.isArray(role) ? 403 : 422;
    throw new MeceneError('error.wrongRole', { email, actual: { key: `role.${row.role}` }, expected: roles.length === 1 ? { key: `role.${roles[0]}` } : { anyOf: roles.map((r) => `role.${r}` as const) } }, status);
  }
  return { ...row, id: Number(row.id) };
}
