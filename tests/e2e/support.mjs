// Shared state and helpers of the browser tests. main.test.mjs is the one entry: it imports
// this module, which starts three demo servers (as of 2019-11-20 under the 2018 orders, as of
// 2025-11-20 for the online renewal, as of 2014-06-02 under order 165) and Debian's chromium
// driven by playwright-core, then the walk files. Screenshots go to tests/e2e/artifacts/.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
export const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });
export const port = Number(process.env.DRN_E2E_PORT || 18941);
export const base = `http://127.0.0.1:${port}`;
export let server;
export let browser;
export let out = '';
export const accounts = {};
export const citizens = [];
/// The first server's data directory (its demo PKI under `pki/`).
export let dataDir = '';
// A second demo server on 20 November 2025, inside the online renewal pilot (issue 6).
export const port2 = Number(process.env.DRN_E2E_PORT2 || port + 1);
export const base2 = `http://127.0.0.1:${port2}`;
export let server2;
export let out2 = '';
export const accounts2 = {};
export const citizens2 = [];
// A third demo server on 2 June 2014, under order 165 of 20.03.2014 (seed 002; issue 28).
export const port3 = Number(process.env.DRN_E2E_PORT3 || port + 2);
export const base3 = `http://127.0.0.1:${port3}`;
export let server3;
export let out3 = '';
export const accounts3 = {};
export const citizens3 = [];

export async function waitFor(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`server did not start: ${url}\n${out}`);
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'drn-e2e-'));
  dataDir = join(dir, 'data');
  const bin = join(process.env.CARGO_TARGET_DIR || join(root, 'target'), 'debug', 'drn');
  server = spawn(bin, ['serve', '--demo', '--persons', '500', '--db', `sqlite://${join(dir, 'drn.db')}`, '--addr', `127.0.0.1:${port}`, '--data', join(dir, 'data')], { stdio: ['ignore', 'pipe', 'inherit'] });
  server.stdout.on('data', (d) => { out += d.toString(); });
  await waitFor(`${base}/healthz`, 60000);
  for (const line of out.split('\n')) {
    const m = line.match(/^\s+(\S+)\s+(demo-\S+)\s+(\S+)\s+(\S+)/);
    if (m) accounts[m[1]] = { password: m[2], role: m[3], unit: m[4] };
    const c = line.match(/^\s+(\d{12})\s+(citizen-\S+)\s+(.*)$/);
    if (c) citizens.push({ iin: c[1], password: c[2], note: c[3] });
  }
  const dir2 = mkdtempSync(join(tmpdir(), 'drn-e2e-pilot-'));
  server2 = spawn(bin, ['serve', '--demo', '--persons', '300', '--as-of', '2025-11-20 10:00', '--db', `sqlite://${join(dir2, 'drn.db')}`, '--addr', `127.0.0.1:${port2}`, '--data', join(dir2, 'data')], { stdio: ['ignore', 'pipe', 'inherit'] });
  server2.stdout.on('data', (d) => { out2 += d.toString(); });
  await waitFor(`${base2}/healthz`, 60000);
  for (const line of out2.split('\n')) {
    const m = line.match(/^\s+(\S+)\s+(demo-\S+)\s+(\S+)\s+(\S+)/);
    if (m) accounts2[m[1]] = { password: m[2], role: m[3], unit: m[4] };
    const c = line.match(/^\s+(\d{12})\s+(citizen-\S+)\s+(.*)$/);
    if (c) citizens2.push({ iin: c[1], password: c[2], note: c[3] });
  }
  const dir3 = mkdtempSync(join(tmpdir(), 'drn-e2e-2014-'));
  server3 = spawn(bin, ['serve', '--demo', '--persons', '300', '--as-of', '2014-06-02 10:00', '--db', `sqlite://${join(dir3, 'drn.db')}`, '--addr', `127.0.0.1:${port3}`, '--data', join(dir3, 'data')], { stdio: ['ignore', 'pipe', 'inherit'] });
  server3.stdout.on('data', (d) => { out3 += d.toString(); });
  await waitFor(`${base3}/healthz`, 60000);
  for (const line of out3.split('\n')) {
    const m = line.match(/^\s+(\S+)\s+(demo-\S+)\s+(\S+)\s+(\S+)/);
    if (m) accounts3[m[1]] = { password: m[2], role: m[3], unit: m[4] };
    const c = line.match(/^\s+(\d{12})\s+(citizen-\S+)\s+(.*)$/);
    if (c) citizens3.push({ iin: c[1], password: c[2], note: c[3] });
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  server2?.kill('SIGTERM');
  server3?.kill('SIGTERM');
});

