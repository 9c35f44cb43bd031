// Browser tests: a demo server, Debian's chromium driven by playwright-core, the whole
// passport application done by five staff users in the browser, a citizen following it,
// an intake refusal with its receipt, and the language switch; a second demo server as of
// 2025-11-20 (online renewal) and a third as of 2014-06-02 (order 165: S1 through the portal,
// S2 at the counter, S6 and S7 at the unit). Screenshots are kept in tests/e2e/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });
const port = Number(process.env.DRN_E2E_PORT || 18941);
const base = `http://127.0.0.1:${port}`;
let server;
let browser;
let out = '';
const accounts = {};
const citizens = [];
// A second demo server on 20 November 2025, inside the online renewal pilot (issue 6).
const port2 = Number(process.env.DRN_E2E_PORT2 || port + 1);
const base2 = `http://127.0.0.1:${port2}`;
let server2;
let out2 = '';
const accounts2 = {};
const citizens2 = [];
// A third demo server on 2 June 2014, under order 165 of 20.03.2014 (seed 002; issue 28).
const port3 = Number(process.env.DRN_E2E_PORT3 || port + 2);
const base3 = `http://127.0.0.1:${port3}`;
let server3;
let out3 = '';
const accounts3 = {};
const citizens3 = [];

async function waitFor(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`server did not start: ${url}\n${out}`);
}

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'drn-e2e-'));
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

