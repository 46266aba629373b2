// The browser page end to end: alice and bob in two headless Chromium contexts chat through the
// real stack (Mosquitto's WebSocket listener serves the page; plugin, bridge, Postgres behind it).
// Screenshots go to $MQCHAT_ARTIFACTS_DIR. Exit 77 (skipped) outside `./mqchat test`.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(`${process.cwd()}/`);  // run from client-demo/web (its node_modules)
const { chromium } = require('playwright-core');

const { MQCHAT_WS_PORT: wsPort, MQCHAT_CLI: cli } = process.env;
if (!wsPort || !cli) { console.error('needs the stack of ./mqchat test'); process.exit(77); }
const artifacts = process.env.MQCHAT_ARTIFACTS_DIR || '/tmp/mqchat-artifacts';
mkdirSync(artifacts, { recursive: true });
const url = `http://127.0.0.1:${wsPort}/`;
const suffix = Date.now().toString(36);
const alice = `alice-w${suffix}`, bob = `bob-w${suffix}`, carol = `carol-w${suffix}`, password = 'correct horse';
for (const user of [alice, bob, carol]) execFileSync(cli, ['user', 'add', user, '--password', password], { stdio: 'inherit' });

const step = (name) => console.log(`--- ${name}`);
const timeout = 15000;

async function login(page, user) {
  await page.goto(url);
  // New users become known to the broker within ~2 s: retry a refused login for a while.
  for (let attempt = 0; attempt < 20; attempt++) {
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    await page.click('#login-button');
    const outcome = await Promise.race([
      page.waitForSelector('#app-view:not([hidden])', { timeout }).then(() => 'in'),
      page.waitForSelector('#login-error:not([hidden])', { timeout }).then(() => 'refused'),
    ]);
    if (outcome === 'in') return;
    await page.waitForTimeout(500);
  }
  throw new Error(`${user} cannot log in`);
}

