import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Signed validation links: what a tutor clicks to approve a proposal or request changes.
 * A token is `base64url(payload).base64url(hmac-sha256(payload))`: bound to the dossier and
 * the proposal version it decides, to one action, with an expiry, and a random id (jti) that
 * the database records on use so a link works once. Like opt-out links (src/domain/opt-out.ts),
 * nothing needs storing to issue one; unlike them they carry an expiry and an action.
 */

/** How long a validation link works by default. */
export const DEFAULT_VALIDATION_TTL_MS = 7 * 24 * 3600 * 1000;

export type ValidationAction = 'approve' | 'changes';

export interface ValidationLinkPayload {
  /** Dossier id. */
  d: string;
  /** Proposal version the link decides. */
  v: number;
  /** What the link does. */
  a: ValidationAction;
  /** Expiry, epoch seconds. */
  e: number;
  /** Random link id, recorded in `link_uses` when the link is used. */
  j: string;
  /** Person id of the recipient, when known: the decision is recorded under their address. */
  p?: number;
  /** For a funding application's links: the milestone the link decides. */
  m?: 'tutor_review' | 'treasurer_signoff';
}

/** What a link is for: a sponsor's proposal, or a funding application's review or sign-off. */
export type LinkScope = 'validation-link' | 'application-approval';

export type VerifiedValidationLink =
  | { ok: true; payload: ValidationLinkPayload }
  | { ok: false; reason: 'forged' | 'malformed' | 'expired' };

const payloadSchema = z.strictObject({
  d: z.uuid(),
  v: z.number().int().positive(),
  a: z.enum(['approve', 'changes']),
  e: z.number().int().positive(),
  j: z.string().regex(/^[\w-]{8,64}$/),
  p: z.number().int().positive().optional(),
  m: z.enum(['tutor_review', 'treasurer_signoff']).optional(),
});

const TOKEN = /^([\w-]{1,1000})\.([\w-]{43})$/;

function signature(secret: string, encodedPayload: string, scope: LinkScope): Buffer {
  // Domain-separated from the opt-out signature and between scopes, so one kind of link never verifies as another.
  return createHmac('sha256', secret).update(`${scope}:${encodedPayload}`).digest();
}

/** A random link id (16 bytes, base64url). */
export function newLinkId(): string {
  return randomBytes(16).toString('base64url');
}

/** Signs a link; `e` is the expiry in epoch seconds and `j` defaults to a fresh random id. */
export function signValidationLink(secret: string, link: Omit<ValidationLinkPayload, 'j'> & { j?: string }, scope: LinkScope = 'validation-link'): string {
  const payload: ValidationLinkPayload = { d: link.d, v: link.v, a: link.a, e: link.e, j: link.j ?? newLinkId(), ...(link.p !== undefined ? { p: link.p } : {}), ...(link.m ? { m: link.m } : {}) };
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) throw new Error(`invalid validation link payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const encoded = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${encoded}.${signature(secret, encoded, scope).toString('base64url')}`;
}

/**
 * Checks a token: its shape, then its signature in constant time (before reading anything
 * from the payload), then its expiry against `nowMs`. An altered payload or signature, or a
 * token signed with another secret, is `forged`.
 */
export function verifyValidationLink(secret: string, token: string, nowMs: number, scope: LinkScope = 'validation-link'): VerifiedValidationLink {
  const m = TOKEN.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  // Compared as text: decoding base64url ignores the last character's low bits, so two
  // spellings would decode to the same bytes; only the canonical one is accepted.
  const expected = Buffer.from(signature(secret, m[1], scope).toString('base64url'));
  const given = Buffer.from(m[2]);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const parsed = payloadSchema.safeParse(data);
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  if (nowMs >= parsed.data.e * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, payload: parsed.data };
}
