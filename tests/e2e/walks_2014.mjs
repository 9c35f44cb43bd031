// Browser walks on the demo server as of 2014.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accounts, accounts2, accounts3, artifacts, base, base2, base3, browser, chooseAddress, citizenApi, citizenOn, citizens, citizens2, citizens3, foreignerIntake, handOver, home3, out, out2, out3, port, port2, port3, server, server2, server3, shot, staff, staff3, waitFor,
 issueAndSign, signAwaiting } from './support.mjs';

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
  await issueAndSign(counter, /^Выдать$/);
  await counter.getByText(/^Выдано$/).first().waitFor();
  await shot(counter, 's1-portal-2014-issued');
  await portal.goto(`${base3}/portal`);
  await portal.locator('tr', { hasText: talon }).getByText(/Выдано/).waitFor();
  await shot(portal, 's1-portal-2014-citizen-issued');
});

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
  await issueAndSign(counter, /^Выдать$/);
  await counter.getByText(/^Выдано$/).first().waitFor();
  await shot(counter, 's2-2014-issued');
});

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
  await issueAndSign(district, /^Выдать$/);
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
  // The officer signs the motivated refusal with their own key (issue 33).
  assert.ok(await signAwaiting(district), 'the refusal waits for the officer\'s signature');
  const pdf = district.locator('a[data-doc-pdf]', { hasText: /дәлелді бас тарту/ });
  await pdf.waitFor();
  const res = await district.request.get(`${base3}${await pdf.getAttribute('href')}`);
  assert.equal(res.status(), 200);
  assert.equal(res.headers()['content-type'], 'application/pdf');
  assert.equal((await res.body()).subarray(0, 5).toString(), '%PDF-');
  await shot(district, 's7-2014-refused-with-document');
});
