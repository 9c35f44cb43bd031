// More browser walks on the demo server as of 2014-06-02 (order 165 of 2014, seed 002; order
// 103 of 2014, seed 003): S1 at the counter, S3, S4, S5 and S8 to their results, and the
// motivated refusals of S3, S4, S5 and S8 with their documents (issue 28).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accounts3, base3, citizenOn, citizens3, foreignerIntake, handOver, home3, out3, shot, staff3, issueAndSign, signAwaiting } from './support.mjs';

/// The 2014 demo's user at a unit.
const who = (unit) => Object.keys(accounts3).find((u) => accounts3[u].unit === unit);
/// The first counter of a district (D71-2 -> C71-2-1).
const counterOf = (district) => `${district.replace(/^D/, 'C')}-1`;

/// A printed citizen by the demo's note.
function citizen(note) {
  const c = citizens3.find((x) => note.test(x.note));
  assert.ok(c, `the 2014 demo printed a citizen "${note}":\n${out3}`);
  return c;
}

/// Opens the person page at `page` and the form of `service`; returns the form's card.
async function serviceForm(page, iin, service, extra = '') {
  await page.goto(`${base3}/ws/person?iin=${iin}${extra}`);
  const card = page.locator('details', { has: page.locator(`input[name="service"][value="${service}"]`) });
  if ((await card.getAttribute('open')) === null) await card.locator('summary').click();
  return card;
}

/// Accepts the open form; returns the talon and the application's address.
async function accept(page, card, name) {
  await shot(page, name);
  await card.locator('button[type="submit"]').last().click();
  await page.getByRole('heading', { name: /Заявление принято|Өтініш қабылданды/ }).waitFor();
  const talon = await page.locator('dd strong').first().innerText();
  await page.getByRole('link', { name: /^Заявление$|^Өтініш$/ }).first().click();
  await page.waitForURL(/\/ws\/applications\/[0-9a-f-]{36}$/);
  await shot(page, `${name}-card`);
  return { talon, url: page.url() };
}

/// At the counter: finds a dwelling by text and chooses it; returns its РКА.
async function chooseDwelling(counter, iin, text) {
  await counter.goto(`${base3}/ws/person?iin=${iin}`);
  await counter.getByLabel(/Адрес или РКА/).fill(text);
  await counter.getByRole('button', { name: /Найти адрес/ }).click();
  const rows = counter.locator('#addr-results tbody tr', { hasText: /кв\./ });
  await rows.first().waitFor();
  const row = rows.nth(1);
  const rka = (await row.locator('code').innerText()).trim();
  assert.match(rka, /^\d{16}$/);
  await row.getByRole('link', { name: /Выбрать/ }).click();
  await counter.getByText(rka).first().waitFor();
  return rka;
}

/// The value of a field (dt) of the person page at `page`.
async function personField(page, iin, label) {
  await page.goto(`${base3}/ws/person?iin=${iin}`);
  return (await page.locator('dl.fields dt', { hasText: label }).locator('xpath=following-sibling::dd[1]').innerText()).trim();
}

/// The document link titled `title` on the page is a PDF.
async function assertPdf(page, title) {
  const link = page.locator('a[data-doc-pdf]', { hasText: title });
  await link.first().waitFor();
  const res = await page.request.get(`${base3}${await link.first().getAttribute('href')}`);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], 'application/pdf');
  assert.equal((await res.body()).subarray(0, 5).toString(), '%PDF-');
}

/// Completes the current step `n` at `page` (on the application's card).
async function complete(page, n, note) {
  await page.getByText(new RegExp(`Шаг ${n}:`)).waitFor();
  if (note !== undefined) await page.locator('#step-note').fill(note);
  await page.getByRole('button', { name: /^Завершить шаг$/ }).click();
}

/// Opens the application `talon` from the unit's queue.
async function fromQueue(page, talon) {
  await page.goto(`${base3}/ws`);
  await page.locator('tr', { hasText: talon }).getByRole('link').first().click();
  await page.waitForURL(/\/ws\/applications\/[0-9a-f-]{36}$/);
}

/// Refuses the application on `page` with `reason`; asserts the status, the reason on the card
/// and the motivated refusal's PDF.
async function refuse(page, reason, status, title, name) {
  await page.locator('#refuse-reason').fill(reason);
  await page.locator('#refuse-reason').locator('xpath=ancestor::form').getByRole('button').click();
  await page.locator('#closing-reason').getByText(reason).waitFor();
  await signAwaiting(page);
  await page.getByText(status).first().waitFor();
  await assertPdf(page, title);
  await shot(page, name);
}

