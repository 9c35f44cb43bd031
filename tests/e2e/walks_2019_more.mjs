// Issue 28: the routes of the 2018 orders not walked elsewhere, on the demo server as of
// 2019-11-20, each from intake to its result by the users the seeds name; and a motivated
// refusal with its signed document for each service the migration units decide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accounts, base, chooseAddress, citizens, handOver, shot, staff, issueAndSign, signAwaiting } from './support.mjs';

/// An Astana resident not used by the other walks (they take the first few and the last
/// two of the printed citizens).
function someone(i) {
  const c = citizens.filter((x) => /Astana resident/.test(x.note))[2 + i];
  assert.ok(c, `the demo printed at least ${3 + i} Astana residents`);
  return c;
}

/// On a staff user's person page: opens the form of `service` and returns it.
async function serviceForm(page, iin, service) {
  await page.goto(`${base}/ws/person?iin=${iin}`);
  const card = page.locator('details', { has: page.locator(`input[name="service"][value="${service}"]`) });
  await card.waitFor();
  if ((await card.getAttribute('open')) === null) await card.locator('summary').click();
  return card;
}

/// Accepts the open form and returns the application card's address.
async function accept(page, card) {
  await card.getByRole('button', { name: /^Принять$|^Accept$|^Қабылдау$/ }).click();
  await page.getByRole('heading', { name: /Заявление принято|Application accepted|Өтініш қабылданды/ }).waitFor();
  await page.locator('a[href^="/ws/applications/"]').first().click();
  await page.waitForURL(/\/ws\/applications\/[0-9a-f-]{36}$/);
  return page.url();
}

/// Completes the current step on the card (with a note where the step asks for one).
async function completeStep(page, note = 'Проверено, замечаний нет') {
  const field = page.locator('#step-note');
  if (await field.count()) await field.fill(note);
  await page.getByRole('button', { name: /Завершить шаг|Complete step|Қадамды аяқтау/ }).click();
  await page.waitForLoadState();
}

/// Issues the result on the card to the applicant and waits for the status.
async function issue(page) {
  await issueAndSign(page, /^Выдать$|^Issue$|^Беру$/);
  await page.getByText(/^(Выдано|Issued|Берілді)$/).first().waitFor();
}

/// The last document linked on the card is a PDF.
async function lastPdf(page) {
  const link = page.locator('a[data-doc-pdf]').last();
  await link.waitFor();
  const res = await page.request.get(`${base}${await link.getAttribute('href')}`);
  assert.equal(res.status(), 200);
  assert.equal((await res.body()).subarray(0, 5).toString(), '%PDF-');
}

/// Refuses the application on its card with `reason`; the reason and the motivated
/// refusal's PDF are then on the card.
async function refuse(page, reason) {
  await page.locator('#refuse-reason').fill(reason);
  await page.locator('#refuse-reason').locator('xpath=ancestor::form').getByRole('button').click();
  await page.getByText(/^(Отказано|Refused|Бас тартылған)$/).first().waitFor();
  await signAwaiting(page);
  await page.getByText(reason).first().waitFor();
  await lastPdf(page);
}

/// S9 on the workstation's home page: takes in a foreigner without an IIN and opens the
/// application's card.
async function s9Intake(page, f) {
  await page.goto(`${base}/ws`);
  await page.locator('summary', { hasText: 'S9' }).click();
  await page.getByLabel(/^Фамилия$|^Surname$/).fill(f.surname);
  await page.getByLabel(/^Имя$|^Given name$/).fill(f.given);
  await page.getByLabel(/Дата рождения|Date of birth/).fill(f.birth);
  await page.getByLabel(/^Пол$|^Sex$/).selectOption(f.sex);
  await page.getByLabel(/Гражданство|Citizenship/).fill(f.citizenship);
  await page.getByLabel(/^Паспорт$|^Passport$/).fill(f.passport);
  await page.getByLabel(/Миграционная карточка|Migration card/).fill(f.card);
  await page.getByRole('button', { name: /^Принять$|^Accept$/ }).click();
  await page.getByRole('heading', { name: /Заявление принято|Application accepted/ }).waitFor();
  await page.getByRole('link', { name: /^Заявление$|^Application$/ }).click();
  await page.waitForURL(/\/ws\/applications\/[0-9a-f-]{36}$/);
}