async function staff(user, b = base, accs = accounts) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${b}/login`);
  await page.getByLabel(/Имя пользователя|Username|Пайдаланушы/).fill(user);
  await page.getByLabel(/Пароль|Password|Құпиясөз/).fill(accs[user].password);
  await page.getByRole('button', { name: /Войти|Sign in|Кіру/ }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/// Forms, signs and sends a registry at `from`'s unit; receives it at `to`'s.
async function handOver(from, to, label, b = base) {
  await from.goto(`${b}/ws/registries`);
  await from.getByRole('button', { name: /Сформировать реестр|Form registry/ }).first().click();
  await from.getByRole('button', { name: /Подписать|Sign$/ }).first().click();
  await from.getByRole('button', { name: /Отправить|Send$/ }).first().click();
  await shot(from, `registry-${label}-sent`);
  await to.goto(`${b}/ws/registries`);
  await to.getByLabel(/Входящий номер|Incoming number/).first().fill(`ВХ-${label}`);
  await to.getByRole('button', { name: /Принять реестр|Receive/ }).first().click();
}

test('a passport application from counter to issue, by five users, followed by the citizen', async () => {
  assert.ok(citizens.length > 0, 'the demo printed citizens');
  const citizen = citizens[0];
  const counter = await staff('op.astana.1');
  await shot(counter, 'counter-home');
  await counter.getByLabel(/^ИИН$|^IIN$/).fill(citizen.iin);
  await counter.getByRole('button', { name: /Поиск по ИИН|Find by IIN/ }).click();
  await shot(counter, 'counter-person');
  await counter.getByRole('button', { name: /Принять|Accept/ }).first().click();
  await counter.getByRole('heading', { name: /Заявление принято|Application accepted/ }).waitFor();
  await shot(counter, 'counter-talon');
  const talon = await counter.locator('dd strong').first().innerText();
  assert.match(talon, /C71-1-1-\d{4}-\d{6}/);
  await counter.getByRole('link', { name: /^Заявление$|^Application$/ }).click();
  await counter.getByRole('button', { name: /Завершить шаг|Complete step/ }).click();
  const district = await staff('district.astana');
  const region = await staff('region.astana');
  const centre = await staff('centre');
  const production = await staff('production');
  await handOver(district, region, 'district');
  await handOver(region, centre, 'summary');
  await handOver(centre, production, 'cover');
  await handOver(production, centre, 'manufactured');
  await handOver(centre, region, 'dispatch');
  await handOver(region, district, 'accompanying-1');
  await handOver(district, counter, 'accompanying-2');
  await counter.goto(`${base}/ws`);
  await counter.getByRole('link', { name: /Готово к выдаче|Ready to issue/ }).first().click();
  await shot(counter, 'counter-issue');
  await counter.getByRole('button', { name: /^Выдать$|^Issue$/ }).click();
  await counter.getByText(/^(Выдано|Issued)$/).first().waitFor();
  await shot(counter, 'counter-issued');
  // The citizen signs in with password and one-time code and sees the application.
  const cctx = await browser.newContext();
  const portal = await cctx.newPage();
  await portal.goto(`${base}/portal/login`);
  await portal.getByLabel(/^ИИН$|^IIN$/).fill(citizen.iin);
  await portal.getByLabel(/Пароль|Password/).fill(citizen.password);
  await portal.getByRole('button', { name: /Войти|Sign in/ }).click();
  const sms = await (await fetch(`${base}/api/v1/sandbox/sms`)).json();
  const code = sms[0].text.split(' ').pop();
  await portal.getByLabel(/Одноразовый код|One-time code/).fill(code);
  await portal.getByRole('button', { name: /Войти|Sign in/ }).click();
  await portal.getByRole('heading', { name: /Мои заявления|My applications/ }).waitFor();
  await portal.getByText(talon).waitFor();
  await shot(portal, 'citizen-applications');
  await portal.getByRole('link', { name: /Кто смотрел мои данные|Who read my data/ }).click();
  await portal.getByText('op.astana.1').first().waitFor();
  await shot(portal, 'citizen-reads');
});

test('an intake refusal gives a printable receipt', async () => {
  const counter = await staff('op.astana.2');
  await counter.goto(`${base}/ws/person?iin=${citizens[1].iin}`);
  await counter.getByLabel(/Иной недостающий|Other missing/).first().fill('Свидетельство о рождении (нет оригинала)');
  await counter.getByRole('button', { name: /Принять|Accept/ }).first().click();
  await counter.getByRole('heading', { name: /Отказ в приёме документов|Documents not accepted/ }).waitFor();
  const receipt = await counter.locator('dd strong').first().innerText();
  assert.match(receipt, /^R-/);
  await counter.getByText('Свидетельство о рождении (нет оригинала)').waitFor();
  await shot(counter, 'intake-refusal-receipt');
});

test('the talon is a signed PDF whose QR page verifies it for anyone', async () => {
  const citizen = citizens[3] ?? citizens[1];
  const counter = await staff('op.astana.1');
  await counter.goto(`${base}/ws/person?iin=${citizen.iin}`);
  await counter.getByRole('button', { name: /Принять|Accept/ }).first().click();
  await counter.getByRole('heading', { name: /Заявление принято|Application accepted/ }).waitFor();
  const pdfLink = counter.getByRole('link', { name: /^PDF · / }).first();
  const href = await pdfLink.getAttribute('href');
  assert.match(href, /^\/api\/v1\/documents\/[0-9a-f-]{36}\.pdf$/);
  const res = await counter.request.get(`${base}${href}`);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], 'application/pdf');
  const pdf = await res.body();
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  await shot(counter, 'talon-with-pdf');
  await counter.getByRole('link', { name: /Проверить подлинность|Verify/ }).first().click();
  await counter.waitForURL(/\/verify\/[0-9a-f-]{36}$/);
  const verifyUrl = counter.url();
  await counter.locator('[data-verdict="valid"]').waitFor();
  // Anyone, without signing in: genuine, and no personal data beyond the document's.
  const ctx = await browser.newContext();
  const anon = await ctx.newPage();
  await anon.goto(verifyUrl);
  await anon.getByText(/Документ подлинный, не изменён и не отозван|genuine, unchanged and not revoked/).waitFor();
  assert.ok(!(await anon.content()).includes(citizen.iin), 'the verification page shows no IIN');
  await anon.locator('#verify-file').setInputFiles({ name: 'talon.pdf', mimeType: 'application/pdf', buffer: pdf });
  await anon.getByText(/Файл подлинный и совпадает|genuine and identical/).waitFor();
  await shot(anon, 'verify-genuine');
  const changed = Buffer.from(pdf);
  changed[Math.floor(changed.length / 3)] ^= 1;
  await anon.locator('#verify-file').setInputFiles({ name: 'changed.pdf', mimeType: 'application/pdf', buffer: changed });
  await anon.getByText(/Файл не совпадает|NOT the registered document/).waitFor();
  await shot(anon, 'verify-changed');
  await ctx.close();
});

test('the language switch changes every word and is remembered', async () => {
  const page = await staff('district.astana');
  await page.getByRole('link', { name: 'Қазақша' }).click();
  await page.getByRole('link', { name: 'Тізілімдер' }).waitFor();
  await page.goto(`${base}/ws/registries`);
  await page.getByRole('heading', { name: 'Тізілімдер' }).first().waitFor();
  await shot(page, 'lang-kk');
  await page.getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { name: 'Registries' }).first().waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await shot(page, 'lang-en');
});

test('the supervisor sees overdue applications by unit and step and drills down to a card', async () => {
  const page = await staff('supervisor');
  await page.getByRole('heading', { name: /Контроль сроков|Deadline supervision/ }).waitFor();
  await shot(page, 'supervisor-overview');
  // The demo's history leaves applications overdue in Almaty and Karaganda.
  const row = page.locator('table[aria-labelledby="by-unit"] tbody tr').filter({ has: page.locator('.overdue') }).first();
  const link = row.getByRole('link');
  const unit = (await link.innerText()).split(' ')[0];
  await link.click();
  await page.waitForURL(`**/ws/supervision/unit/${unit}`);
  await page.getByText(/\((Просрочено|Overdue)\)/).first().waitFor();
  await shot(page, 'supervisor-unit');
  const number = await page.locator('tbody th a').first().innerText();
  await page.locator('tbody th a').first().click();
  await page.getByRole('heading', { name: new RegExp(number) }).waitFor();
  // Read-only for the supervisor: no action buttons on the card.
  assert.equal(await page.getByRole('button', { name: /Завершить шаг|Complete step|Отказать|Refuse/ }).count(), 0);
  await shot(page, 'supervisor-card');
});

test('the supervisor dashboard draws its trend and step times as SVG with the same numbers in tables, and exports CSV', async () => {
  const page = await staff('supervisor');
  await page.getByRole('heading', { name: /Контроль сроков|Deadline supervision/ }).waitFor();
  const trend = page.locator('svg#trend-chart');
  await trend.waitFor();
  assert.equal(await trend.getAttribute('role'), 'img');
  assert.match(await trend.locator('title#trend-chart-t').textContent(), /Динамика по дням|Trend by day|Күндер бойынша/);
  assert.equal(await trend.locator('polyline').count(), 3);
  // The chart's numbers are in the table below it: 30 days, and the demo history's
  // applications accepted on them.
  const rows = page.locator('table[aria-labelledby="trend"] tbody tr');
  assert.equal(await rows.count(), 30);
  const accepted = (await rows.locator('td:nth-child(2)').allInnerTexts()).map(Number).reduce((a, b) => a + b, 0);
  assert.ok(accepted > 0, 'the demo history accepted applications in the last 30 days');
  await trend.screenshot({ path: join(artifacts, 'supervisor-trend-chart.png') });
  const times = page.locator('svg#times-chart');
  await times.waitFor();
  assert.ok(await times.locator('rect.bar.mean').count() > 0);
  assert.ok(await page.locator('table[aria-labelledby="step-times"] tbody tr').count() > 0);
  await times.screenshot({ path: join(artifacts, 'supervisor-times-chart.png') });
  await shot(page, 'supervisor-dashboard');
  // CSV of the trend: UTF-8 with a BOM, a header and a row a day.
  const href = await page.locator('a[href^="/ws/supervision.csv?table=trend"]').getAttribute('href');
  const r = await page.request.get(`${base}${href}`);
  assert.equal(r.status(), 200);
  const body = await r.body();
  assert.deepEqual([...body.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const lines = body.subarray(3).toString('utf8').split('\r\n').filter((l) => l);
  assert.equal(lines.length, 31);
  // Narrowed to a region: the filter keeps the unit.
  await page.locator('select[name="unit"]').selectOption({ index: 1 });
  await page.getByRole('button', { name: /Применить фильтр|Filter|Сүзу/ }).click();
  await page.waitForURL(/unit=/);
  await page.locator('svg#trend-chart').waitFor();
});

test('the auditor filters the log and sees the chain whole', async () => {
  const page = await staff('auditor');
  await page.getByText(/Цепочка целостна|Chain whole/).waitFor();
  await page.getByLabel(/^Исполнитель$|^Actor$/).fill('supervisor');
  await page.getByRole('button', { name: /Применить фильтр|Filter/ }).click();
  await page.waitForURL(/actor=supervisor/);
  const actors = await page.locator('tbody tr td:nth-child(3)').allInnerTexts();
  assert.ok(actors.length > 0, 'the supervisor has records');
  assert.ok(actors.every((a) => a === 'supervisor'), actors.join(','));
  await page.getByText(/Цепочка целостна|Chain whole/).waitFor();
  await shot(page, 'auditor-log');
});

test('the administrator creates a user who can then sign in, and deactivates them', async () => {
  const admin = await staff('admin');
  await admin.getByRole('heading', { name: /Переносы выходных дней|Transfers of days off/ }).waitFor();
  await admin.getByText('catalog/calendar/kz.toml').first().waitFor();
  await admin.getByLabel(/^Имя пользователя$|^Username$/).fill('op.astana.new');
  await admin.getByLabel(/^ФИО$|^Name$/).fill('Сериков Арман');
  await admin.getByLabel(/^Роль$|^Role$/).selectOption('counter_operator');
  await admin.getByLabel(/^Подразделение$|^Unit$/).selectOption('C71-1-1');
  await admin.locator('#nu-password').fill('new-user-pass-1');
  await admin.getByRole('button', { name: /Создать пользователя|Create user/ }).click();
  await admin.getByText(/Пользователь создан: op.astana.new|User created: op.astana.new/).waitFor();
  await shot(admin, 'admin');
  accounts['op.astana.new'] = { password: 'new-user-pass-1' };
  const user = await staff('op.astana.new');
  await user.getByRole('heading', { name: /Рабочее место|Workstation/ }).waitFor();
  await shot(user, 'admin-new-user-signed-in');
  await admin.goto(`${base}/ws/admin`);
  await admin.getByRole('button', { name: /(Деактивировать|Deactivate): op.astana.new/ }).click();
  await admin.getByText(/Пользователь деактивирован|User deactivated/).waitFor();
  // Their session ended with the deactivation.
  await user.goto(`${base}/ws`);
  assert.match(new URL(user.url()).pathname, /^\/login/);
});

test('a citizen applies on the portal and sees the application in "my applications"', async () => {
  const citizen = citizens[2];
  const ctx = await browser.newContext();
  const portal = await ctx.newPage();
  await portal.goto(`${base}/portal/login`);
  await portal.getByLabel(/^ИИН$|^IIN$/).fill(citizen.iin);
  await portal.getByLabel(/Пароль|Password/).fill(citizen.password);
  await portal.getByRole('button', { name: /Войти|Sign in/ }).click();
  const sms = await (await fetch(`${base}/api/v1/sandbox/sms`)).json();
  const code = sms[0].text.split(' ').pop();
  await portal.getByLabel(/Одноразовый код|One-time code/).fill(code);
  await portal.getByRole('button', { name: /Войти|Sign in/ }).click();
  await portal.getByRole('heading', { name: /Мои заявления|My applications/ }).waitFor();
  await portal.getByRole('link', { name: /^Подать заявление$|^Apply$/ }).click();
  await portal.getByRole('heading', { name: /Подать заявление|Apply/ }).waitFor();
  await shot(portal, 'portal-apply');
  const open = await portal.getByRole('button', { name: /Подать заявление|Submit the application/ }).count();
  if (open === 0) {
    await portal.getByText(/Сегодня через портал услуги не оказываются|No services are open/).waitFor();
    return;
  }
  await portal.getByRole('button', { name: /Подать заявление|Submit the application/ }).first().click();
  await portal.getByRole('heading', { name: /Заявление подано|Application submitted/ }).waitFor();
  const talon = await portal.locator('dd strong').first().innerText();
  assert.match(talon, /^C\d+-\d+-\d+-\d{4}-\d{6}$/);
  await shot(portal, 'portal-applied');
  await portal.getByRole('link', { name: /Мои заявления|My applications/ }).first().click();
  await portal.getByText(talon).waitFor();
  await shot(portal, 'portal-my-applications');
  await portal.getByRole('link', { name: /Мои документы|My documents/ }).click();
  await portal.getByRole('heading', { name: /Мои документы|My documents/ }).waitFor();
  await shot(portal, 'portal-documents');
});

// Issue 28 item 1: S1 through the portal reaches issue. The citizen's request (signed on
// the portal) joins the counter process's chain at the district's registry, goes to
// production and back, and the counter the citizen chose hands the document over.
test('S1 through the portal: from the request to the document issued at the chosen counter', async () => {
  const citizen = citizens.find((c, i) => i > 3) || citizens[citizens.length - 1];
  const portal = await citizenOn(base, citizen);
  await portal.goto(`${base}/portal/apply`);
  const card = portal.locator('details', { has: portal.locator('input[name="service"][value="S1"]') });
  if ((await card.getAttribute('open')) === null) await card.locator('summary').click();
  await shot(portal, 's1-portal-apply');
  const s1 = card.locator('form');
  // The counters offered are those of the citizen's region: take the first, and its staff.
  const chosen = await s1.locator('select[name="unit"]').inputValue();
  const [, code, d] = chosen.match(/^C(\d+)-(\d+)-\d+$/);
  const who = (unit) => Object.keys(accounts).find((u) => accounts[u].unit === unit);
  await s1.getByRole('button', { name: /Подать заявление|Submit the application/ }).click();
  await portal.getByRole('heading', { name: /Заявление подано|Application submitted/ }).waitFor();
  const talon = await portal.locator('dd strong').first().innerText();
  await shot(portal, 's1-portal-applied');
  const district = await staff(who(`D${code}-${d}`));
  const region = await staff(who(`R${code}`));
  const centre = await staff('centre');
  const production = await staff('production');
  const counter = await staff(who(chosen));
  await handOver(district, region, 'portal-district');
  await handOver(region, centre, 'portal-summary');
  await handOver(centre, production, 'portal-cover');
  await handOver(production, centre, 'portal-manufactured');
  await handOver(centre, region, 'portal-dispatch');
  await handOver(region, district, 'portal-accompanying-1');
  await handOver(district, counter, 'portal-accompanying-2');
  await counter.goto(`${base}/ws`);
  await counter.locator('tr', { hasText: talon }).getByRole('link', { name: /Готово к выдаче|Ready to issue/ }).click();
  await counter.getByRole('button', { name: /^Выдать$|^Issue$/ }).click();
  await counter.getByText(/^(Выдано|Issued)$/).first().waitFor();
  await shot(counter, 's1-portal-issued');
  await portal.goto(`${base}/portal`);
  const row = portal.locator('tr', { hasText: talon });
  await row.getByText(/Выдано|Issued/).waitFor();
  await shot(portal, 's1-portal-citizen-issued');
});

// ---------------------------------------------------------------- issue 7: the other services

/// Signs a citizen in through the API (password, then the sandbox SMS code); returns the
/// cookie and CSRF token for JSON calls.
async function citizenApi(c) {
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
async function chooseAddress(counter, iin) {
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

test('S3 registration at the counter with the address search, then S5 address certificate: check, issue, PDF', async () => {
  const citizen = citizens[3] || citizens[0];
  // S3 of 2018 is taken in by the ОМС officer at a State Corporation workstation (seed 000
  // paras 6 and 7; issue 28 item 9): the counter operator's page does not offer it.
  const counter = await staff('op.astana.1');
  await counter.goto(`${base}/ws/person?iin=${citizen.iin}`);
  assert.equal(await counter.locator('input[name="service"][value="S3"]').count(), 0);
  const district = await staff('district.astana');
  const rka = await chooseAddress(district, citizen.iin);
  const s3 = district.locator('details', { has: district.locator('input[name="service"][value="S3"]') });
  assert.equal(await s3.locator('input[name="d.rka"]').inputValue(), rka);
  const workstation = s3.getByLabel(/Рабочее место в Государственной корпорации|Workstation at the State Corporation/);
  assert.ok((await workstation.locator('option').count()) > 0);
  await s3.getByLabel(/ИИН собственника|The owner's IIN/).fill(citizen.iin);
  await s3.getByLabel(/Согласие собственника|The owner's consent/).check();
  await s3.getByRole('button', { name: /^Принять$|^Accept$/ }).click();
  await district.getByRole('heading', { name: /Заявление принято|Application accepted/ }).waitFor();
  await district.getByRole('link', { name: /^Заявление$|^Application$/ }).click();
  await district.getByRole('button', { name: /^Выдать$|^Issue$/ }).click();
  await district.getByText(/^(Выдано|Issued)$/).first().waitFor();
  await shot(district, 's3-issued');
  // S5 for the same person: the check finds the address in the register; immediate issue.
  await counter.goto(`${base}/ws/person?iin=${citizen.iin}`);
  const s5 = counter.locator('details', { has: counter.locator('input[name="service"][value="S5"]') });
  await s5.locator('summary').click();
  await s5.getByRole('button', { name: /^Принять$|^Accept$/ }).click();
  await counter.getByRole('heading', { name: /Заявление принято|Application accepted/ }).waitFor();
  await counter.getByRole('link', { name: /^Заявление$|^Application$/ }).click();
  await counter.getByText(/Перед завершением шага выполните проверку|Run the check before/).waitFor();
  await counter.getByRole('button', { name: /^Проверить$|^Check$/ }).click();
  await counter.locator('#check-result').getByText(/Проверка пройдена|Check passed/).waitFor();
  assert.match(await counter.locator('#check-result').innerText(), new RegExp(rka));
  await shot(counter, 's5-checked');
  await counter.getByRole('button', { name: /^Выдать$|^Issue$/ }).click();
  await counter.getByText(/^(Выдано|Issued)$/).first().waitFor();
  const pdf = counter.locator('a[data-doc-pdf]').last();
  await pdf.waitFor();
  const href = await pdf.getAttribute('href');
  const res = await counter.request.get(`${base}${href}`);
  assert.equal(res.status(), 200);
  assert.equal((await res.body()).subarray(0, 5).toString(), '%PDF-');
  await shot(counter, 's5-issued');
  await counter.getByRole('link', { name: /Журналы: |Journals: / }).click();
  await counter.getByRole('heading', { name: /^Журналы$|^Journals$/ }).waitFor();
  await counter.locator('tbody tr').first().waitFor();
  await shot(counter, 'journal-address-certificates');
});

// Issue 28 items 4 and 5: the counter that holds S5 at its step refuses it with a reason;
// the motivated refusal is a signed PDF among the application's documents, and the reason
// is on the page and in the timeline.
test('a motivated refusal at the counter gives its document and shows its reason', async () => {
  const citizen = citizens[citizens.length - 2] || citizens[1];
  const counter = await staff('op.astana.2');
  await counter.goto(`${base}/lang/kk?back=/ws/person?iin=${citizen.iin}`);
  const s5 = counter.locator('details', { has: counter.locator('input[name="service"][value="S5"]') });
  await s5.locator('summary').click();
  await s5.locator('button[type="submit"]').click();
  await counter.locator('a[href^="/ws/applications/"]').first().waitFor();
  await counter.goto(`${base}/lang/ru?back=${new URL(counter.url()).pathname}`);
  const reason = 'Адрес заявителя не найден в адресном регистре';
  await counter.locator('#refuse-reason').fill(reason);
  await counter.locator('#refuse-reason').locator('xpath=ancestor::form').getByRole('button').click();
  await counter.getByText(/^(Отказано|Refused)$/).first().waitFor();
  await counter.getByText(reason).first().waitFor();
  const pdf = counter.locator('a[data-doc-pdf]').last();
  await pdf.waitFor();
  const res = await counter.request.get(`${base}${await pdf.getAttribute('href')}`);
  assert.equal(res.status(), 200);
  assert.equal((await res.body()).subarray(0, 5).toString(), '%PDF-');
  await shot(counter, 'refusal-with-document');
});

test('S3 through the portal leaves the chip rewrite as a task the counter completes', async () => {
  const citizen = citizens.find((c) => c !== citizens[3]) || citizens[1];
  const counter = await staff('op.astana.1');
  const rka = await chooseAddress(counter, citizen.iin);
  const { cookie, csrf } = await citizenApi(citizen);
  const r = await fetch(`${base}/api/v1/applications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
    body: JSON.stringify({ service: 'S3', channel: 'portal', urgency: 'general', applicant: citizen.iin, data: { unit: accounts['op.astana.1'].unit, kind: 'permanent', rka } }),
  });
  const body = await r.text();
  assert.equal(r.status, 200, body);
  await counter.goto(`${base}/ws/person?iin=${citizen.iin}`);
  await counter.getByRole('heading', { name: /Задачи в ЦОН|Counter tasks/ }).waitFor();
  await shot(counter, 's3-chip-task');
  await counter.getByRole('button', { name: /Перезаписать чип|Rewrite the chip/ }).first().click();
  await counter.getByText(/^(Выполнено|Done)$/).first().waitFor();
  await counter.goto(`${base}/ws/journals?journal=chip_rewrite`);
  await counter.getByText(citizen.iin).first().waitFor();
  await shot(counter, 'journal-chip-rewrite');
});