test('S1 of 2014 at the counter of the applicant\'s district: the 14 steps of the main process to the card issued (walks 2014, more)', async () => {
  // The citizen whose card expired long ago renews at a counter (the portal is for a change
  // of the document's type only); S1 is given at the place of permanent registration.
  const c = citizen(/renewal at a counter only/);
  const centre = await staff3('centre');
  const home = await home3(centre, c.iin);
  const [, code] = home.match(/^D(\d+)-(\d+)$/);
  for (const u of [counterOf(home), home, `R${code}`]) assert.ok(who(u), `the 2014 demo has a user at ${u}`);
  const counter = await staff3(who(counterOf(home)));
  const district = await staff3(who(home));
  const region = await staff3(who(`R${code}`));
  const production = await staff3('production');
  const card = await serviceForm(counter, c.iin, 'S1');
  const { talon, url } = await accept(counter, card, 's1-counter-2014-intake');
  assert.match(talon, new RegExp(`^${counterOf(home)}-2014-\\d{6}$`));
  // Step 1 (the documents accepted and checked) ends with the intake; step 2 at the counter:
  // the electronic formulary made and certified.
  await complete(counter, 2);
  await counter.getByText(/Шаг 3:/).waitFor();
  await shot(counter, 's1-counter-2014-step3');
  // Step 3: the district's registry to the region; step 4: the region's summary registry to the centre.
  await handOver(district, region, '2014c-district', base3);
  await handOver(region, centre, '2014c-summary', base3);
  // Steps 5 and 6 at the centre (the wanted-persons check runs with step 6), 7 by the cover letter.
  await fromQueue(centre, talon);
  await complete(centre, 5);
  await complete(centre, 6);
  await centre.getByText(/Шаг 7:/).waitFor();
  await handOver(centre, production, '2014c-cover', base3);
  // Step 8: production makes the card and returns it with the registry of manufactured documents.
  await handOver(production, centre, '2014c-manufactured', base3);
  await fromQueue(centre, talon);
  await complete(centre, 9);
  await centre.getByText(/Шаг 10:/).waitFor();
  await handOver(centre, region, '2014c-dispatch', base3);
  await fromQueue(region, talon);
  await complete(region, 11);
  await region.getByText(/Шаг 12:/).waitFor();
  await handOver(region, district, '2014c-accompanying-1', base3);
  await handOver(district, counter, '2014c-accompanying-2', base3);
  // Step 14: the counter of the applicant's district hands the card over.
  await counter.goto(url);
  await counter.getByText(/Шаг 14:/).waitFor();
  await issueAndSign(counter, /^Выдать$/);
  await counter.getByText(/^Выдано$/).first().waitFor();
  await shot(counter, 's1-counter-2014-issued');
  // The new card is in the person's record.
  assert.match(await personField(counter, c.iin, 'Документы'), /S1-2014-\d+/);
  await shot(counter, 's1-counter-2014-person');
});

/// Ends the last step on `page`: the result issued to the applicant.
async function issue(page, name) {
  await issueAndSign(page, /^Выдать$|^Беру$/);
  await page.getByText(/^Выдано$|^Берілді$/).first().waitFor();
  await shot(page, name);
}

/// Premises of the address register found by `q`, as a staff user reads them.
async function premises(page, q) {
  const res = await page.request.get(`${base3}/api/v1/addresses?q=${encodeURIComponent(q)}&limit=50`);
  assert.equal(res.status(), 200, await res.text());
  return (await res.json()).filter((a) => /кв\./.test(a.full));
}

