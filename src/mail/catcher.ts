/**
 * Local mail catcher: a real SMTP server on loopback that stores every message it accepts.
 *
 * It is the default mail sink when no SMTP relay is configured, and the SMTP server the
 * integration tests talk to. Messages live in a directory, one `<id>.eml` (the raw RFC 822
 * bytes, exactly as received) plus one `<id>.json` sidecar (the summary, parsed once at
 * receive time) per message, so that another process (the CLI, the API) can read them with
 * `openMailStore(dir)` while the catcher runs.
 *
 * Delivery semantics mirror a real MTA: a message is stored only if the final "250" after
 * DATA is actually written to a connection that is still open. A client that disconnects
 * before that (for instance while a test holds the reply with `holdNext`) has not delivered
 * anything, and will retry.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, renameSync, unlinkSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { AddressObject, Attachment, ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

// ---------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------

export interface CaughtMailSummary {
  id: string;
  messageId: string | null;
  /** The From header (display name included), or the envelope sender when there is none. */
  from: string;
  /** The envelope recipients (RCPT TO), Bcc included: who actually received the message. */
  to: string[];
  subject: string;
  /** ISO 8601, the time the message was received (not its Date header). */
  date: string;
  /** Size of the raw message in bytes. */
  size: number;
  attachments: { index: number; filename: string; contentType: string; size: number }[];
  inReplyTo: string | null;
}

export interface CaughtMail extends CaughtMailSummary {
  text: string;
  html: string | null;
  /** Every header once, lowercase name → decoded value (repeated headers joined with "\n"). */
  headers: Record<string, string>;
  references: string[];
  replyTo: string | null;
}

export interface MailStore {
  list(): Promise<CaughtMailSummary[]>;
  get(id: string): Promise<CaughtMail | null>;
  attachment(id: string, index: number): Promise<{ filename: string; contentType: string; content: Buffer } | null>;
  raw(id: string): Promise<Buffer | null>;
  clear(): Promise<void>;
}

export interface HoldEnvelope {
  from: string;
  to: string[];
  subject: string;
  messageId: string | null;
}

export interface MailCatcher {
  port: number;
  host: string;
  store: MailStore;
  close(): Promise<void>;
  /**
   * Test hook. When false, new connections get "421 service not available" and
   * transactions are refused with a temporary (4xx) code, as a server that is down would,
   * so that senders retry.
   */
  setAvailable(up: boolean): void;
  /**
   * Test hook. The next message matching is received completely but the final "250 OK"
   * after DATA is withheld until `release()`. The returned promise resolves once such a
   * message is being held. If the client disconnects in the meantime, the message is
   * discarded on release.
   */
  holdNext(match: (envelope: HoldEnvelope) => boolean): Promise<{ release(): void }>;
}

export interface MailCatcherOptions {
  dir: string;
  /** 0 = random free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 25 MB. */
  maxSizeBytes?: number;
}

// ---------------------------------------------------------------------------------------
// Ids and file names
// ---------------------------------------------------------------------------------------

/** `<13-digit ms timestamp>-<6-digit sequence>-<6 hex>`: sorts lexicographically by arrival. */
const ID_RE = /^\d{13}-\d{6}-[0-9a-f]{6}$/;
const TMP_PREFIX = '.tmp-';

let lastMs = 0;
let seq = 0;

function newId(): string {
  // Monotonic within the process even if the clock steps back or two messages share a ms.
  const now = Math.max(Date.now(), lastMs);
  if (now !== lastMs) {
    lastMs = now;
    seq = 0;
  } else {
    seq += 1;
    if (seq > 999_999) {
      lastMs += 1;
      seq = 0;
    }
  }
  return `${lastMs.toString().padStart(13, '0')}-${seq.toString().padStart(6, '0')}-${randomBytes(3).toString('hex')}`;
}

function isValidId(id: unknown): id is string {
  return typeof id === 'string' && ID_RE.test(id);
}

// ---------------------------------------------------------------------------------------
// Parsing helpers
// ---------------------------------------------------------------------------------------

function addressText(a: AddressObject | AddressObject[] | undefined): string | null {
  if (!a) return null;
  const list = Array.isArray(a) ? a : [a];
  const text = list
    .map((x) => x.text)
    .filter(Boolean)
    .join(', ');
  return text || null;
}

