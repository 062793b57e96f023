'use strict';
/*
 * The example blog's comment form in headless Chromium, as readers, bots
 * and the moderator use it. Run through run.sh, which starts the blog.
 */

const test = require('node:test');
const assert = require('node:assert/strict');
const { solve } = require('./solver');
const h = require('./harness');

let browser;

test.before(async () => {
  browser = await h.launch();
});

test.after(async () => {
  if (browser) await browser.close();
});

/* What became of a submitted comment, judged from the page that answered:
 * 'rejected' (the form is back with the text), 'moderated' (a notice that
 * it waits for a moderator) or 'accepted' (it is among the comments). */
async function outcome(page, text) {
  const kept = await page.locator('[name="comment"]').inputValue().catch(() => '');
  if (kept.includes(text)) return 'rejected';
  const outside = await h.textOutsideForm(page);
  if (/moderat|queue|review|held|approv/i.test(outside) && !published(outside, text))
    return 'moderated';
  if (outside.includes(text)) return 'accepted';
  return 'unknown';
}

/* Whether text is on the page outside a notice about moderation. */
function published(outside, text) {
  return outside.split('\n').some((line) => line.includes(text) && !/moderat|queue|review|held/i.test(line));
}

/* A reader: reads the question, works it out, waits past the minimum
 * solve time, fills the form and sends it. Returns the question. */
async function postAsReader(page, blog, fields, { wait = true, answer } = {}) {
  const q = await h.question(page);
  const started = Date.now();
  await h.fillComment(page, fields);
  await page.fill('[name="rg_answer"]', String(answer !== undefined ? answer : solve(q)));
  if (wait) {
    const left = blog.minSolve * 1000 + 700 - (Date.now() - started);
    if (left > 0) await h.sleep(left);
  }
  await h.submit(page);
  return q;
}

/* Opens /admin as the moderator (HTTP basic auth, or the login form). */
async function adminPage(blog) {
  const context = await browser.newContext({
    httpCredentials: { username: 'admin', password: blog.password },
  });
  const page = await context.newPage();
  await page.goto(`${blog.url}/admin`);
  const pw = page.locator('input[type="password"]');
  if (await pw.count()) {
    const user = page.locator('input[name="user"], input[name="username"]');
    if (await user.count()) await user.fill('admin');
    await pw.fill(blog.password);
    await Promise.all([
      page.waitForNavigation(),
      pw.press('Enter'),
    ]);
    if (!new URL(page.url()).pathname.startsWith('/admin'))
      await page.goto(`${blog.url}/admin`);
  }
  return { context, page };
}

/* Presses the moderator's button ("Approve", "Spam", "Not spam") on the
 * listed comment that contains text. */
async function moderate(page, text, action) {
  const item = page.locator('li').filter({ hasText: text }).last();
  const button = item.getByRole('button', { name: action, exact: true });
  await Promise.all([page.waitForNavigation(), button.click()]);
}

test('the solver reads every phrasing', () => {
  const cases = [
    ['nine + ten =', 19],
    ['What is nine plus ten?', 19],
    ['How much is twenty-one \u00d7 three?', 63],
    ['nineteen \u2212 four =', 15],
    ['twelve + three \u2212 four =', 11],
    ['nine + ? = nineteen', 10],
    ['Fill in the missing number: nine + ? = nineteen', 10],
    ['Which number is missing? twenty \u2212 ? = six', 14],
    ['nine plus what equals nineteen', 10],
    ['one hundred and five + two hundred =', 305],
    ['What is nine hundred ninety-nine minus zero?', 999],
    ['What is 7 \u00d7 8?', 56],
    ['How much is 20 minus 0?', 20],
  ];
  for (const [q, want] of cases) assert.equal(solve(q), want, q);
});