test('S3 of 2014 at the counter: a permanent registration at an address of the register, formalised by the district (walks 2014, more)', async () => {
  // The Almaty resident moves within Almaty; the owner of the dwelling is the applicant.
  const c = citizen(/Almaty resident/);
  const centre = await staff3('centre');
  const home = await home3(centre, c.iin);
  const counter = await staff3(who(counterOf(home)));
  const rka = await chooseDwelling(counter, c.iin, 'Алматы Абая');
  const card = counter.locator('details', { has: counter.locator('input[name="service"][value="S3"]') });
  if ((await card.getAttribute('open')) === null) await card.locator('summary').click();
  await card.locator('select[name="d.kind"]').selectOption('permanent');
  assert.equal(await card.locator('input[name="d.rka"]').inputValue(), rka);
  await card.locator('input[name="d.owner_iin"]').fill(c.iin);
  const { talon, url } = await accept(counter, card, 's3-counter-2014-intake');
  // Step 2: the district formalises the registration.
  const district = await staff3(who(home));
  await district.goto(url);
  await district.getByText(/Шаг 2:/).waitFor();
  await shot(district, 's3-counter-2014-district');
  // The district's step is the last: it gives the result, the registration and its notice.
  await issue(district, 's3-counter-2014-registered');
  await assertPdf(district, /Уведомление о регистрации по месту жительства/);
  // The new address is in the person's record.
  const [dwelling] = (await premises(centre, rka)).filter((a) => a.rka === rka);
  assert.ok(dwelling, `${rka} is in the register`);
  assert.equal(await personField(counter, c.iin, 'Регистрация'), dwelling.full);
  await shot(counter, 's3-counter-2014-person');
  // The talon is numbered by the counter that took the application in.
  assert.match(talon, new RegExp(`^${counterOf(home)}-2014-\\d{6}$`));
});

test('S5 of 2014 through the portal: the address certificate signed by the MVD and the Ministry of Justice (walks 2014, more)', async () => {
  // After S3 the Almaty resident's address is in the register: the portal's steps run by themselves.
  const c = citizen(/Almaty resident/);
  const portal = await citizenOn(base3, c);
  await portal.goto(`${base3}/portal/apply`);
  const card = portal.locator('details', { has: portal.locator('input[name="service"][value="S5"]') });
  if ((await card.getAttribute('open')) === null) await card.locator('summary').click();
  await shot(portal, 's5-portal-2014-apply');
  await card.getByRole('button', { name: /Подать заявление/ }).click();
  await portal.getByRole('heading', { name: /Заявление подано/ }).waitFor();
  await shot(portal, 's5-portal-2014-applied');
  const talon = await portal.locator('dd strong').first().innerText();
  await portal.goto(`${base3}/portal`);
  await portal.locator('tr', { hasText: talon }).getByText(/Выдано/).waitFor();
  await shot(portal, 's5-portal-2014-issued');
  await portal.goto(`${base3}/portal/documents`);
  await assertPdf(portal, /Адресная справка/);
  await shot(portal, 's5-portal-2014-documents');
});

/// Opens the S3 form on the portal's apply page, where its address search is.
async function openS3(portal) {
  const card = portal.locator('#apply-S3');
  if ((await card.getAttribute('open')) === null) await card.locator('summary').click();
}

/// On the portal's apply page: opens the form of `service`; returns it and the first unit offered.
async function portalForm(portal, service) {
  await portal.goto(`${base3}/portal/apply`);
  const card = portal.locator('details', { has: portal.locator(`input[name="service"][value="${service}"]`) });
  if ((await card.getAttribute('open')) === null) await card.locator('summary').click();
  const unit = await card.locator('select[name="unit"] option').first().getAttribute('value');
  return { card, unit };
}

/// A portal page's text reads in its language only: no Latin words (screens.mjs), no lone
/// "?" where a word is missing.
/// (screens.mjs is read when the test runs: a static import would register its tests before
/// these, out of main.test.mjs's order.)
async function clean(page, what) {
  const { foreignWords } = await import('./screens.mjs');
  const text = await page.locator('main').innerText();
  assert.deepEqual(foreignWords(text), [], `${what}: Latin words on the page`);
  assert.doesNotMatch(text, /(^|\s)\?(\s|$)/m, `${what}: a missing word`);
}