function addressList(a: AddressObject | AddressObject[] | undefined): string[] {
  if (!a) return [];
  const out: string[] = [];
  const walk = (entries: { address?: string; group?: unknown[] }[]): void => {
    for (const e of entries) {
      if (e.address) out.push(e.address);
      if (Array.isArray(e.group)) walk(e.group as { address?: string; group?: unknown[] }[]);
    }
  };
  for (const obj of Array.isArray(a) ? a : [a]) walk(obj.value);
  return out;
}

function attachmentFilename(att: Attachment, index: number): string {
  if (att.filename) return att.filename;
  const ext = (att.contentType || '').split('/')[1]?.replace(/[^a-z0-9]+/gi, '') || 'bin';
  return `attachment-${index + 1}.${ext}`;
}

function attachmentSummaries(parsed: ParsedMail): CaughtMailSummary['attachments'] {
  return parsed.attachments.map((att, index) => ({
    index,
    filename: attachmentFilename(att, index),
    contentType: att.contentType || 'application/octet-stream',
    size: att.size ?? att.content.length,
  }));
}

function referencesList(refs: string | string[] | undefined): string[] {
  if (!refs) return [];
  const list = Array.isArray(refs) ? refs : [refs];
  // mailparser usually splits already; be defensive about whitespace-separated strings.
  return list.flatMap((r) => r.split(/\s+/)).filter(Boolean);
}

/** Decodes RFC 2047 encoded words (`=?utf-8?Q?...?=`), for header values mailparser left structured. */
function decodeEncodedWords(value: string): string {
  const re = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;
  // Whitespace between two adjacent encoded words is not part of the text (RFC 2047 §6.2).
  const joined = value.replace(/(\?=)\s+(?==\?)/g, '$1');
  let out = '';
  let last = 0;
  let pending: { charset: string; bytes: Buffer[] } | null = null;
  const flush = (): void => {
    if (!pending) return;
    const buf = Buffer.concat(pending.bytes);
    let text: string;
    try {
      text = new TextDecoder(pending.charset).decode(buf);
    } catch {
      text = buf.toString('latin1');
    }
    out += text;
    pending = null;
  };
  for (let m = re.exec(joined); m; m = re.exec(joined)) {
    if (m.index > last) {
      flush();
      out += joined.slice(last, m.index);
    }
    const charset = m[1].split('*')[0].toLowerCase();
    const bytes =
      m[2].toUpperCase() === 'B'
        ? Buffer.from(m[3], 'base64')
        : Buffer.from(
            m[3].replace(/_/g, ' ').replace(/=([0-9a-fA-F]{2})/g, (_s, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          );
    // Bytes of adjacent words in the same charset are decoded together: a multi-byte
    // character may be split across two words.
    if (pending && pending.charset !== charset) flush();
    if (!pending) pending = { charset, bytes: [] };
    pending.bytes.push(bytes);
    last = m.index + m[0].length;
  }
  flush();
  out += joined.slice(last);
  return out;
}

function flatHeaders(parsed: ParsedMail): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    const k = key.toLowerCase();
    // headerLines are "binary" strings (one char per byte): restore UTF-8 (8-bit headers),
    // unfold, then decode RFC 2047 words. mailparser's own Map is not usable as is: it
    // leaves encoded words in headers it does not know (X-*), groups repeated headers
    // into arrays, renames some keys (X-Priority → priority) and structures others.
    const colon = line.indexOf(':');
    const rawValue = Buffer.from(colon >= 0 ? line.slice(colon + 1) : '', 'binary')
      .toString('utf8')
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    const value = decodeEncodedWords(rawValue);
    out[k] = Object.prototype.hasOwnProperty.call(out, k) ? `${out[k]}\n${value}` : value;
  }
  // Keep headers.subject identical to the summary's subject (mailparser's decoding).
  if (typeof parsed.subject === 'string' && !out.subject?.includes('\n')) out.subject = parsed.subject;
  return out;
}