export async function staff(user, b = base, accs = accounts) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${b}/login`);
  await page.getByLabel(/Имя пользователя|Username|Пайдаланушы/).fill(user);
  await page.getByLabel(/Пароль|Password|Құпиясөз/).fill(accs[user].password);
  await page.getByRole('button', { name: /Войти|Sign in|Кіру/ }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/// Forms, signs and sends a registry at `from`'s unit; receives it at `to`'s. `step` picks
/// the row of that step where other applications wait at the unit's other steps.
export async function handOver(from, to, label, b = base, step = null) {
  await from.goto(`${b}/ws/registries`);
  const rows = step === null ? from.locator('body') : from.locator('tbody tr', { hasText: new RegExp(`\\b${step}\\. `) });
  await rows.getByRole('button', { name: /Сформировать реестр|Form registry/ }).first().click();
  // Signing asks the demo's signer through NCALayer's protocol, then sends the form.
  await Promise.all([
    from.waitForNavigation({ timeout: 30000 }),
    from.getByRole('button', { name: /Подписать|Sign$|Sign with EDS/ }).first().click(),
  ]);
  await from.getByRole('button', { name: /Отправить|Send$/ }).first().click();
  await shot(from, `registry-${label}-sent`);
  await to.goto(`${b}/ws/registries`);
  await to.getByLabel(/Входящий номер|Incoming number/).first().fill(`ВХ-${label}`);
  await to.getByRole('button', { name: /Принять реестр|Receive/ }).first().click();
}

/// Signs the document waiting on the card for the signed-in officer's own signature (issue
/// 33): the page asks the demo's signer (NCALayer's protocol) through ncalayer-js-client and
/// sends the signature; fails with the page's message when the signature is refused.
/// Returns whether there was one.
export async function signAwaiting(page) {
  const form = page.locator('form[data-sign-prepare]');
  if (await form.count() === 0) return false;
  await Promise.all([
    page.waitForNavigation({ timeout: 30000 }).catch(() => null),
    form.first().getByRole('button').click(),
  ]);
  const refused = page.locator('.sign-status.overdue');
  if (await refused.count()) throw new Error(`not signed: ${await refused.first().textContent()}`);
  await page.waitForLoadState('load');
  return true;
}

/// Clicks the card's issue button (`name` its label), then signs the result.
export async function issueAndSign(page, name) {
  await Promise.all([
    page.waitForNavigation({ timeout: 30000 }),
    page.getByRole('button', { name }).click(),
  ]);
  await signAwaiting(page);
}

// ---------------------------------------------------------------- issue 7: the other services

/// Signs a citizen in through the API (password, then the sandbox SMS code); returns the
/// cookie and CSRF token for JSON calls.
export async function citizenApi(c) {
  const r1 = await fetch(`${base}/api/v1/auth/citizen/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ iin: c.iin, password: c.password }) });
  assert.equal(r1.status, 200, await r1.clone().text());
  const { challenge } = await r1.json();
  const sms = await (await fetch(`${base}/api/v1/sandbox/sms`)).json();
  const code = sms[0].text.split(' ').pop();
  const r2 = await fetch(`${base}/api/v1/auth/citizen/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ challenge, code }) });
  assert.equal(r2.status, 200, await r2.clone().text());
  const cookie = r2.headers.get('set-cookie').split(';')[0];
  const { csrf_token: csrf } = await r2.json();
  return { cookie, csrf };
}

/// At the counter: finds an address by text and chooses a premise; returns its РКА.
export async function chooseAddress(counter, iin) {
  await counter.goto(`${base}/ws/person?iin=${iin}`);
  await counter.getByLabel(/Адрес или РКА|Address or РКА/).fill('Абая');
  await counter.getByRole('button', { name: /Найти адрес|Find the address/ }).click();
  await counter.locator('#addr-results tbody tr').first().waitFor();
  await shot(counter, 'counter-address-search');
  const rows = counter.locator('#addr-results tbody tr');
  const n = await rows.count();
  let row = rows.first();
  for (let i = 0; i < n; i++) {
    if (/кв\.|кв /.test(await rows.nth(i).innerText())) { row = rows.nth(i); break; }
  }
  const rka = (await row.locator('code').innerText()).trim();
  assert.match(rka, /^\d{16}$/);
  await row.getByRole('link', { name: /Выбрать|Choose/ }).click();
  await counter.getByText(rka).first().waitFor();
  return rka;
}

/// Signs a citizen in on `b` with password and the one-time code from the sandbox SMS.
export async function citizenOn(b, citizen) {
  const ctx = await browser.newContext();
  const portal = await ctx.newPage();
  await portal.goto(`${b}/lang/ru?back=/portal/login`);
  await portal.getByLabel(/^ИИН$|^IIN$/).fill(citizen.iin);
  await portal.getByLabel(/Пароль|Password/).fill(citizen.password);
  await portal.getByRole('button', { name: /Войти|Sign in/ }).click();
  const sms = await (await fetch(`${b}/api/v1/sandbox/sms`)).json();
  const code = sms[0].text.split(' ').pop();
  await portal.getByLabel(/Одноразовый код|One-time code/).fill(code);
  await portal.getByRole('button', { name: /Войти|Sign in/ }).click();
  await portal.getByRole('heading', { name: /Мои заявления|My applications/ }).waitFor();
  return portal;
}

// ---------------------------------------------------------------- issue 28: the demo as of 2014

/// A staff user on the 2014 server, the interface in Russian.
export async function staff3(user) {
  const page = await staff(user, base3, accounts3);
  await page.goto(`${base3}/lang/ru?back=/ws`);
  return page;
}

/// The district of a person's permanent registration on the 2014 server, as a staff user reads it.
export async function home3(page, iin) {
  const person = await (await page.request.get(`${base3}/api/v1/persons/${iin}`)).json();
  return person.data.registration.district;
}

/// At the district officer's person page of the 2014 server: takes S6, S7 or S8 in for the
/// resident host `iin`, with the foreigner's passport data (and S8's last day of the stay,
/// `until`, when given); returns the application's page.
export async function foreignerIntake(district, service, iin, foreigner) {
  await district.goto(`${base3}/ws/person?iin=${iin}`);
  const card = district.locator('details', { has: district.locator(`input[name="service"][value="${service}"]`) });
  if ((await card.getAttribute('open')) === null) await card.locator('summary').click();
  await card.locator('input[name="d.foreigner.surname"]').fill(foreigner.surname);
  await card.locator('input[name="d.foreigner.given_name"]').fill(foreigner.given);
  await card.locator('input[name="d.foreigner.birth_date"]').fill(foreigner.birth);
  await card.locator('select[name="d.foreigner.sex"]').selectOption(foreigner.sex);
  await card.locator('input[name="d.foreigner.citizenship"]').fill(foreigner.citizenship);
  await card.locator('input[name="d.foreigner.passport"]').fill(foreigner.passport);
  if (service === 'S6') await card.locator('input[name="d.zone"]').fill(foreigner.zone);
  if (foreigner.until) await card.locator('input[name="d.until"]').fill(foreigner.until);
  await shot(district, `${service.toLowerCase()}-2014-intake`);
  await card.locator('button[type="submit"]').click();
  await district.locator('a[href^="/ws/applications/"]').first().waitFor();
  await district.locator('a[href^="/ws/applications/"]').first().click();
  await district.waitForURL(/\/ws\/applications\/[0-9a-f-]{36}$/);
  return district.url();
}