test('S8 of 2014 through the portal with the last day of the stay (kk, ru): a day not after today refused beside the field, the district sends the insert to the personal cabinet (walks 2014, more)', async () => {
  const c = citizen(/Almaty resident/);
  const portal = await citizenOn(base3, c);
  const words = {
    kk: { label: /Тіркеу мерзімі \(соңғы күні\)/, bad: /бүгіннен кейінгі күн болуы керек/, submit: /Өтінішті жіберу/, applied: /Өтініш жіберілді/, issued: /Берілді/, insert: /Шетелдікті тіркеу туралы паспортқа қосымша парақ/ },
    ru: { label: /Срок регистрации \(последний день\)/, bad: /должен быть позже сегодняшнего/, submit: /Подать заявление/, applied: /Заявление подано/, issued: /Выдано/, insert: /Вкладыш к паспорту/ },
  };
  for (const [lang, passport, until, shown] of [['kk', '41287735', '2014-07-15', '15.07.2014'], ['ru', '41287737', '2014-08-01', '01.08.2014']]) {
    const w = words[lang];
    await portal.goto(`${base3}/lang/${lang}?back=/portal/apply`);
    const { card, unit } = await portalForm(portal, 'S8');
    await card.locator('input[name="d.foreigner.surname"]').fill('NOVAK');
    await card.locator('input[name="d.foreigner.given_name"]').fill('PETRA');
    await card.locator('input[name="d.foreigner.birth_date"]').fill('1992-04-18');
    await card.locator('select[name="d.foreigner.sex"]').selectOption('F');
    await card.locator('input[name="d.foreigner.citizenship"]').fill('CZ');
    await card.locator('input[name="d.foreigner.passport"]').fill(passport);
    // The last day of the registered stay, which the insert prints: the demo's today first.
    const last = card.getByLabel(w.label);
    assert.equal(await last.getAttribute('min'), '2014-06-03', 'the browser offers days after today');
    await last.fill('2014-06-02');
    // The browser's own check (min) would hold the form back; the server's refusal is walked.
    await card.locator('form').evaluate((f) => { f.noValidate = true; });
    await card.getByRole('button', { name: w.submit }).click();
    const again = portal.locator('#apply-S8');
    await again.locator('#err-S8-until').getByText(w.bad).waitFor();
    const field = again.locator('input[name="d.until"]');
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    assert.equal(await field.inputValue(), '2014-06-02', 'the date typed is kept');
    assert.equal(await again.locator('input[name="d.foreigner.passport"]').inputValue(), passport);
    assert.equal(await again.locator('select[name="d.foreigner.sex"]').inputValue(), 'F');
    await clean(portal, `${lang} S8 portal form refused`);
    await shot(portal, `s8-portal-2014-${lang}-until-refused`);
    await field.fill(until);
    await shot(portal, `s8-portal-2014-${lang}-apply`);
    await again.getByRole('button', { name: w.submit }).click();
    await portal.getByRole('heading', { name: w.applied }).waitFor();
    const talon = await portal.locator('dd strong').first().innerText();
    await clean(portal, `${lang} S8 portal talon`);
    await shot(portal, `s8-portal-2014-${lang}-applied`);
    // Step 2: the district above the chosen unit sees the last day, signs the insert and
    // sends it to the cabinet.
    const district = await staff3(who(unit.replace(/^C(\d+-\d+)-\d+$/, 'D$1')));
    await fromQueue(district, talon);
    await district.getByText(/Шаг 2:/).waitFor();
    await district.getByText(shown).first().waitFor();
    await shot(district, `s8-portal-2014-${lang}-district`);
    await issue(district, `s8-portal-2014-${lang}-issued`);
    await assertPdf(district, /Вкладыш к паспорту/);
    await district.context().close();
    await portal.goto(`${base3}/portal`);
    await portal.locator('tr', { hasText: talon }).getByText(w.issued).waitFor();
    await clean(portal, `${lang} S8 portal cabinet`);
    await portal.goto(`${base3}/portal/documents`);
    await assertPdf(portal, w.insert);
    await clean(portal, `${lang} S8 portal documents`);
    await shot(portal, `s8-portal-2014-${lang}-documents`);
  }
  await portal.context().close();
});

