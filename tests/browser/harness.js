'use strict';
/*
 * What the browser tests share: starting replyguard-blog, launching the
 * Debian Chromium through playwright-core (never a downloaded browser), and
 * reading the comment form the way a reader would.
 *
 * Environment (set by run.sh):
 *   RG_BLOG_EXE       the replyguard-blog executable
 *   RG_BLOG_URL       a blog that run.sh started (words, the minimum solve
 *                     time RG_MIN_SOLVE)
 *   RG_BLOG_PASSWORD  its admin password
 *   RG_MIN_SOLVE      its minimum solve time in seconds
 *   RG_ARTEFACTS      where screenshots go
 *   RG_TMP            a scratch directory for the blogs the tests start
 */

const { chromium } = require('playwright-core');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const CHROMIUM = process.env.RG_CHROMIUM || '/usr/bin/chromium';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set; run the tests through run.sh`);
  return v;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url, child, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child && child.exitCode !== null)
      throw new Error(`replyguard-blog exited with status ${child.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer`);
    await sleep(100);
  }
}

/*
 * Starts a blog of its own (a fresh database, key and limits) for a case
 * that needs other settings or a client with a clean record. Returns
 * { url, password, stop() }.
 */
async function startBlog({ style = 'words', minSolve = 2, extra = [] } = {}) {
  const dir = fs.mkdtempSync(path.join(env('RG_TMP'), 'blog-'));
  const key = path.join(dir, 'key');
  const id = Math.floor(Date.now() / 1000);
  fs.writeFileSync(
    key,
    `${id} sign ${crypto.randomBytes(32).toString('base64url')}\n`,
    { mode: 0o600 },
  );
  const port = await freePort();
  const password = crypto.randomBytes(12).toString('base64url');
  const log = fs.openSync(path.join(dir, 'blog.log'), 'w');
  const child = spawn(
    env('RG_BLOG_EXE'),
    [
      '--listen', `127.0.0.1:${port}`,
      '--db', path.join(dir, 'blog.db'),
      '--key', key,
      '--style', style,
      '--min-solve', String(minSolve),
      ...extra,
    ],
    {
      env: { ...process.env, REPLYGUARD_BLOG_PASSWORD: password },
      stdio: ['ignore', log, log],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/`, child, 15000);
  } catch (e) {
    child.kill('SIGTERM');
    throw new Error(`${e.message}\n${fs.readFileSync(path.join(dir, 'blog.log'), 'utf8')}`);
  }
  return {
    url,
    password,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    },
  };
}

/* The blog run.sh started. */
function sharedBlog() {
  return {
    url: env('RG_BLOG_URL'),
    password: env('RG_BLOG_PASSWORD'),
    minSolve: Number(process.env.RG_MIN_SOLVE || '2'),
    async stop() {},
  };
}

/* The question as the page shows it: the text of <label for="rg_answer">. */
async function question(page) {
  return (await page.locator('label[for="rg_answer"]').innerText()).trim();
}

async function token(page) {
  return page.locator('input[name="rg_token"]').getAttribute('value');
}

/* Fills the reader's fields (not the answer). */
async function fillComment(page, { author, email = '', url = '', comment }) {
  await page.fill('[name="author"]', author);
  if (email) await page.fill('[name="email"]', email);
  if (url) await page.fill('[name="url"]', url);
  await page.fill('[name="comment"]', comment);
}

/* Submits the comment form (the button inside the form holding rg_answer)
 * and waits for the page that answers. */
async function submit(page) {
  const form = page.locator('form:has([name="rg_answer"])');
  const button = form.locator('button[type="submit"], input[type="submit"], button:not([type])').first();
  await Promise.all([page.waitForNavigation(), button.click()]);
}

/* The text of the page without the form: where published comments and
 * notices are. */
async function textOutsideForm(page) {
  return page.evaluate(() => {
    const clone = document.body.cloneNode(true);
    for (const f of clone.querySelectorAll('form')) f.remove();
    return clone.innerText;
  });
}

async function artefact(page, name) {
  const dir = process.env.RG_ARTEFACTS;
  if (!dir) return null;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/* A unique marker, so a comment is found on the page whatever else is
 * there. */
function marker(label) {
  return `${label}-${crypto.randomBytes(4).toString('hex')}`;
}

module.exports = {
  launch, startBlog, sharedBlog, sleep, question, token, fillComment,
  submit, textOutsideForm, artefact, marker, env,
};