test('S9: an IIN formed for a foreigner at the counter, issued by the district', async () => {
  const counter = await staff('op.astana.1');
  await counter.goto(`${base}/ws`);
  await counter.locator('summary', { hasText: 'S9' }).click();
  await counter.getByLabel(/^Фамилия$|^Surname$/).fill('Müller');
  await counter.getByLabel(/^Имя$|^Given name$/).fill('Hans');
  await shot(counter, 's9-form');
  await counter.getByLabel(/Дата рождения|Date of birth/).fill('1985-03-14');
  await counter.getByLabel(/^Пол$|^Sex$/).selectOption('M');
  await counter.getByLabel(/Гражданство|Citizenship/).fill('DE');
  await counter.getByLabel(/^Паспорт$|^Passport$/).fill('C4F8K2L9M');
  await counter.getByLabel(/Миграционная карточка|Migration card/).fill('MK 0012345');
  await shot(counter, 's9-intake');
  await counter.getByRole('button', { name: /^Принять$|^Accept$/ }).click();
  await counter.getByRole('heading', { name: /Заявление принято|Application accepted/ }).waitFor();
  await counter.getByRole('link', { name: /^Заявление$|^Application$/ }).click();
  await counter.getByRole('button', { name: /Завершить шаг|Complete step/ }).click();
  await counter.getByLabel(/Письменное согласие|Written consent/).fill('согласие № 17');
  await counter.getByRole('button', { name: /Завершить шаг|Complete step/ }).click();
  await counter.getByRole('button', { name: /Завершить шаг|Complete step/ }).click();
  await counter.getByRole('button', { name: /Выполнить обработку оператором|Run the operator's processing/ }).click();
  const card = counter.url();
  const district = await staff('district.astana');
  await district.goto(card);
  const iin = await district.locator('#receiver').inputValue();
  assert.match(iin, /^\d{12}$/);
  assert.equal(iin.slice(0, 6), '850314');
  await district.getByRole('button', { name: /^Выдать$|^Issue$/ }).click();
  await district.getByText(/^(Выдано|Issued)$/).first().waitFor();
  await shot(district, 's9-issued');
});

/// Signs a citizen in on `b` with password and the one-time code from the sandbox SMS.
async function citizenOn(b, citizen) {
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

test('the online ID-card renewal: upload, signed request, payment, regional approval', async () => {
  const citizen = citizens2.find((c) => /online renewal window/.test(c.note));
  assert.ok(citizen, `the pilot demo printed a citizen in the window:\n${out2}`);
  const portal = await citizenOn(base2, citizen);
  await portal.getByRole('link', { name: /Заменить удостоверение личности онлайн|Renew my ID card online/ }).click();
  await portal.getByRole('heading', { name: /Заменить удостоверение личности онлайн|Renew my ID card online/ }).waitFor();
  await portal.getByText(/Онлайн заменить удостоверение личности можно только/).waitFor();
  await portal.getByText(/сервер подписывает ваш запрос сертификатом/).waitFor();
  const fixtures = join(root, 'crates', 'engine', 'tests', 'fixtures');
  await portal.getByLabel(/^Фото/).setInputFiles(join(fixtures, 'photo_ok.jpg'));
  await portal.getByLabel(/^Образец подписи/).setInputFiles(join(fixtures, 'signature.png'));
  await portal.getByLabel(/Даю согласие/).check();
  await shot(portal, 'renewal-form');
  await portal.getByRole('button', { name: /Подписать и отправить/ }).click();
  await portal.getByRole('heading', { name: /Онлайн-замена удостоверения/ }).waitFor();
  await portal.getByText('Ожидает оплаты пошлины').first().waitFor();
  await shot(portal, 'renewal-awaiting-payment');
  await portal.getByRole('button', { name: /^Оплатить$/ }).click();
  await portal.getByText('На рассмотрении в региональном управлении').first().waitFor();
  await portal.locator('[data-duty="Оплачена"]').waitFor();
  const id = new URL(portal.url()).pathname.split('/').pop();
  const renewal = await (await portal.request.get(`${base2}/api/v1/online-renewal/${id}`)).json();
  assert.equal(renewal.status, 'under_review');
  assert.equal(renewal.step, 17);
  // The regional officer of the chosen registration point's region reviews on the card.
  const app = await (await portal.request.get(`${base2}/api/v1/applications/${renewal.application}`)).json();
  const officer = Object.keys(accounts2).find((u) => accounts2[u].role === 'regional_officer' && accounts2[u].unit === app.holder_unit) || 'region.astana';
  const ctx = await browser.newContext();
  const region = await ctx.newPage();
  await region.goto(`${base2}/lang/ru?back=/login`);
  await region.getByLabel(/Имя пользователя|Username/).fill(officer);
  await region.getByLabel(/Пароль|Password/).fill(accounts2[officer].password);
  await region.getByRole('button', { name: /Войти|Sign in/ }).click();
  await region.waitForURL((u) => !u.pathname.startsWith('/login'));
  await region.goto(`${base2}/ws/applications/${renewal.application}`);
  await region.getByRole('heading', { name: /Рассмотрение онлайн-заявки/ }).waitFor();
  await shot(region, 'renewal-regional-review');
  await region.getByRole('button', { name: /Утвердить и направить на изготовление/ }).click();
  await region.getByText('Изготавливается').first().waitFor();
  await portal.reload();
  await portal.getByText('Изготавливается').first().waitFor();
  await shot(portal, 'renewal-status');
});

test('a citizen outside the window is told to apply at a ЦОН', async () => {
  const citizen = citizens2.find((c) => /counter only/.test(c.note));
  assert.ok(citizen, 'the pilot demo printed a citizen outside the window');
  const portal = await citizenOn(base2, citizen);
  await portal.getByRole('link', { name: /Заменить удостоверение личности онлайн/ }).click();
  await portal.getByText('оформление не доступно, обратитесь в ЦОН').waitFor();
  assert.equal(await portal.getByRole('button', { name: /Подписать и отправить/ }).count(), 0);
  await shot(portal, 'renewal-not-available');
});

// ---------------------------------------------------------------- issue 28: the demo as of 2014

/// A staff user on the 2014 server, the interface in Russian.
async function staff3(user) {
  const page = await staff(user, base3, accounts3);
  await page.goto(`${base3}/lang/ru?back=/ws`);
  return page;
}

test('S1 of 2014 through the portal: the request, the registries, the centre\'s steps and the wanted-persons check, issue at the chosen counter', async () => {
  assert.ok(citizens3.length > 0, `the 2014 demo printed citizens:\n${out3}`);
  // The Almaty resident: the demo has staff in Almaty's units.
  const citizen = citizens3.find((c) => /Almaty resident/.test(c.note));
  assert.ok(citizen, `the 2014 demo printed an Almaty resident:\n${out3}`);
  const portal = await citizenOn(base3, citizen);
  await portal.goto(`${base3}/portal/apply`);
  const card = portal.locator('details', { has: portal.locator('input[name="service"][value="S1"]') });
  if ((await card.getAttribute('open')) === null) await card.locator('summary').click();
  await shot(portal, 's1-portal-apply-2014');
  const s1 = card.locator('form');
  // S1 is given at the place of permanent registration (seed 002 para 6): of the counters
  // of the citizen's region the page offers, the first of the citizen's district.
  const centre = await staff3('centre');
  const person = await (await centre.request.get(`${base3}/api/v1/persons/${citizen.iin}`)).json();
  const home = person.data.registration.district;
  const [, code, d] = home.match(/^D(\d+)-(\d+)$/);
  const offered = await s1.locator('select[name="unit"] option').evaluateAll((os) => os.map((o) => o.value));
  assert.ok(offered.every((u) => u.startsWith(`C${code}-`)), `the counters of the citizen's region: ${offered}`);
  const chosen = offered.find((u) => u.startsWith(`C${code}-${d}-`));
  assert.ok(chosen, `a counter of ${home} is offered: ${offered}`);
  await s1.locator('select[name="unit"]').selectOption(chosen);
  const who = (unit) => Object.keys(accounts3).find((u) => accounts3[u].unit === unit);
  await s1.getByRole('button', { name: /Подать заявление|Submit the application/ }).click();
  await portal.getByRole('heading', { name: /Заявление подано|Application submitted/ }).waitFor();
  const talon = await portal.locator('dd strong').first().innerText();
  assert.match(talon, new RegExp(`^${chosen}-2014-\\d{6}$`));
  await shot(portal, 's1-portal-applied-2014');
  for (const u of [`D${code}-${d}`, `R${code}`, chosen]) assert.ok(who(u), `the 2014 demo has a user at ${u}`);
  const district = await staff3(who(`D${code}-${d}`));
  const region = await staff3(who(`R${code}`));
  const production = await staff3('production');
  const counter = await staff3(who(chosen));
  await handOver(district, region, '2014-district', base3);
  await handOver(region, centre, '2014-summary', base3);
  // Step 5: the centre registers the summary registry in its book of incoming registries.
  await centre.goto(`${base3}/ws`);
  await centre.locator('tr', { hasText: talon }).getByRole('link').first().click();
  await centre.getByText(/Шаг 5:/).waitFor();
  await centre.getByRole('button', { name: /^Завершить шаг$/ }).click();
  // Step 6: the forms are checked against the wanted-persons records; completing the step runs the check.
  await centre.getByText(/Шаг 6:/).waitFor();
  await shot(centre, 's1-portal-2014-centre-step6');
  await centre.getByRole('button', { name: /^Завершить шаг$/ }).click();
  await centre.getByText(/Шаг 7:/).waitFor();
  await centre.locator('tr', { hasText: 'Проверено' }).filter({ hasText: 'centre' }).first().waitFor();
  // Step 7: the summary registry goes to production with a cover letter; step 8 comes back.
  await handOver(centre, production, '2014-cover', base3);
  await handOver(production, centre, '2014-manufactured', base3);
  await centre.goto(`${base3}/ws`);
  await centre.locator('tr', { hasText: talon }).getByRole('link').first().click();
  // Step 9: the registry of manufactured documents is registered, the dispatch registry formed.
  await centre.getByText(/Шаг 9:/).waitFor();
  await centre.getByRole('button', { name: /^Завершить шаг$/ }).click();
  await centre.getByText(/Шаг 10:/).waitFor();
  await handOver(centre, region, '2014-dispatch', base3);
  await region.goto(`${base3}/ws`);
  await region.locator('tr', { hasText: talon }).getByRole('link').first().click();
  // Step 11: the region takes the dispatch in; step 12 sends the documents on to the district.
  await region.getByText(/Шаг 11:/).waitFor();
  await region.getByRole('button', { name: /^Завершить шаг$/ }).click();
  await region.getByText(/Шаг 12:/).waitFor();
  await handOver(region, district, '2014-accompanying-1', base3);
  await handOver(district, counter, '2014-accompanying-2', base3);
  // Step 14: the counter the citizen chose hands the document over.
  await counter.goto(`${base3}/ws`);
  await counter.locator('tr', { hasText: talon }).getByRole('link', { name: /Готово к выдаче/ }).click();
  await counter.getByRole('button', { name: /^Выдать$/ }).click();
  await counter.getByText(/^Выдано$/).first().waitFor();
  await shot(counter, 's1-portal-2014-issued');
  await portal.goto(`${base3}/portal`);
  await portal.locator('tr', { hasText: talon }).getByText(/Выдано/).waitFor();
  await shot(portal, 's1-portal-2014-citizen-issued');
});

/// The district of a person's permanent registration on the 2014 server, as a staff user reads it.
async function home3(page, iin) {
  const person = await (await page.request.get(`${base3}/api/v1/persons/${iin}`)).json();
  return person.data.registration.district;
}

test('S2 of 2014 at the counter: accepted by the counter, the district keeps the journal, the counter hands the card over', async () => {
  const who = (unit) => Object.keys(accounts3).find((u) => accounts3[u].unit === unit);
  const centre = await staff3('centre');
  // A citizen other than the S1 one, registered in a district with staff in the demo.
  let citizen;
  let home;
  for (const c of citizens3.filter((c) => !/Almaty resident|Under 16/.test(c.note))) {
    const h = await home3(centre, c.iin);
    if (who(`${h.replace(/^D/, 'C')}-1`)) { citizen = c; home = h; break; }
  }
  assert.ok(citizen, 'a 2014 demo citizen lives in a district with staff');
  const counter = await staff3(who(`${home.replace(/^D/, 'C')}-1`));
  await counter.goto(`${base3}/ws/person?iin=${citizen.iin}`);
  const s2 = counter.locator('details', { has: counter.locator('input[name="service"][value="S2"]') });
  if ((await s2.getAttribute('open')) === null) await s2.locator('summary').click();
  await s2.getByLabel(/Причина|Основание/).fill('утрата удостоверения личности');
  await shot(counter, 's2-2014-intake');
  await s2.getByRole('button', { name: /^Принять$/ }).click();
  await counter.getByRole('heading', { name: /Заявление принято/ }).waitFor();
  const talon = await counter.locator('dd strong').first().innerText();
  await counter.getByRole('link', { name: /^Заявление$/ }).click();
  const card = counter.url();
  await counter.getByText(/Шаг 2: ГОРРОВД/).waitFor();
  // Step 2: the district makes the card out and records it in the journal of temporary IDs.
  const district = await staff3(who(home));
  await district.goto(card);
  await district.getByRole('button', { name: /^Завершить шаг$/ }).click();
  await district.getByText(/Шаг 3:/).waitFor();
  await district.getByRole('link', { name: /Журналы: / }).click();
  await district.locator('tr', { hasText: citizen.iin }).getByText(/утрата удостоверения личности/).waitFor();
  await shot(district, 's2-2014-journal');
  // Step 3 (table 1 row 1, table 2 box 4): the counter hands the card over.
  await counter.goto(card);
  await counter.getByText(/Шаг 3: ЦОН/).waitFor();
  await counter.getByRole('button', { name: /^Выдать$/ }).click();
  await counter.getByText(/^Выдано$/).first().waitFor();
  await shot(counter, 's2-2014-issued');
});

/// At the district officer's person page of the 2014 server: takes S6 or S7 in for the
/// resident host `iin`, with the foreigner's passport data; returns the application's page.
async function foreignerIntake(district, service, iin, foreigner) {
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
  await shot(district, `${service.toLowerCase()}-2014-intake`);
  await card.locator('button[type="submit"]').click();
  await district.locator('a[href^="/ws/applications/"]').first().waitFor();
  await district.locator('a[href^="/ws/applications/"]').first().click();
  await district.waitForURL(/\/ws\/applications\/[0-9a-f-]{36}$/);
  return district.url();
}

test('S6 of 2014 at the unit: the host applies for a foreigner, the special-records check, the pass issued', async () => {
  const district = await staff3('district.astana');
  const host = citizens3.find((c) => /valid for/.test(c.note)) || citizens3[0];
  await foreignerIntake(district, 'S6', host.iin, { surname: 'Schmidt', given: 'Anna', birth: '1990-07-01', sex: 'F', citizenship: 'DE', passport: 'C01X00T47', zone: 'Курчумский район' });
  // Step 2: the documents are received and checked.
  await district.getByText(/Шаг 2:/).waitFor();
  await district.getByRole('button', { name: /^Завершить шаг$/ }).click();
  await district.getByText(/Шаг 3:/).waitFor();
  // Step 3: the special-records check, then the pass.
  await district.getByRole('button', { name: /^Проверить$/ }).click();
  await district.locator('#check-result').getByText(/Проверка пройдена/).waitFor();
  await shot(district, 's6-2014-checked');
  await district.getByRole('button', { name: /^Выдать$/ }).click();
  await district.getByText(/^Выдано$/).first().waitFor();
  await shot(district, 's6-2014-issued');
});

// A motivated refusal after the special-records check (S7 2014, step 3's refusal branch),
// done in Kazakh: the refusal is a signed PDF and its reason is on the page.
test('S7 of 2014 at the unit: the invitation refused after the special-records check, with its document', async () => {
  const district = await staff3('district.astana');
  const host = citizens3.find((c) => /valid for/.test(c.note)) || citizens3[0];
  await district.goto(`${base3}/lang/kk?back=/ws`);
  const card = await foreignerIntake(district, 'S7', host.iin, { surname: 'Ivanov', given: 'Petr', birth: '1979-02-11', sex: 'M', citizenship: 'RU', passport: '720456789' });
  assert.equal(await district.locator('html').getAttribute('lang'), 'kk');
  // Step 2: the documents are received and checked.
  await district.getByText(/Қадам 2:/).waitFor();
  await district.getByRole('button', { name: /^Қадамды аяқтау$/ }).click();
  await district.getByText(/Қадам 3:/).waitFor();
  // Step 3: the special-records check runs first.
  await district.getByRole('button', { name: /^Тексеру$/ }).click();
  await district.locator('#check-result').getByText(/Тексеруден өтті/).waitFor();
  // The special records give a ground for refusal (Standard para 10): a motivated refusal.
  const reason = 'Арнайы есептер бойынша шақыруды беруге негіз жоқ';
  await district.locator('#refuse-reason').fill(reason);
  await district.locator('#refuse-reason').locator('xpath=ancestor::form').getByRole('button').click();
  await district.getByText(reason).first().waitFor();
  await district.getByText(/^Бас тартылған$/).first().waitFor();
  const pdf = district.locator('a[data-doc-pdf]', { hasText: /дәлелді бас тарту/ });
  await pdf.waitFor();
  const res = await district.request.get(`${base3}${await pdf.getAttribute('href')}`);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], 'application/pdf');
  assert.equal((await res.body()).subarray(0, 5).toString(), '%PDF-');
  await shot(district, 's7-2014-refused-with-document');
});