test('S3 of 2014 through the portal: the registration and its notice in the personal cabinet, the chip rewritten at the counter (walks 2014, more)', async () => {
  const c = citizen(/Almaty resident/);
  const portal = await citizenOn(base3, c);
  const { unit } = await portalForm(portal, 'S3');
  const counter = await staff3(who(unit));
  // The dwelling's code (РКА) as the register gives it.
  const [, dwelling] = await premises(counter, 'Алматы Абая');
  assert.ok(dwelling, 'the register has dwellings in Almaty');
  // The citizen finds the dwelling in the address register and chooses it (nobody knows a
  // 16-digit code): in Kazakh first, then in Russian, where they apply.
  await portal.goto(`${base3}/lang/kk?back=/portal/apply`);
  await openS3(portal);
  await portal.locator('#p-addr-q').fill('Алматы Абая');
  await portal.getByRole('button', { name: /Мекенжайды табу/ }).click();
  await portal.locator(`#p-addr-results a[href*="rka=${dwelling.rka}"]`).waitFor();
  await clean(portal, 'kk S3 portal address search');
  await shot(portal, 's3-portal-2014-kk-address-search');
  await portal.goto(`${base3}/lang/ru?back=/portal/apply`);
  await openS3(portal);
  await portal.locator('#p-addr-q').fill('Алматы Абая');
  await portal.getByRole('button', { name: /Найти адрес/ }).click();
  await portal.locator(`#p-addr-results a[href*="rka=${dwelling.rka}"]`).click();
  const s3 = portal.locator('#apply-S3');
  assert.equal(await s3.locator('input[name="d.rka"]').inputValue(), dwelling.rka, 'the code chosen fills the form');
  await s3.locator('select[name="d.kind"]').selectOption('permanent');
  await shot(portal, 's3-portal-2014-apply');
  await s3.getByRole('button', { name: /Подать заявление/ }).click();
  await portal.getByRole('heading', { name: /Заявление подано/ }).waitFor();
  const talon = await portal.locator('dd strong').first().innerText();
  await assertPdf(portal, /Уведомление о регистрации по месту жительства/);
  await shot(portal, 's3-portal-2014-applied');
  await portal.goto(`${base3}/portal`);
  await portal.locator('tr', { hasText: talon }).getByText(/Выдано/).waitFor();
  await shot(portal, 's3-portal-2014-issued');
  // The new address is in the record; the chip rewrite waits at the chosen counter.
  assert.equal(await personField(counter, c.iin, 'Регистрация'), dwelling.full);
  await counter.getByRole('heading', { name: /Задачи в ЦОН/ }).waitFor();
  await counter.getByRole('button', { name: /Перезаписать чип/ }).first().click();
  await counter.getByText(/^Выполнено$/).first().waitFor();
  await shot(counter, 's3-portal-2014-chip-rewritten');
});

test('S5 of 2014 at the counter: the address data mismatch, corrected by the district, the certificate issued by the counter (walks 2014, more)', async () => {
  const c = citizen(/valid for/);
  const counter = await staff3('op.astana.1');
  const district = await staff3('district.astana');
  const card = await serviceForm(counter, c.iin, 'S5');
  const { url } = await accept(counter, card, 's5-counter-2014-intake');
  // Step 1: the address data checked against the register: the demo's record has no code there.
  await counter.getByText(/Шаг 1:/).waitFor();
  await counter.getByRole('button', { name: /^Проверить$/ }).click();
  await counter.locator('#check-result').getByText(/Проверка выявила несоответствие/).waitFor();
  await shot(counter, 's5-counter-2014-mismatch');
  await counter.locator('#detour-reason').fill('адрес не найден в адресном регистре');
  await counter.getByRole('button', { name: /Направить в районное подразделение на исправление/ }).click();
  await counter.getByText(/Шаг 2:/).waitFor();
  // Step 2: the district corrects the address (the code of the dwelling in the register).
  const [dwelling] = await premises(district, 'Астана Абая');
  assert.ok(dwelling, 'the register has a dwelling in Astana');
  await district.goto(url);
  await complete(district, 2, dwelling.rka);
  await district.getByText(/Шаг 1:/).waitFor();
  await shot(district, 's5-counter-2014-corrected');
  // Back at the counter: the check passes, the certificate is issued.
  await counter.goto(url);
  await counter.getByRole('button', { name: /^Проверить$/ }).click();
  await counter.locator('#check-result').getByText(/Проверка пройдена/).waitFor();
  await issue(counter, 's5-counter-2014-issued');
  await assertPdf(counter, /Адресная справка/);
});