/// Moves S9 through the steps before the operator's processing (the written consent where
/// asked) and runs it.
async function s9ToOperator(page, consent) {
  for (let i = 0; i < 4; i++) {
    const op = page.getByRole('button', { name: /Выполнить обработку оператором|Run the operator's processing/ });
    if (await op.count()) { await op.click(); return; }
    const field = page.getByLabel(/Письменное согласие|Written consent/);
    if (await field.count()) await field.fill(consent);
    await completeStep(page);
  }
}

test('S1 of 2018 through the unit\'s own system: the district takes the request, the region certifies it, the registries carry it to production and back, the district issues', async () => {
  const citizen = someone(0);
  const district = await staff('district.astana');
  const card = await serviceForm(district, citizen.iin, 'S1');
  assert.equal(await card.locator('input[name="channel"]').inputValue(), 'unit');
  const url = await accept(district, card);
  await shot(district, 's1-unit-accepted');
  // Rows 3 and 5 of annex 3 table 2: the regional directorate's officer forms and signs the
  // request (the system's steps between run by themselves).
  const region = await staff('region.astana');
  await region.goto(url);
  await completeStep(region);
  await completeStep(region);
  await shot(region, 's1-unit-region-certified');
  const centre = await staff('centre');
  const production = await staff('production');
  await handOver(region, centre, 'unit-summary');
  await handOver(centre, production, 'unit-cover');
  await handOver(production, centre, 'unit-manufactured');
  await handOver(centre, region, 'unit-dispatch');
  await handOver(region, district, 'unit-accompanying');
  // The accompanying registry of step 9 goes to the issuing point: here the district that
  // took the request in (issue 28: it issues what its own system took).
  await handOver(district, district, 'unit-accompanying-2', base, 9);
  await district.goto(url);
  await shot(district, 's1-unit-ready');
  await issue(district);
  await shot(district, 's1-unit-issued');
  // The new document is in the person's record, and the earlier card names what replaced it.
  const number = (await district.locator('h1').innerText()).split(' ').pop();
  const person = await (await district.request.get(`${base}/api/v1/persons/${citizen.iin}`)).json();
  assert.ok(JSON.stringify(person.data.documents).includes(number), `the record names ${number}: ${JSON.stringify(person.data.documents)}`);
});

test('S1 of 2018: the region refuses a request taken at the unit, with its document', async () => {
  const citizen = someone(1);
  const district = await staff('district.astana');
  const url = await accept(district, await serviceForm(district, citizen.iin, 'S1'));
  const region = await staff('region.astana');
  await region.goto(`${base}/lang/ru?back=${new URL(url).pathname}`);
  await refuse(region, 'Фотоизображение не соответствует требованиям');
  await shot(region, 's1-unit-refused');
});

test('S2 of 2018: the ОМС officer takes it in at a State Corporation workstation, the district keeps the journal, the counter hands the card over', async () => {
  const citizen = someone(2);
  const counter = await staff('op.astana.1');
  await counter.goto(`${base}/ws/person?iin=${citizen.iin}`);
  assert.equal(await counter.locator('input[name="service"][value="S2"]').count(), 0, 'the counter operator is not offered S2 of 2018');
  const district = await staff('district.astana');
  const card = await serviceForm(district, citizen.iin, 'S2');
  const workstation = card.getByLabel(/Рабочее место в Государственной корпорации|Workstation at the State Corporation/);
  await workstation.selectOption(accounts['op.astana.1'].unit);
  await card.locator('input[name="d.reason"]').fill('Утрата удостоверения личности');
  const url = await accept(district, card);
  await shot(district, 's2-2018-accepted');
  while (await district.getByRole('button', { name: /Завершить шаг|Complete step/ }).count()) {
    await completeStep(district);
  }
  await counter.goto(url);
  await issue(counter);
  await lastPdf(counter);
  await shot(counter, 's2-2018-issued');
  // The journal of temporary ID cards is the district's (seed 000, S2 regulation para 9).
  await district.goto(`${base}/ws/journals?journal=temporary_id`);
  await district.getByText(citizen.iin).first().waitFor();
  await shot(district, 's2-2018-journal');
});

test('S2 of 2018: the district refuses, with its document', async () => {
  const citizen = someone(3);
  const district = await staff('district.astana');
  const card = await serviceForm(district, citizen.iin, 'S2');
  await card.locator('input[name="d.reason"]').fill('Паспорт сдан на обмен');
  const url = await accept(district, card);
  await district.goto(`${base}/lang/ru?back=${new URL(url).pathname}`);
  await refuse(district, 'Заявитель не является гражданином Республики Казахстан');
  await shot(district, 's2-2018-refused');
});

test('S4 of 2018: taken at the counter, the district deregisters and issues the departure sheet', async () => {
  const citizen = someone(4);
  const counter = await staff('op.astana.1');
  const card = await serviceForm(counter, citizen.iin, 'S4');
  const grounds = await card.locator('select[name="d.ground"] option').allInnerTexts();
  assert.ok(grounds.length > 0);
  await card.locator('select[name="d.ground"]').selectOption('abroad');
  const url = await accept(counter, card);
  const district = await staff('district.astana');
  await district.goto(url);
  await issue(district);
  await lastPdf(district);
  await shot(district, 's4-2018-issued');
  const person = await (await district.request.get(`${base}/api/v1/persons/${citizen.iin}`)).json();
  assert.ok(!person.data.registration || person.data.registration.ended, `the registration ended: ${JSON.stringify(person.data.registration)}`);
});

test('S4 of 2018: the district refuses in Kazakh, with its document', async () => {
  const citizen = someone(5);
  const counter = await staff('op.astana.2');
  const card = await serviceForm(counter, citizen.iin, 'S4');
  await card.locator('select[name="d.ground"]').selectOption('abroad');
  const url = await accept(counter, card);
  const district = await staff('district.astana');
  await district.goto(`${base}/lang/kk?back=${new URL(url).pathname}`);
  await refuse(district, 'Шетелге шығу туралы құжат ұсынылмады');
  await shot(district, 's4-2018-refused-kk');
});

test('S9 at the unit: the district takes a foreigner without an IIN, the IIN is formed, the district issues', async () => {
  const district = await staff('district.astana');
  await s9Intake(district, { surname: 'Novak', given: 'Petr', birth: '1979-11-02', sex: 'M', citizenship: 'CZ', passport: 'CZ7788123', card: 'MK 0077881' });
  await shot(district, 's9-unit-accepted');
  await s9ToOperator(district, 'согласие № 21');
  const iin = await district.locator('#receiver').inputValue();
  assert.match(iin, /^791102\d{6}$/);
  await issue(district);
  await shot(district, 's9-unit-issued');
});

test('S9 at the counter: the district refuses at the IIN\'s step, with its document', async () => {
  const counter = await staff('op.astana.2');
  await s9Intake(counter, { surname: 'Kowalski', given: 'Jan', birth: '1990-01-20', sex: 'M', citizenship: 'PL', passport: 'PL5500123', card: 'MK 0055001' });
  await s9ToOperator(counter, 'согласие № 22');
  const district = await staff('district.astana');
  await district.goto(counter.url());
  await refuse(district, 'Миграционная карточка недействительна');
  await shot(district, 's9-refused');
});

test('S3 of 2018 as the electronic service through the State Corporation: the ОМС officer takes it, completes its steps, gives the result', async () => {
  const citizen = someone(6);
  const district = await staff('district.astana');
  const rka = await chooseAddress(district, citizen.iin);
  const card = district.locator('details', { has: district.locator('input[name="service"][value="S3"]') });
  // Annex 3 table 2 of the S3 regulation (order 55's annex 6): the same counter's work as
  // the electronic service; the officer says which of the two they follow.
  await card.locator('select[name="process"]').selectOption('counter-electronic');
  assert.equal(await card.locator('input[name="d.rka"]').inputValue(), rka);
  await card.getByLabel(/ИИН собственника|The owner's IIN/).fill(citizen.iin);
  await card.getByLabel(/Согласие собственника|The owner's consent/).check();
  const url = await accept(district, card);
  await shot(district, 's3-electronic-accepted');
  await completeStep(district);
  // Row 5, the officer's signature, is the last of the success path: the officer gives the
  // result there.
  await district.goto(url);
  await issue(district);
  await shot(district, 's3-electronic-issued');
});
