// Browser walks on the demo server as of 2019.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  accounts, accounts2, accounts3, artifacts, base, base2, base3, browser, chooseAddress, citizenApi, citizenOn, citizens, citizens2, citizens3, foreignerIntake, handOver, home3, out, out2, out3, port, port2, port3, server, server2, server3, shot, staff, staff3, waitFor,
 issueAndSign, signAwaiting } from './support.mjs';

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
  await issueAndSign(counter, /^Выдать$|^Issue$/);
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
  await issueAndSign(counter, /^Выдать$|^Issue$/);
  await counter.getByText(/^(Выдано|Issued)$/).first().waitFor();
  await shot(counter, 's1-portal-issued');
  await portal.goto(`${base}/portal`);
  const row = portal.locator('tr', { hasText: talon });
  await row.getByText(/Выдано|Issued/).waitFor();
  await shot(portal, 's1-portal-citizen-issued');
});

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
  await issueAndSign(district, /^Выдать$|^Issue$/);
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
  await issueAndSign(counter, /^Выдать$|^Issue$/);
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
  await issueAndSign(district, /^Выдать$|^Issue$/);
  await district.getByText(/^(Выдано|Issued)$/).first().waitFor();
  await shot(district, 's9-issued');
});