test('S8 of 2014 at the unit: the host applies for a foreigner, the journal, the special-records check, the registration issued (walks 2014, more)', async () => {
  const district = await staff3('district.astana');
  const host = citizen(/expires in/);
  await foreignerIntake(district, 'S8', host.iin, { surname: 'Müller', given: 'Hans', birth: '1985-03-14', sex: 'M', citizenship: 'DE', passport: 'C4K7L9M21', until: '2014-09-01' });
  // The last day of the stay, as the officer entered it, on the application's card.
  await district.getByText('01.09.2014').first().waitFor();
  // Step 2: the documents received and checked, the journal and the registration stamp.
  await complete(district, 2);
  await district.getByText(/Шаг 3:/).waitFor();
  // Step 3: the special-records check, the entry in «Беркут», then the registration.
  await district.getByRole('button', { name: /^Проверить$/ }).click();
  await district.locator('#check-result').getByText(/Проверка пройдена/).waitFor();
  await shot(district, 's8-unit-2014-checked');
  await issue(district, 's8-unit-2014-issued');
  await assertPdf(district, /Вкладыш к паспорту/);
});

test('S4 of 2014 at the counter of the place of residence: the district deregisters, the departure sheet issued (walks 2014, more)', async () => {
  const c = citizen(/expires in/);
  const centre = await staff3('centre');
  const home = await home3(centre, c.iin);
  const counter = await staff3(who(counterOf(home)));
  const card = await serviceForm(counter, c.iin, 'S4');
  await card.locator('select[name="d.ground"]').selectOption('abroad');
  const { url } = await accept(counter, card, 's4-counter-2014-intake');
  const district = await staff3(who(home));
  await district.goto(url);
  await district.getByText(/Шаг 2:/).waitFor();
  await shot(district, 's4-counter-2014-district');
  await issue(district, 's4-counter-2014-issued');
  await assertPdf(district, /Адресный листок убытия/);
  // The person's record has no registration any more.
  assert.equal(await personField(counter, c.iin, 'Регистрация'), '—');
  await shot(counter, 's4-counter-2014-person');
});

// The motivated refusals (issue 28 item 5): the reason on the card, the refusal's PDF.
test('S3 of 2014 refused by the district in Kazakh, with its motivated refusal (walks 2014, more)', async () => {
  const c = citizen(/expired \d+ days ago: still/);
  const centre = await staff3('centre');
  const home = await home3(centre, c.iin);
  const counter = await staff3(who(counterOf(home)));
  await chooseDwelling(counter, c.iin, 'Астана Абая');
  const card = counter.locator('details', { has: counter.locator('input[name="service"][value="S3"]') });
  if ((await card.getAttribute('open')) === null) await card.locator('summary').click();
  await card.locator('input[name="d.owner_iin"]').fill(c.iin);
  const { url } = await accept(counter, card, 's3-refusal-2014-intake');
  const district = await staff3(who(home));
  await district.goto(`${base3}/lang/kk?back=${encodeURIComponent(new URL(url).pathname)}`);
  assert.equal(await district.locator('html').getAttribute('lang'), 'kk');
  await district.getByText(/Қадам 2:/).waitFor();
  await refuse(district, 'Тұрғын үй иесінің жеке куәлігі жарамсыз', /^Бас тартылған$/, /дәлелді бас тарту/, 's3-refusal-2014-kk');
});

test('S4 of 2014 refused by the district: the court decision not in force, with its motivated refusal (walks 2014, more)', async () => {
  const c = citizen(/expired \d+ days ago: still/);
  const centre = await staff3('centre');
  const home = await home3(centre, c.iin);
  const counter = await staff3(who(counterOf(home)));
  const card = await serviceForm(counter, c.iin, 'S4');
  await card.locator('select[name="d.ground"]').selectOption('court');
  await card.locator('input[name="d.court_decision"]').fill('решение районного суда № 2-114/2014');
  const { url } = await accept(counter, card, 's4-refusal-2014-intake');
  const district = await staff3(who(home));
  await district.goto(url);
  await district.getByText(/Шаг 2:/).waitFor();
  await refuse(district, 'Решение суда не вступило в законную силу', /^Отказано$/, /Мотивированный отказ/, 's4-refusal-2014');
});

test('S5 of 2014 refused at the counter, with its motivated refusal (walks 2014, more)', async () => {
  const c = citizen(/renewal at a counter only/);
  const centre = await staff3('centre');
  const home = await home3(centre, c.iin);
  const counter = await staff3(who(counterOf(home)));
  const card = await serviceForm(counter, c.iin, 'S5');
  await accept(counter, card, 's5-refusal-2014-intake');
  await counter.getByText(/Шаг 1:/).waitFor();
  await refuse(counter, 'Представлен недействительный документ, удостоверяющий личность', /^Отказано$/, /Мотивированный отказ/, 's5-refusal-2014');
});