test('the solver understands what the blog asks', async () => {
  const blog = h.sharedBlog();
  for (let i = 0; i < 30; i++) {
    const r = await fetch(`${blog.url}/captcha`);
    assert.equal(r.status, 200);
    const c = await r.json();
    assert.equal(typeof c.question, 'string');
    assert.equal(typeof c.token, 'string');
    const answer = solve(c.question);
    assert.ok(Number.isInteger(answer) && answer >= 0 && answer <= 999, c.question);
    if (c.spoken) assert.equal(solve(c.spoken), answer, c.spoken);
  }
});

test('a reader who answers right is published', async () => {
  const blog = await h.startBlog({ minSolve: 2 });
  blog.minSolve = 2;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${blog.url}/`);
    const text = h.marker('A reader agrees with the post');
    const q = await postAsReader(page, blog, {
      author: 'Ada Reader', email: 'ada@example.org', url: 'https://example.org/', comment: text,
    });
    assert.equal(await outcome(page, text), 'accepted', `question "${q}"`);
    await page.goto(`${blog.url}/`);
    assert.ok((await h.textOutsideForm(page)).includes(text), 'the comment is on the post page');
    await h.artefact(page, 'post-page.png');
  } finally {
    await context.close();
    await blog.stop();
  }
});

test('a wrong answer keeps the text, says why and asks anew', async () => {
  const blog = await h.startBlog({ minSolve: 1 });
  blog.minSolve = 1;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${blog.url}/`);
    const before = await h.question(page);
    const tokenBefore = await h.token(page);
    const text = h.marker('Arithmetic is hard');
    await postAsReader(page, blog, { author: 'Bea Wrong', comment: text }, { answer: solve(before) + 1 });
    assert.equal(await outcome(page, text), 'rejected');
    assert.equal(await page.locator('[name="comment"]').inputValue(), text, 'the comment is kept');
    assert.equal(await page.locator('[name="author"]').inputValue(), 'Bea Wrong', 'the name is kept');
    assert.match(await page.locator('body').innerText(), /wrong|incorrect|not (the )?right/i, 'the reason');
    assert.notEqual(await h.token(page), tokenBefore, 'a fresh challenge');
    assert.equal(await page.locator('[name="rg_answer"]').inputValue(), '', 'the answer box is empty');
    solve(await h.question(page)); /* the new question reads */
    assert.ok(!(await h.textOutsideForm(page)).includes(text), 'not published');
  } finally {
    await context.close();
    await blog.stop();
  }
});

test('a bot that fills the honeypot is rejected', async () => {
  const blog = await h.startBlog({ minSolve: 1 });
  blog.minSolve = 1;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${blog.url}/`);
    /* A bot fills every field, seen or not. */
    await page.evaluate(() => {
      document.querySelector('[name="rg_note"]').value = 'Great post, visit my site';
    });
    const text = h.marker('Buy cheap watches');
    await postAsReader(page, blog, { author: 'Bot', comment: text });
    assert.equal(await outcome(page, text), 'rejected');
    assert.match(await page.locator('body').innerText(), /hidden field/i, 'the reason');
    await page.goto(`${blog.url}/`);
    assert.ok(!(await h.textOutsideForm(page)).includes(text), 'not published');
  } finally {
    await context.close();
    await blog.stop();
  }
});

test('a comment sent too fast is rejected', async () => {
  const blog = await h.startBlog({ minSolve: 5 });
  blog.minSolve = 5;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${blog.url}/`);
    const text = h.marker('First!');
    await postAsReader(page, blog, { author: 'Speedy', comment: text }, { wait: false });
    assert.equal(await outcome(page, text), 'rejected');
    assert.match(await page.locator('body').innerText(), /fast|quick|wait|seconds/i, 'the reason');
    assert.equal(await page.locator('[name="comment"]').inputValue(), text, 'the comment is kept');
  } finally {
    await context.close();
    await blog.stop();
  }
});

