import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMailStore, startMailCatcher, type MailCatcher } from '../../src/mail/catcher';

/** Minimal SMTP client over a raw socket, to control exactly when the client goes away. */
class RawSmtp {
  private buf = '';
  private replies: string[] = [];
  private waiters: { resolve: (r: string) => void; reject: (e: Error) => void }[] = [];
  private closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      // A reply ends with a line "ddd text" (a continuation line is "ddd-text").
      for (;;) {
        const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.buf);
        if (!m) break;
        this.buf = this.buf.slice(m[0].length);
        const reply = m[0].trimEnd();
        const w = this.waiters.shift();
        if (w) w.resolve(reply);
        else this.replies.push(reply);
      }
    });
    const onGone = (): void => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error('connection closed'));
    };
    socket.on('close', onGone);
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<{ client: RawSmtp; greeting: string }> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawSmtp(socket);
    const greeting = await client.read();
    return { client, greeting };
  }

  read(): Promise<string> {
    const r = this.replies.shift();
    if (r !== undefined) return Promise.resolve(r);
    if (this.closed) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** True if a complete reply has arrived that nobody has read yet. */
  hasPendingReply(): boolean {
    return this.replies.length > 0;
  }

  write(data: string): void {
    this.socket.write(data);
  }

  async cmd(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /** Runs EHLO/MAIL/RCPT/DATA and sends the message body, without waiting for the final reply. */
  async sendUpToFinalDot(from: string, to: string, body: string): Promise<void> {
    expect(await this.cmd('EHLO tester.localhost')).toMatch(/^250/);
    expect(await this.cmd(`MAIL FROM:<${from}>`)).toMatch(/^250/);
    expect(await this.cmd(`RCPT TO:<${to}>`)).toMatch(/^250/);
    expect(await this.cmd('DATA')).toMatch(/^354/);
    const escaped = body.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.write(`${escaped}\r\n.\r\n`);
  }
}

function rawMessage(opts: { subject: string; messageId: string; from?: string; to?: string; body?: string }): string {
  return [
    `From: ${opts.from ?? 'sender@mecene.test'}`,
    `To: ${opts.to ?? 'rcpt@example.org'}`,
    `Subject: ${opts.subject}`,
    `Message-ID: ${opts.messageId}`,
    'Date: Mon, 02 Jun 2025 10:00:00 +0200',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'X-Raw-8bit: Été brut',
    'X-Folded: =?UTF-8?Q?caf=C3=A9?=',
    '  et =?ISO-8859-1?Q?cr=E8me?=',
    'Received: from a',
    'Received: from b',
    '',
    opts.body ?? 'Hello.\n.line starting with a dot',
  ].join('\r\n');
}

async function waitFor(cond: () => Promise<boolean> | boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('mail catcher', () => {
  let dir: string;
  let catcher: MailCatcher;

  const transport = () =>
    nodemailer.createTransport({ host: '127.0.0.1', port: catcher.port, secure: false, ignoreTLS: true });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mecene-catcher-'));
    catcher = await startMailCatcher({ dir, port: 0 });
  });

  afterEach(async () => {
    await catcher.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on loopback and greets', async () => {
    expect(catcher.host).toBe('127.0.0.1');
    expect(catcher.port).toBeGreaterThan(0);
    const { client, greeting } = await RawSmtp.connect(catcher.port);
    expect(greeting).toMatch(/^220 /);
    const ehlo = await client.cmd('EHLO tester.localhost');
    expect(ehlo).toMatch(/^250/);
    expect(ehlo).not.toMatch(/STARTTLS/);
    expect(ehlo).toMatch(/SIZE 26214400/);
    expect(await client.cmd('QUIT')).toMatch(/^221/);
  });

  it('stores a message faithfully: UTF-8, threading headers, PDF attachment', async () => {
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1'),
      randomBytes(50_000),
      Buffer.from('\n%%EOF\n'),
    ]);
    const subject = 'Relance : café à Besançon — échéance dépassée';
    const text = 'Bonjour Hélène,\n\nVoici le reçu de votre don. Merci beaucoup !\n\nLa mécène';
    const info = await transport().sendMail({
      from: 'Mécène <noreply@mecene.test>',
      to: 'Hélène Dupont <helene@example.org>',
      bcc: 'archive@mecene.test',
      replyTo: 'contact@mecene.test',
      subject,
      text,
      html: '<p>Bonjour Hélène,</p><p>Voici le reçu.</p>',
      messageId: '<relance-2.abc123@mecene.test>',
      inReplyTo: '<relance-1.abc123@mecene.test>',
      references: ['<root.abc123@mecene.test>', '<relance-1.abc123@mecene.test>'],
      headers: { 'X-Mecene-Campaign': 'Été 2025' },
      attachments: [{ filename: 'reçu-fiscal.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    expect(info.accepted).toEqual(['helene@example.org', 'archive@mecene.test']);
    expect(info.response).toMatch(/^250/);

    const list = await catcher.store.list();
    expect(list).toHaveLength(1);
    const [summary] = list;
    expect(summary.id).toMatch(/^\d{13}-\d{6}-[0-9a-f]{6}$/);
    expect(summary.messageId).toBe('<relance-2.abc123@mecene.test>');
    expect(summary.inReplyTo).toBe('<relance-1.abc123@mecene.test>');
    expect(summary.subject).toBe(subject);
    expect(summary.from).toContain('noreply@mecene.test');
    expect(summary.from).toContain('Mécène');
    expect(summary.to).toEqual(['helene@example.org', 'archive@mecene.test']);
    expect(Number.isNaN(Date.parse(summary.date))).toBe(false);
    expect(Math.abs(Date.now() - Date.parse(summary.date))).toBeLessThan(60_000);
    expect(summary.size).toBeGreaterThan(pdf.length);
    expect(summary.attachments).toEqual([
      { index: 0, filename: 'reçu-fiscal.pdf', contentType: 'application/pdf', size: pdf.length },
    ]);

    const mail = await catcher.store.get(summary.id);
    expect(mail).not.toBeNull();
    expect(mail!.subject).toBe(subject);
    expect(mail!.text.trim()).toBe(text);
    expect(mail!.html).toContain('Bonjour Hélène');
    expect(mail!.references).toEqual(['<root.abc123@mecene.test>', '<relance-1.abc123@mecene.test>']);
    expect(mail!.inReplyTo).toBe('<relance-1.abc123@mecene.test>');
    expect(mail!.replyTo).toBe('contact@mecene.test');
    expect(mail!.headers['subject']).toBe(subject);
    expect(mail!.headers['message-id']).toBe('<relance-2.abc123@mecene.test>');
    expect(mail!.headers['x-mecene-campaign']).toBe('Été 2025');
    expect(mail!.headers['to']).toContain('helene@example.org');
    expect(mail!.headers['bcc']).toBeUndefined(); // Bcc only in the envelope
    for (const [k, v] of Object.entries(mail!.headers)) {
      expect(k).toBe(k.toLowerCase());
      expect(typeof v).toBe('string');
    }

    const att = await catcher.store.attachment(summary.id, 0);
    expect(att).not.toBeNull();
    expect(att!.filename).toBe('reçu-fiscal.pdf');
    expect(att!.contentType).toBe('application/pdf');
    expect(Buffer.compare(att!.content, pdf)).toBe(0);
    expect(await catcher.store.attachment(summary.id, 1)).toBeNull();
    expect(await catcher.store.attachment(summary.id, -1)).toBeNull();

    const raw = await catcher.store.raw(summary.id);
    expect(raw!.toString('utf8')).toContain('Message-ID: <relance-2.abc123@mecene.test>');
    expect(raw!.length).toBe(summary.size);

    // Files on disk: exactly the message and its sidecar, no temp leftovers.
    expect((await readdir(dir)).sort()).toEqual([`${summary.id}.eml`, `${summary.id}.json`]);
  });

  it('lists messages by arrival, readable from a second store instance (another process)', async () => {
    const t = transport();
    for (let i = 1; i <= 3; i++) {
      await t.sendMail({
        from: 'noreply@mecene.test',
        to: `r${i}@example.org`,
        subject: `Message ${i}`,
        text: `Corps ${i}`,
      });
    }
    const other = openMailStore(dir);
    const list = await other.list();
    expect(list.map((m) => m.subject)).toEqual(['Message 1', 'Message 2', 'Message 3']);
    expect(list.map((m) => m.id)).toEqual([...list.map((m) => m.id)].sort());
    const second = await other.get(list[1].id);
    expect(second!.text.trim()).toBe('Corps 2');
    expect(second!.to).toEqual(['r2@example.org']);
    expect(second!.html).toBeNull();
    expect(second!.attachments).toEqual([]);

    await other.clear();
    expect(await catcher.store.list()).toEqual([]);
    expect(await catcher.store.get(list[0].id)).toBeNull();

    // the catcher keeps working after a clear from elsewhere
    await t.sendMail({ from: 'noreply@mecene.test', to: 'r4@example.org', subject: 'Après', text: 'x' });
    expect((await other.list()).map((m) => m.subject)).toEqual(['Après']);
  });

  it('tolerates a missing or empty directory', async () => {
    expect(await openMailStore(path.join(dir, 'does-not-exist')).list()).toEqual([]);
    expect(await openMailStore(path.join(dir, 'does-not-exist')).get('0000000000000-000000-abcdef')).toBeNull();
    await openMailStore(path.join(dir, 'does-not-exist')).clear();
    expect(await catcher.store.list()).toEqual([]);
  });

  it('rejects ids that are not ours (path traversal) and unknown ids with null', async () => {
    await transport().sendMail({ from: 'a@mecene.test', to: 'b@example.org', subject: 's', text: 't' });
    const [m] = await catcher.store.list();
    const bad = [
      '../' + m.id,
      `${m.id}/../${m.id}`,
      '../../../../etc/passwd',
      '..%2f..%2fetc%2fpasswd',
      `${m.id}.eml`,
      path.join(dir, m.id),
      '',
      '.',
      '..',
      `${m.id}\0`,
      '0000000000000-000000-abcdef', // well-formed but unknown
    ];
    for (const id of bad) {
      expect(await catcher.store.get(id)).toBeNull();
      expect(await catcher.store.raw(id)).toBeNull();
      expect(await catcher.store.attachment(id, 0)).toBeNull();
    }
    expect(await catcher.store.get(m.id)).not.toBeNull();
  });

  it('setAvailable(false) refuses with a temporary 4xx error, setAvailable(true) accepts again', async () => {
    const mail = { from: 'noreply@mecene.test', to: 'x@example.org', subject: 'Retry me', text: 'é' };
    catcher.setAvailable(false);
    const err = await transport()
      .sendMail(mail)
      .then(
        () => null,
        (e: { responseCode?: number }) => e,
      );
    expect(err).not.toBeNull();
    expect(err!.responseCode).toBeGreaterThanOrEqual(400);
    expect(err!.responseCode).toBeLessThan(500);
    expect(await catcher.store.list()).toEqual([]);

    // raw: a new connection is greeted with 421
    const { greeting } = await RawSmtp.connect(catcher.port);
    expect(greeting).toMatch(/^421 /);

    catcher.setAvailable(true);
    const info = await transport().sendMail(mail);
    expect(info.response).toMatch(/^250/);
    expect((await catcher.store.list()).map((m) => m.subject)).toEqual(['Retry me']);
  });

  it('refuses transactions on connections opened before the catcher went down', async () => {
    const { client } = await RawSmtp.connect(catcher.port);
    expect(await client.cmd('EHLO tester.localhost')).toMatch(/^250/);
    catcher.setAvailable(false);
    expect(await client.cmd('MAIL FROM:<a@mecene.test>')).toMatch(/^4\d\d /);
    catcher.setAvailable(true);
  });

  it('a message that goes down mid-transaction is refused with 4xx at the end of DATA and not stored', async () => {
    const { client } = await RawSmtp.connect(catcher.port);
    expect(await client.cmd('EHLO tester.localhost')).toMatch(/^250/);
    expect(await client.cmd('MAIL FROM:<a@mecene.test>')).toMatch(/^250/);
    expect(await client.cmd('RCPT TO:<b@example.org>')).toMatch(/^250/);
    expect(await client.cmd('DATA')).toMatch(/^354/);
    catcher.setAvailable(false);
    client.write(rawMessage({ subject: 'down', messageId: '<down@mecene.test>' }).replace(/\r?\n/g, '\r\n') + '\r\n.\r\n');
    expect(await client.read()).toMatch(/^4\d\d /);
    expect(await catcher.store.list()).toEqual([]);
    catcher.setAvailable(true);
  });

  it('holdNext: a client that disconnects while the reply is held has delivered nothing', async () => {
    const held = catcher.holdNext((e) => e.messageId === '<held-1@mecene.test>');
    const { client } = await RawSmtp.connect(catcher.port);
    await client.sendUpToFinalDot(
      'sender@mecene.test',
      'rcpt@example.org',
      rawMessage({ subject: 'Tenu', messageId: '<held-1@mecene.test>' }),
    );
    const hold = await held;
    // the message is complete, but no final reply was sent
    await new Promise((r) => setTimeout(r, 100));
    expect(client.hasPendingReply()).toBe(false);

    client.socket.destroy(); // the sender dies mid-send
    hold.release();
    await new Promise((r) => setTimeout(r, 200));
    expect(await catcher.store.list()).toEqual([]);
    expect(await readdir(dir)).toEqual([]); // no temp file left behind either

    // the retry is stored exactly once
    const info = await transport().sendMail({
      from: 'sender@mecene.test',
      to: 'rcpt@example.org',
      subject: 'Tenu',
      text: 'again',
      messageId: '<held-1@mecene.test>',
    });
    expect(info.response).toMatch(/^250/);
    const list = await catcher.store.list();
    expect(list.map((m) => m.messageId)).toEqual(['<held-1@mecene.test>']);
  });

  it('holdNext: a sender process killed while the reply is held has delivered nothing', async () => {
    const held = catcher.holdNext((e) => e.messageId === '<killed@mecene.test>');
    const script = `
      import nodemailer from 'nodemailer';
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: ${catcher.port}, secure: false, ignoreTLS: true });
      await t.sendMail({ from: 'w@mecene.test', to: 'r@example.org', subject: 'Tué', text: 'x', messageId: '<killed@mecene.test>' });
      console.log('SENT');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const hold = await held;
    child.kill('SIGKILL');
    await exited;
    hold.release();
    await new Promise((r) => setTimeout(r, 150));
    expect(out).not.toContain('SENT');
    expect(await catcher.store.list()).toEqual([]);
  });

  it('holdNext: a held message that is released normally is stored, and only then acknowledged', async () => {
    // a non-matching message goes through while the hook waits
    const held = catcher.holdNext((e) => e.subject === 'À retenir' && e.to.includes('rcpt@example.org'));
    await transport().sendMail({ from: 'a@mecene.test', to: 'other@example.org', subject: 'Libre', text: 'x' });
    expect((await catcher.store.list()).map((m) => m.subject)).toEqual(['Libre']);

    const sending = transport().sendMail({
      from: 'sender@mecene.test',
      to: 'rcpt@example.org',
      subject: 'À retenir',
      text: 'Contenu accentué : ça marche.',
      messageId: '<held-2@mecene.test>',
    });
    let settled = false;
    void sending.finally(() => {
      settled = true;
    });
    const hold = await held;
    await new Promise((r) => setTimeout(r, 100));
    expect(settled).toBe(false);
    expect((await catcher.store.list()).map((m) => m.subject)).toEqual(['Libre']);

    hold.release();
    hold.release(); // idempotent
    const info = await sending;
    expect(info.response).toMatch(/^250/);
    const list = await catcher.store.list();
    expect(list.map((m) => m.subject)).toEqual(['Libre', 'À retenir']);
    const stored = await catcher.store.get(list[1].id);
    expect(stored!.text.trim()).toBe('Contenu accentué : ça marche.');

    // the hook is one-shot: the next matching message is not held
    const again = await transport().sendMail({
      from: 'sender@mecene.test',
      to: 'rcpt@example.org',
      subject: 'À retenir',
      text: 'second',
    });
    expect(again.response).toMatch(/^250/);
    expect(await catcher.store.list()).toHaveLength(3);
  });

  it('holdNext: raw client waiting on a held reply receives 250 after release', async () => {
    const held = catcher.holdNext(() => true);
    const { client } = await RawSmtp.connect(catcher.port);
    await client.sendUpToFinalDot('s@mecene.test', 'r@example.org', rawMessage({ subject: 'raw', messageId: '<raw@x>' }));
    const hold = await held;
    hold.release();
    expect(await client.read()).toMatch(/^250 /);
    const list = await catcher.store.list();
    expect(list).toHaveLength(1);
    expect(list[0].from).toBe('sender@mecene.test'); // From header
    expect(list[0].to).toEqual(['r@example.org']); // envelope
    const mail = await catcher.store.get(list[0].id);
    expect(mail!.text).toContain('\n.line starting with a dot'); // dot-unstuffing done
    expect(mail!.headers['x-raw-8bit']).toBe('Été brut');
    expect(mail!.headers['x-folded']).toBe('café et crème');
    expect(mail!.headers['received']).toBe('from a\nfrom b');
    expect(mail!.headers['date']).toBe('Mon, 02 Jun 2025 10:00:00 +0200');
    expect(await client.cmd('QUIT')).toMatch(/^221/);
  });

  it('accepts AUTH with any credentials', async () => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: catcher.port,
      secure: false,
      ignoreTLS: true,
      auth: { user: 'whoever', pass: 'whatever' },
    });
    await t.verify();
    const info = await t.sendMail({ from: 'a@mecene.test', to: 'b@example.org', subject: 'auth', text: 'ok' });
    expect(info.response).toMatch(/^250/);
    expect(await catcher.store.list()).toHaveLength(1);
  });

  it('rejects oversized messages with a clear 552 and stores nothing', async () => {
    await catcher.close();
    catcher = await startMailCatcher({ dir, port: 0, maxSizeBytes: 10_000 });
    const err = await transport()
      .sendMail({ from: 'a@mecene.test', to: 'b@example.org', subject: 'big', text: 'x'.repeat(50_000) })
      .then(
        () => null,
        (e: { responseCode?: number; response?: string }) => e,
      );
    expect(err?.responseCode).toBe(552);
    expect(err?.response).toMatch(/too large|exceeds/i);
    expect(await catcher.store.list()).toEqual([]);
    // a small one still goes through
    await transport().sendMail({ from: 'a@mecene.test', to: 'b@example.org', subject: 'small', text: 'x' });
    expect(await catcher.store.list()).toHaveLength(1);
  });

  it('close() is prompt even with open connections and a pending hold', async () => {
    const held = catcher.holdNext(() => true);
    const { client: idle } = await RawSmtp.connect(catcher.port);
    expect(await idle.cmd('EHLO idle.localhost')).toMatch(/^250/);
    const { client } = await RawSmtp.connect(catcher.port);
    await client.sendUpToFinalDot('s@mecene.test', 'r@example.org', rawMessage({ subject: 'x', messageId: '<x@y>' }));
    await held;
    const unmatched = catcher.holdNext(() => false);
    const start = Date.now();
    await catcher.close();
    expect(Date.now() - start).toBeLessThan(1000);
    await expect(unmatched).rejects.toThrow(/closed/);
    await waitFor(() => idle.socket.destroyed && client.socket.destroyed);
    expect(await openMailStore(dir).list()).toEqual([]);
    await catcher.close(); // idempotent (afterEach calls it again too)
  });
});
