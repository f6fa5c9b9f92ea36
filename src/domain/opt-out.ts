import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Opt-out links carry the contact id and an HMAC of it, so a link cannot be forged or
 * pointed at someone else's address, and needs no database row to be created per email.
 */
function signature(secret: string, contactId: number): string {
  return createHmac('sha256', secret).update(`opt-out:${contactId}`).digest('base64url').slice(0, 32);
}

export function optOutToken(secret: string, contactId: number): string {
  return `${contactId}.${signature(secret, contactId)}`;
}

/** The contact id a token stands for, or null when the token was altered or forged. */
export function verifyOptOutToken(secret: string, token: string): number | null {
  const m = /^(\d{1,15})\.([\w-]{32})$/.exec(token);
  if (!m) return null;
  const contactId = Number(m[1]);
  const expected = Buffer.from(signature(secret, contactId));
  const given = Buffer.from(m[2]);
  return expected.length === given.length && timingSafeEqual(expected, given) ? contactId : null;
}