test('a replayed POST is rejected', async () => {
  const blog = await h.startBlog({ minSolve: 1 });
  blog.minSolve = 1;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${blog.url}/`);
    let captured = null;
    page.on('request', (r) => {
      if (r.method() === 'POST' && !captured)
        captured = { url: r.url(), body: r.postData(), headers: r.headers() };
    });
    const text = h.marker('Worth saying twice');
    await postAsReader(page, blog, { author: 'Echo', comment: text });
    assert.equal(await outcome(page, text), 'accepted');
    assert.ok(captured, 'the form was sent by POST');

    /* The same bytes again, as a bot that recorded them would send. */
    const r = await page.request.post(captured.url, {
      headers: { 'content-type': captured.headers['content-type'] },
      data: captured.body,
      maxRedirects: 0,
    });
    assert.ok(r.status() < 500, `status ${r.status()}`);
    const replay = await browser.newPage();
    await replay.setContent(await r.text());
    assert.equal(await outcome(replay, text), 'rejected', 'the replay is refused');
    assert.match(await replay.locator('body').innerText(), /already|used|replay|again|expired/i, 'the reason');
    await replay.close();

    await page.goto(`${blog.url}/`);
    const shown = (await h.textOutsideForm(page)).split(text).length - 1;
    assert.equal(shown, 1, 'published once');
  } finally {
    await context.close();
    await blog.stop();
  }
});

test('the form works without JavaScript', async () => {
  const blog = await h.startBlog({ style: 'digits', minSolve: 1 });
  blog.minSolve = 1;
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto(`${blog.url}/`);
    const text = h.marker('No scripts here');
    await postAsReader(page, blog, { author: 'Lynx User', comment: text });
    assert.equal(await outcome(page, text), 'accepted');
  } finally {
    await context.close();
    await blog.stop();
  }
});

const SPAM = [
  'Buy cheap viagra online now, best pills casino bonus, click here for free money',
  'Cheap replica watches and casino bonus! Click here, buy now, free viagra pills',
  'Make money fast from home, crypto casino jackpot, buy cheap pills online, click here',
  'Best online casino bonus and cheap viagra, free money, click the link and buy now',
];
const HAM = [
  'Thanks for the clear explanation of the build steps, it helped me fix my meson setup.',
  'I tried the example with SQLite and the comment form worked well on my small blog.',
  'Could you write a follow-up about rotating keys? The part on tokens was interesting.',
  'Nice post. I would add that the honeypot field name matters for password managers.',
];

test('spam is held or refused once the moderator has trained the filter', async () => {
  /* Seven comments from one reader: a rate limit that allows them. */
  const blog = await h.startBlog({
    style: 'digits', minSolve: 1, extra: ['--rate', '60', '--burst', '20'],
  });
  blog.minSolve = 1;
  const reader = await browser.newContext();
  let admin;
  try {
    const page = await reader.newPage();
    const sent = [];
    for (const [kind, texts] of [['spam', SPAM.slice(0, 3)], ['ham', HAM.slice(0, 3)]]) {
      for (const body of texts) {
        const mark = h.marker(kind);
        const text = `${body} ${mark}`;
        await page.goto(`${blog.url}/`);
        await postAsReader(page, blog, { author: kind === 'spam' ? 'Promo' : 'Reader', comment: text });
        const got = await outcome(page, text);
        assert.ok(['accepted', 'moderated'].includes(got), `${kind} before training: ${got}`);
        sent.push({ kind, mark, got });
      }
    }

    /* The moderator marks each one in the queue. */
    admin = await adminPage(blog);
    const queue = admin.page;
    assert.match(await queue.locator('body').innerText(), /queue|moderat/i, 'the admin page');
    /* Held comments are in the queue; published ones are listed too, with
     * the same buttons. */
    for (const s of sent)
      await moderate(queue, s.mark, s.kind === 'spam' ? 'Spam' : 'Not spam');

    const fresh = `${SPAM[3]} ${h.marker('spam')}`;
    await page.goto(`${blog.url}/`);
    await postAsReader(page, blog, { author: 'Promo', comment: fresh });
    const got = await outcome(page, fresh);
    assert.ok(['moderated', 'rejected'].includes(got), `spam after training: ${got}`);

    /* A comment full of links waits for the moderator, so the queue in
     * the screenshot is not empty. */
    const links = `See https://example.org/a and https://example.org/b and https://example.org/c ${h.marker('links')}`;
    await page.goto(`${blog.url}/`);
    await postAsReader(page, blog, { author: 'Linker', comment: links });
    assert.equal(await outcome(page, links), 'moderated', 'a comment of links is held');
    assert.match(await page.locator('body').innerText(), /awaiting moderation/i, 'the author is told');

    await queue.goto(`${blog.url}/admin`);
    assert.ok((await queue.locator('body').innerText()).includes(links.slice(-14)), 'it is in the queue');
    await h.artefact(queue, 'admin-queue.png');
  } finally {
    if (admin) await admin.context.close();
    await reader.close();
    await blog.stop();
  }
});