function summarize(
  id: string,
  parsed: ParsedMail,
  envelope: { from: string; to: string[] },
  receivedAt: Date,
  size: number,
): CaughtMailSummary {
  return {
    id,
    messageId: parsed.messageId ?? null,
    from: addressText(parsed.from) ?? envelope.from,
    to: envelope.to,
    subject: parsed.subject ?? '',
    date: receivedAt.toISOString(),
    size,
    attachments: attachmentSummaries(parsed),
    inReplyTo: parsed.inReplyTo ?? null,
  };
}

// ---------------------------------------------------------------------------------------
// Store (reader side, usable from any process)
// ---------------------------------------------------------------------------------------

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

export function openMailStore(dir: string): MailStore {
  const emlPath = (id: string): string => path.join(dir, `${id}.eml`);
  const jsonPath = (id: string): string => path.join(dir, `${id}.json`);

  async function readSummary(id: string): Promise<CaughtMailSummary | null> {
    const buf = await readIfExists(jsonPath(id));
    if (!buf) return null;
    try {
      return JSON.parse(buf.toString('utf8')) as CaughtMailSummary;
    } catch {
      return null; // not ours or damaged: ignore rather than break the whole listing
    }
  }

  async function listFiles(): Promise<string[]> {
    try {
      return await fsp.readdir(dir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  async function parse(id: string): Promise<{ raw: Buffer; parsed: ParsedMail } | null> {
    if (!isValidId(id)) return null;
    const raw = await readIfExists(emlPath(id));
    if (!raw) return null;
    return { raw, parsed: await simpleParser(raw) };
  }

  return {
    async list() {
      const ids = (await listFiles())
        .filter((f) => f.endsWith('.json'))
        .map((f) => f.slice(0, -'.json'.length))
        .filter(isValidId)
        .sort();
      const summaries = await Promise.all(ids.map(readSummary));
      return summaries.filter((s): s is CaughtMailSummary => s !== null);
    },

    async get(id) {
      const loaded = await parse(id);
      if (!loaded) return null;
      const { raw, parsed } = loaded;
      let summary = await readSummary(id);
      if (!summary) {
        // .eml without sidecar (e.g. a crash between the two renames): rebuild what we can.
        const stat = await fsp.stat(emlPath(id)).catch(() => null);
        const to = [...addressList(parsed.to), ...addressList(parsed.cc), ...addressList(parsed.bcc)];
        summary = summarize(id, parsed, { from: '', to }, stat?.mtime ?? new Date(), raw.length);
      }
      return {
        ...summary,
        // Always derived from the message itself, so that older sidecars stay consistent.
        attachments: attachmentSummaries(parsed),
        text: parsed.text ?? '',
        html: typeof parsed.html === 'string' ? parsed.html : null,
        headers: flatHeaders(parsed),
        references: referencesList(parsed.references),
        replyTo: addressText(parsed.replyTo),
      };
    },

    async attachment(id, index) {
      if (!Number.isInteger(index) || index < 0) return null;
      const loaded = await parse(id);
      const att = loaded?.parsed.attachments[index];
      if (!att) return null;
      return {
        filename: attachmentFilename(att, index),
        contentType: att.contentType || 'application/octet-stream',
        content: att.content,
      };
    },

    async raw(id) {
      if (!isValidId(id)) return null;
      return readIfExists(emlPath(id));
    },

    async clear() {
      const files = await listFiles();
      await Promise.all(
        files
          .filter((f) => {
            const m = /^(.*)\.(eml|json)$/.exec(f);
            // In-flight temp files belong to the catcher: leave them, it renames them next.
            return m !== null && isValidId(m[1]);
          })
          .map((f) =>
            fsp.unlink(path.join(dir, f)).catch((err) => {
              if (!isNotFound(err)) throw err;
            }),
          ),
      );
    },
  };
}

// ---------------------------------------------------------------------------------------
// Catcher (SMTP server, writer side)
// ---------------------------------------------------------------------------------------

const DEFAULT_MAX_SIZE = 25 * 1024 * 1024;
/**
 * After a held reply is released, let the event loop observe a disconnection that has
 * already happened (the peer's FIN/RST may sit in the kernel while Node has not yet read it).
 */
const RELEASE_GRACE_MS = 25;
/** Temp files older than this at start-up are leftovers of a crash. */
const STALE_TMP_MS = 60 * 60 * 1000;

function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

function formatMb(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}

interface HoldRequest {
  match: (envelope: HoldEnvelope) => boolean;
  resolve: (handle: { release(): void }) => void;
  reject: (err: Error) => void;
}

export async function startMailCatcher(opts: MailCatcherOptions): Promise<MailCatcher> {
  const dir = path.resolve(opts.dir);
  const host = opts.host ?? '127.0.0.1';
  const maxSize = opts.maxSizeBytes ?? DEFAULT_MAX_SIZE;
  await fsp.mkdir(dir, { recursive: true });
  await removeStaleTempFiles(dir);

  let available = true;
  let closing = false;
  const holdRequests: HoldRequest[] = [];
  /** release() of every message currently held, to let close() unblock them. */
  const activeHolds = new Set<() => void>();
  const inFlight = new Set<Promise<void>>();
  const sockets = new Set<Socket>();

  const unavailable = (): Error => smtpError(421, 'Service not available, closing transmission channel');

  const server = new SMTPServer({
    name: 'mecene-catcher.localhost',
    banner: 'Mecene mail catcher',
    logger: false,
    disableReverseLookup: true,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true, // no TLS here at all: AUTH must work in clear text
    size: maxSize,
    onConnect(_session, callback) {
      if (!available || closing) return callback(unavailable());
      callback();
    },
    onAuth(auth, _session, callback) {
      // Any credentials: the catcher only mimics a relay that wants AUTH.
      callback(null, { user: auth.username || 'anonymous' });
    },
    onMailFrom(_address, _session, callback) {
      // 421 makes smtp-server close the connection too, as a server going down does.
      if (!available || closing) return callback(unavailable());
      callback();
    },
    onRcptTo(_address, _session, callback) {
      if (!available || closing) return callback(unavailable());
      callback();
    },
    onData(stream, session, callback) {
      let answered = false;
      const answer = (err?: Error | null, message?: string): void => {
        if (answered) return;
        answered = true;
        callback(err, message);
      };
      const p = receive(stream, session, answer).catch((err: unknown) => {
        // Unexpected failure: answer with a temporary error (the sender retries), never hang.
        answer(smtpError(451, `Internal error: ${(err as Error)?.message ?? String(err)}`));
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    },
  });
  // Socket errors (a client killed mid-transaction: ECONNRESET...) are emitted here; an
  // unhandled 'error' event would crash the process. The connection is gone, that is all.
  server.on('error', () => {});
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  /** The connection that owns this session, if it is still open and able to send a reply. */
  function canReply(session: SMTPServerSession): boolean {
    for (const conn of server.connections) {
      if (conn.session !== session && conn.id !== session.id) continue;
      const socket = conn._socket;
      // Same conditions under which SMTPConnection#send() actually writes to the socket.
      return !conn._closing && !conn._closed && !socket.destroyed && socket.readyState === 'open';
    }
    return false; // closed connections are removed from server.connections
  }

  async function receive(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): Promise<void> {
    // Capture the envelope now: smtp-server replaces session.envelope once we answer.
    const envFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    const envTo = session.envelope.rcptTo.map((r) => r.address);

    const chunks: Buffer[] = [];
    let total = 0;
    let aborted = false;
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        // Past the limit, keep draining (the client is still sending) but stop buffering.
        if (total <= maxSize) chunks.push(chunk);
      });
      stream.once('end', () => resolve());
      stream.once('close', () => {
        if (!stream.readableEnded) aborted = true;
        resolve();
      });
      stream.once('error', () => {
        aborted = true;
        resolve();
      });
    });
    if (aborted) return callback(smtpError(451, 'Connection closed before the message was received in full'));
    if (stream.sizeExceeded || total > maxSize) {
      return callback(
        smtpError(552, `Message too large: ${total} bytes exceeds the ${formatMb(maxSize)} limit (${maxSize} bytes)`),
      );
    }

    const raw = Buffer.concat(chunks, total);
    const receivedAt = new Date();
    const id = newId();
    let parsed: ParsedMail;
    try {
      parsed = await simpleParser(raw);
    } catch (err) {
      return callback(smtpError(451, `Could not parse the message: ${(err as Error).message}`));
    }
    const summary = summarize(id, parsed, { from: envFrom, to: envTo }, receivedAt, raw.length);

    // Test hook: withhold the final reply until released.
    const hold = takeHold({
      from: summary.from,
      to: summary.to,
      subject: summary.subject,
      messageId: summary.messageId,
    });
    if (hold) {
      await hold;
      await new Promise((r) => setTimeout(r, RELEASE_GRACE_MS));
    }

    if (!available || closing) return callback(smtpError(451, 'Service not available, try again later'));
    if (!canReply(session)) return callback(smtpError(451, 'Connection lost before the message was accepted'));

    // Stage both files under temp names: nothing is visible to readers yet.
    const tmpEml = path.join(dir, `${TMP_PREFIX}${id}.eml`);
    const tmpJson = path.join(dir, `${TMP_PREFIX}${id}.json`);
    try {
      await fsp.writeFile(tmpEml, raw);
      await fsp.writeFile(tmpJson, JSON.stringify(summary, null, 2));
    } catch (err) {
      await Promise.all([fsp.rm(tmpEml, { force: true }), fsp.rm(tmpJson, { force: true })]);
      return callback(smtpError(451, `Could not store the message: ${(err as Error).message}`));
    }

    // Commit point, synchronous from here on so that no event can slip in between the
    // check, the renames and the reply: if the connection is (still) able to carry the
    // reply, publish the message and send "250" (smtp-server writes it synchronously
    // because the data stream has already ended); otherwise discard it.
    if (!canReply(session) || !available || closing) {
      discard(tmpEml, tmpJson);
      return callback(smtpError(451, 'Connection lost before the message was accepted'));
    }
    try {
      renameSync(tmpEml, path.join(dir, `${id}.eml`));
      renameSync(tmpJson, path.join(dir, `${id}.json`)); // the sidecar makes it appear in list()
    } catch (err) {
      discard(tmpEml, tmpJson, path.join(dir, `${id}.eml`));
      return callback(smtpError(451, `Could not store the message: ${(err as Error).message}`));
    }
    callback(null, `OK: message stored as ${id}`);
  }

  function discard(...files: string[]): void {
    for (const f of files) {
      try {
        unlinkSync(f);
      } catch {
        // already gone
      }
    }
  }

  function takeHold(envelope: HoldEnvelope): Promise<void> | null {
    const i = holdRequests.findIndex((h) => {
      try {
        return h.match(envelope);
      } catch {
        return false;
      }
    });
    if (i < 0) return null;
    const [req] = holdRequests.splice(i, 1);
    return new Promise<void>((resolve) => {
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        activeHolds.delete(release);
        resolve();
      };
      activeHolds.add(release);
      req.resolve({ release });
    });
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.server.once('error', onError);
    server.listen(opts.port ?? 0, host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);

  let closePromise: Promise<void> | null = null;

  return {
    port,
    host,
    store: openMailStore(dir),

    setAvailable(up) {
      available = up;
    },

    holdNext(match) {
      if (closing) return Promise.reject(new Error('Mail catcher is closed'));
      const p = new Promise<{ release(): void }>((resolve, reject) => {
        holdRequests.push({ match, resolve, reject });
      });
      // Rejected on close(); mark as handled so an un-awaited hook cannot crash the process.
      p.catch(() => {});
      return p;
    },

    close() {
      if (closePromise) return closePromise;
      closing = true;
      closePromise = (async () => {
        for (const req of holdRequests.splice(0)) req.reject(new Error('Mail catcher closed'));
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        // Do not wait for clients to say goodbye (smtp-server would give them 30 s).
        for (const socket of sockets) socket.destroy();
        for (const release of [...activeHolds]) release();
        await serverClosed;
        await Promise.all([...inFlight]);
      })();
      return closePromise;
    },
  };
}

async function removeStaleTempFiles(dir: string): Promise<void> {
  let files: string[];
  try {
    files = await fsp.readdir(dir);
  } catch {
    return;
  }
  const now = Date.now();
  await Promise.all(
    files
      .filter((f) => f.startsWith(TMP_PREFIX))
      .map(async (f) => {
        const file = path.join(dir, f);
        const stat = await fsp.stat(file).catch(() => null);
        if (stat && now - stat.mtimeMs > STALE_TMP_MS) await fsp.rm(file, { force: true });
      }),
  );
}