test('S8 of 2014 refused after the special-records check, with its motivated refusal (walks 2014, more)', async () => {
  const district = await staff3('district.astana');
  const host = citizen(/expires in/);
  await foreignerIntake(district, 'S8', host.iin, { surname: 'Kowalski', given: 'Jan', birth: '1970-11-02', sex: 'M', citizenship: 'PL', passport: 'EA4471203' });
  await complete(district, 2);
  await district.getByText(/Шаг 3:/).waitFor();
  await district.getByRole('button', { name: /^Проверить$/ }).click();
  await district.locator('#check-result').waitFor();
  await refuse(district, 'Срок пребывания по визе истёк', /^Отказано$/, /Мотивированный отказ/, 's8-refusal-2014');
});

test('S5 of 2014 as the electronic service through the ЦОН: the counter checks the address, forms and signs the request, the system gives the certificate (walks 2014, more)', async () => {
  // After S3 the Almaty resident's address is in the register.
  const c = citizen(/Almaty resident/);
  const centre = await staff3('centre');
  const counter = await staff3(who(counterOf(await home3(centre, c.iin))));
  const card = await serviceForm(counter, c.iin, 'S5');
  // Annex 3 table 2 of the S5 regulation: the same counter's work as the electronic service.
  await card.locator('select[name="process"]').selectOption('counter-electronic');
  const { url } = await accept(counter, card, 's5-electronic-2014-intake');
  await counter.getByText(/Шаг 1:/).waitFor();
  await counter.getByRole('button', { name: /^Проверить$/ }).click();
  await counter.locator('#check-result').getByText(/Проверка пройдена/).waitFor();
  await complete(counter, 1);
  await complete(counter, 3);
  await complete(counter, 5);
  // Row 7, "the service recipient receives the result", is the system's: it gives it.
  await counter.goto(url);
  await counter.getByText(/^Выдано$/).first().waitFor();
  await assertPdf(counter, /Адресная справка/);
  await shot(counter, 's5-electronic-2014-issued');
});

test('S1 of 2014 as the electronic service through the ЦОН: the regional officer takes the request at a counter of the applicant\'s district, it joins the main chain, the counter issues (walks 2014, more)', async () => {
  const c = citizen(/Almaty resident/);
  const centre = await staff3('centre');
  const home = await home3(centre, c.iin);
  const [, code] = home.match(/^D(\d+)-(\d+)$/);
  const region = await staff3(who(`R${code}`));
  const district = await staff3(who(home));
  const counter = await staff3(who(counterOf(home)));
  const production = await staff3('production');
  // Annex 3 table 2 of the S1 regulation: the regional directorate's officer signs in to the
  // system, forms the request and signs it (rows 1, 3, 5), at a counter of the place of
  // registration; the home page offers the region the search by IIN for it.
  await region.goto(`${base3}/ws`);
  await region.locator('#iin').fill(c.iin);
  const card = await serviceForm(region, c.iin, 'S1');
  assert.equal(await card.locator('input[name="process"]').inputValue(), 'counter-electronic');
  await card.locator('select[name="d.unit"]').selectOption(counterOf(home));
  const { talon, url } = await accept(region, card, 's1-electronic-2014-intake');
  await complete(region, 3);
  await complete(region, 5);
  // Row 5 joins the main process at the region's summary registry (step 4).
  await region.getByText(/Шаг 4:/).waitFor();
  await shot(region, 's1-electronic-2014-joined');
  await handOver(region, centre, '2014e-summary', base3, 4);
  await fromQueue(centre, talon);
  await complete(centre, 5);
  await complete(centre, 6);
  await handOver(centre, production, '2014e-cover', base3, 7);
  await handOver(production, centre, '2014e-manufactured', base3, 8);
  await fromQueue(centre, talon);
  await complete(centre, 9);
  await handOver(centre, region, '2014e-dispatch', base3, 10);
  await fromQueue(region, talon);
  await complete(region, 11);
  await handOver(region, district, '2014e-accompanying-1', base3, 12);
  await handOver(district, counter, '2014e-accompanying-2', base3, 13);
  await counter.goto(url);
  await counter.getByText(/Шаг 14:/).waitFor();
  await issueAndSign(counter, /^Выдать$/);
  await counter.getByText(/^Выдано$/).first().waitFor();
  await shot(counter, 's1-electronic-2014-issued');
});