test('accessibility: labels, the spoken question, the hidden honeypot', async () => {
  const blog = h.sharedBlog();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Accessibility.enable');

    /* The accessible name Chromium computes for the element sel matches. */
    async function axNode(sel) {
      const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
      const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: sel });
      assert.ok(nodeId, `${sel} exists`);
      const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false });
      return nodes[0];
    }

    /* The phrasing is drawn at random: look at several questions. */
    for (let i = 0; i < 12; i++) {
      await page.goto(`${blog.url}/`);

      /* Every input a person fills has a label (and so an accessible name). */
      const fields = await page.$$eval(
        'form input:not([type="hidden"]):not([type="submit"]):not([type="button"]), form textarea, form select',
        (els) => els.map((e) => ({
          id: e.id, name: e.name,
          labelled: e.labels.length > 0 || !!e.getAttribute('aria-label') || !!e.getAttribute('aria-labelledby'),
        })),
      );
      for (const f of fields) assert.ok(f.labelled, `${f.name || f.id} has a label`);
      for (const name of ['author', 'email', 'url', 'comment', 'rg_answer']) {
        assert.ok(fields.some((f) => f.name === name), `the form has ${name}`);
        const node = await axNode(`[name="${name}"]`);
        assert.ok(node.name && node.name.value.trim(), `${name} has an accessible name`);
      }

      /* The question is read as words: no digits, no symbols. */
      const shown = await h.question(page);
      const spoken = (await axNode('#rg_answer')).name.value;
      assert.doesNotMatch(spoken, /[0-9+\u2212\u00d7=]/, `"${shown}" is read as "${spoken}"`);
      assert.equal(solve(spoken), solve(shown), `"${spoken}" says what "${shown}" does`);

      /* The honeypot: not focusable, hidden from sight and from assistive
       * technology. */
      const hp = page.locator('[name="rg_note"]');
      assert.equal(await hp.getAttribute('tabindex'), '-1');
      assert.equal(await hp.isVisible(), false, 'the honeypot is not seen');
      const wrapper = page.locator('div.rg-hp');
      assert.equal(await wrapper.getAttribute('aria-hidden'), 'true');
      assert.notEqual(await wrapper.getAttribute('hidden'), null);
      const hpNode = await axNode('[name="rg_note"]');
      assert.equal(hpNode.ignored, true, 'the honeypot is not in the accessibility tree');
    }

    /* Tab through the page: the keyboard never reaches the honeypot. */
    await page.goto(`${blog.url}/`);
    const reached = new Set();
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      reached.add(await page.evaluate(() => document.activeElement && document.activeElement.getAttribute('name')));
    }
    assert.ok(reached.has('rg_answer'), 'the answer box is reachable by Tab');
    assert.ok(!reached.has('rg_note'), 'the honeypot is not');
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    assert.ok(
      !nodes.some((n) => !n.ignored && n.name && /leave this field empty/i.test(n.name.value)),
      'no screen reader hears the honeypot label',
    );
  } finally {
    await context.close();
  }
});