async function shot(page, name) { await page.screenshot({ path: `${artifacts}/${name}.png`, fullPage: true }); }

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
let failed = false;
try {
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  a.on('dialog', (d) => d.accept());

  step('wrong password is refused with a clear message');
  await a.goto(url);
  await a.fill('#login-user', alice);
  await a.fill('#login-password', 'wrong');
  await a.click('#login-button');
  await a.waitForSelector('#login-error:not([hidden])', { timeout });
  await shot(a, '01-login-refused');

  step('both sign in; alice starts a conversation with bob and sends');
  await login(a, alice);
  await login(b, bob);
  await a.waitForSelector('#conversations .empty', { timeout });
  await a.fill('#new-chat-user', bob);
  await a.click('#new-chat button');
  await a.waitForSelector(`text=No messages yet. Say hello to ${bob}!`, { timeout });
  await a.fill('#composer-input', 'hello bob, from the browser');
  await a.press('#composer-input', 'Enter');
  await a.waitForSelector('.message.mine:not(.pending) >> text=hello bob, from the browser', { timeout });
  await a.waitForSelector('.message.mine .receipt:not(.read)', { timeout });
  await shot(a, '02-alice-sent');

  step('bob sees the unread badge, opens the conversation; alice sees it read');
  await b.waitForSelector(`#conversations li[data-room] .badge >> text=1`, { timeout });
  await shot(b, '03-bob-unread-badge');
  await b.click(`#conversations li[data-room] >> text=${alice}`);
  await b.waitForSelector('.message.theirs >> text=hello bob, from the browser', { timeout });
  await a.waitForSelector('.message.mine .receipt.read', { timeout });
  await a.waitForSelector('#peer-dot.online', { timeout });

  step('typing shows on the other side');
  await b.type('#composer-input', 'hi');
  await a.waitForSelector('#typing:not([hidden])', { timeout });
  await b.fill('#composer-input', '');

  step('alice edits her message; bob sees the new text and the edited mark');
  await a.hover('.message.mine');
  await a.click('.message.mine .action >> text=Edit');
  await a.fill('.edit-box', 'hello bob, edited');
  await a.press('.edit-box', 'Enter');
  await b.waitForSelector('.message.theirs >> text=hello bob, edited', { timeout });
  await b.waitForSelector('.message.theirs .edited', { timeout });
  await shot(b, '04-bob-sees-edit');

  step('bob goes offline; alice sends three messages; bob comes back and catches up');
  await b.context().close();
  for (const text of ['while you were away 1', 'while you were away 2', 'while you were away 3']) {
    await a.fill('#composer-input', text);
    await a.press('#composer-input', 'Enter');
    await a.waitForSelector(`.message.mine:not(.pending) >> text=${text}`, { timeout });
  }
  await a.waitForSelector(`#peer-dot:not(.online)`, { timeout });
  const b2 = await (await browser.newContext()).newPage();
  b2.on('dialog', (d) => d.accept());
  await login(b2, bob);
  await b2.waitForSelector(`#conversations li[data-room] .badge >> text=3`, { timeout });
  await shot(b2, '05-bob-back-unread-3');
  await b2.click(`#conversations li[data-room] >> text=${alice}`);
  for (const n of [1, 2, 3]) await b2.waitForSelector(`.message.theirs >> text=while you were away ${n}`, { timeout });
  await b2.waitForSelector('.message.theirs .edited', { timeout });  // the edit survived in history
  await shot(b2, '06-bob-caught-up');

  step('alice deletes a message; bob sees it deleted');
  const last = a.locator('.message.mine', { hasText: 'while you were away 3' });
  await last.hover();
  await last.locator('.action >> text=Delete').click();
  await b2.waitForSelector('.message.theirs .content.deleted', { timeout });
  await shot(b2, '07-bob-sees-delete');

  // ---- issue 17: replies, reactions, search, archive and mute
  const room = alice < bob ? `${alice}_${bob}` : `${bob}_${alice}`;
  const theirs = (page, text) => page.locator('.message.theirs', { hasText: text });
  const mine = (page, text) => page.locator('.message.mine:not(.pending)', { hasText: text });

  step('bob replies to a message: both see the quote');
  await theirs(b2, 'while you were away 1').hover();
  await theirs(b2, 'while you were away 1').locator('.reply-action').click();
  await b2.waitForSelector('#reply-bar:not([hidden]) >> text=while you were away 1', { timeout });
  await b2.fill('#composer-input', 'a reply from bob');
  await b2.press('#composer-input', 'Enter');
  await mine(b2, 'a reply from bob').locator('.quote >> text=while you were away 1').waitFor({ timeout });
  await theirs(a, 'a reply from bob').locator('.quote >> text=while you were away 1').waitFor({ timeout });
  if (!(await b2.isHidden('#reply-bar'))) throw new Error('the reply bar stayed after sending');
  await shot(a, '08-alice-sees-reply');

  step('alice reacts; bob sees the count; bob adds his own: 2 on both, "mine" on each');
  await theirs(a, 'a reply from bob').hover();
  await theirs(a, 'a reply from bob').locator('.react-action').click();
  await theirs(a, 'a reply from bob').locator('.picker button >> text=👍').click();
  await theirs(a, 'a reply from bob').locator('.reaction.mine >> text=👍 1').waitFor({ timeout });
  await mine(b2, 'a reply from bob').locator('.reaction:not(.mine) >> text=👍 1').waitFor({ timeout });
  await mine(b2, 'a reply from bob').locator('.reaction >> text=👍 1').click();
  await mine(b2, 'a reply from bob').locator('.reaction.mine >> text=👍 2').waitFor({ timeout });
  await theirs(a, 'a reply from bob').locator('.reaction.mine >> text=👍 2').waitFor({ timeout });
  await shot(b2, '09-bob-reactions');

  step('bob searches: the messages with the word, highlighted; deleted ones are not found');
  await b2.fill('#search-input', 'away');
  await b2.click('#search-form button');
  await b2.waitForSelector('#search-list .result mark', { timeout });
  const found = await b2.$$eval('#search-list .result', (rows) => rows.map((r) => r.textContent));
  if (found.length !== 2 || !found.every((t) => /while you were away/.test(t)))  // 1 and 2; 3 was deleted
    throw new Error(`search found ${JSON.stringify(found)}`);
  const marked = await b2.$$eval('#search-list .result mark', (ms) => ms.map((m) => m.textContent.toLowerCase()));
  if (!marked.every((t) => t === 'away')) throw new Error(`highlights: ${JSON.stringify(marked)}`);
  await shot(b2, '10-bob-search');
  await b2.click('#search-list .result');
  await b2.waitForSelector(`#conversations li[data-room="${room}"].active`, { timeout });
  await b2.click('#search-close');

  step('bob mutes the conversation, then unmutes it');
  await b2.click('#mute-toggle');
  await b2.waitForSelector('#mute-toggle:text-is("Unmute")', { timeout });
  await b2.waitForSelector(`#conversations li[data-room="${room}"] .muted-mark`, { timeout });
  await b2.click('#mute-toggle');
  await b2.waitForSelector('#mute-toggle:text-is("Mute")', { timeout });
  await b2.waitForSelector(`#conversations li[data-room="${room}"]:not(:has(.muted-mark))`, { timeout });

  step('bob archives it: it leaves the list and is in the archived list; unarchived, it is back');
  await b2.click('#archive-toggle');
  await b2.waitForSelector('#archive-toggle:text-is("Unarchive")', { timeout });
  await b2.waitForSelector(`#conversations li[data-room="${room}"]`, { state: 'detached', timeout });
  await b2.click('#archived-toggle');
  await b2.waitForSelector(`#archived-list li[data-room="${room}"] >> text=${alice}`, { timeout });
  await shot(b2, '11-bob-archived');
  await b2.click('#archive-toggle');
  await b2.waitForSelector('#archive-toggle:text-is("Archive")', { timeout });
  await b2.waitForSelector(`#conversations li[data-room="${room}"]`, { timeout });
  await b2.waitForSelector('#archived-list >> text=No archived conversations.', { timeout });

  step('alice creates a group with bob and carol: its members on screen, a message bob sees with its sender');
  await a.fill('#new-group-name', 'Web group');
  await a.fill('#new-group-users', `${bob}, ${carol}`);
  await a.click('#new-group button');
  await a.waitForSelector('#group-tools:not([hidden])', { timeout });
  await a.waitForSelector('#group-members >> text=3 members', { timeout });
  await a.waitForSelector('#peer-name >> text=# Web group', { timeout });
  const groupRoom = await a.$eval('#conversations li.active', (li) => li.dataset.room);
  if (!/^g:[0-9a-f]{16}$/.test(groupRoom)) throw new Error(`group room ${groupRoom}`);
  await a.waitForTimeout(1500);  // the broker learns a new group's members within a second (LISTEN)
  await a.fill('#composer-input', 'hello group');
  await a.press('#composer-input', 'Enter');
  await mine(a, 'hello group').waitFor({ timeout });
  await b2.waitForSelector(`#conversations li[data-room="${groupRoom}"] >> text=# Web group`, { timeout });
  await b2.click(`#conversations li[data-room="${groupRoom}"]`);
  await theirs(b2, 'hello group').locator(`.sender >> text=${alice}`).waitFor({ timeout });
  await b2.waitForSelector('#group-members >> text=3 members', { timeout });
  await shot(b2, '12-bob-in-group');

  step('bob leaves the group: it leaves his list; alice sees two members');
  await b2.click('#group-leave');
  await b2.waitForSelector(`#conversations li[data-room="${groupRoom}"]`, { state: 'detached', timeout });
  await a.waitForSelector('#group-members >> text=2 members', { timeout });
  await shot(a, '13-alice-group-after-leave');

  step('the composer takes at most 4000 characters');
  await a.fill('#composer-input', 'x'.repeat(4001));
  const length = await a.$eval('#composer-input', (el) => el.value.length);
  if (length !== 4000) throw new Error(`composer accepted ${length} characters`);
  console.log('web end-to-end: passed');
} catch (err) {
  failed = true;
  console.error(`web end-to-end: FAILED: ${err.stack || err}`);
  for (const [i, ctx] of browser.contexts().entries())
    for (const page of ctx.pages()) await page.screenshot({ path: `${artifacts}/failure-${i}.png` }).catch(() => {});
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
