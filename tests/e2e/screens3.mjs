// Issue 29, the leftovers: the S1E reviewer compares the attached photo with the photo of the
// current document from ГБД ФЛ, with the applicant's name and birth date beside them; the
// portal's forms keep what was typed and show the error beside its field. Screenshots in
// Kazakh and Russian to tests/e2e/artifacts/screens3-<lang>-<page>.png, each page read for
// Latin words (screens.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { accounts2, base2, base3, citizens2, citizens3, citizenOn, out2, out3, shot, staff } from './support.mjs';
import { foreignWords } from './screens.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'crates', 'engine', 'tests', 'fixtures');

/// The page's text must read in `lang` only (no Latin words outside the allowlist).
/// Proper names of the signing tools the renewal form names ("NCALayer", "eGov mobile").
const PRODUCTS = new Set(['NCALayer', 'eGov', 'mobile']);

async function clean(page, what) {
  const text = await page.locator('main').innerText();
  assert.deepEqual(foreignWords(text).filter((w) => !PRODUCTS.has(w)), [], `${what}: Latin words on the page`);
  // A word the interface lacks shows as a lone "?".
  assert.doesNotMatch(text, /(^|\s)\?(\s|$)/m, `${what}: a missing word`);
}

async function sandboxFault(port, until) {
  const r = await fetch(`${base2}/sandbox/_faults/${port}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ outage_until: until, latency_ms: 0 }),
  });
  assert.equal(r.status, 200, await r.text());
}

test('the S1E reviewer sees the name, the birth date and the photo on record beside the attached one (kk, ru)', async () => {
  // The second citizen of the window (the first is the 2025 walk's).
  const inWindow = citizens2.filter((c) => /online renewal window/.test(c.note));
  const citizen = inWindow[1] || inWindow[0];
  assert.ok(citizen, `the pilot demo printed a citizen in the window:\n${out2}`);
  const portal = await citizenOn(base2, citizen);
  // The form refused (no consent: the browser's own check lifted): the reason beside the
  // box, the counter (of another region: seed 001 para 10 lets the applicant choose) and the
  // phone as they were, the files asked for again.
  for (const lang of ['kk', 'ru']) {
    await portal.goto(`${base2}/lang/${lang}?back=/portal/renewal`);
    const options = await portal.locator('#r-unit option').evaluateAll((os) => os.map((o) => o.value));
    const other = options[options.length - 1];
    await portal.locator('#r-unit').selectOption(other);
    await portal.locator('#r-phone').fill('+7 701 555 44 33');
    await portal.locator('#r-photo').setInputFiles(join(fixtures, 'photo_ok.jpg'));
    await portal.locator('#r-signature').setInputFiles(join(fixtures, 'signature.png'));
    await portal.locator('input[name="consent"]').evaluate((b) => { b.required = false; });
    await portal.locator('form[action^="/portal/renewal"] button[type="submit"]').click();
    await portal.locator('#err-consent').waitFor();
    assert.equal(await portal.locator('#r-unit').inputValue(), other, `${lang}: the counter chosen is kept`);
    assert.equal(await portal.locator('#r-phone').inputValue(), '+7 701 555 44 33');
    await portal.locator('#files-again').waitFor();
    await clean(portal, `${lang} renewal form refused`);
    await shot(portal, `screens3-${lang}-renewal-form-error`);
  }
  await portal.goto(`${base2}/lang/ru?back=/portal/renewal`);
  await portal.getByLabel(/^Фото/).setInputFiles(join(fixtures, 'photo_ok.jpg'));
  await portal.getByLabel(/^Образец подписи/).setInputFiles(join(fixtures, 'signature.png'));
  await portal.getByLabel(/Даю согласие/).check();
  await portal.getByRole('button', { name: /Подписать и отправить/ }).click();
  await portal.getByRole('button', { name: /^Оплатить$/ }).click();
  await portal.getByText('На рассмотрении в региональном управлении').first().waitFor();
  const id = new URL(portal.url()).pathname.split('/').pop();
  const renewal = await (await portal.request.get(`${base2}/api/v1/online-renewal/${id}`)).json();
  assert.equal(renewal.step, 17);
  const app = await (await portal.request.get(`${base2}/api/v1/applications/${renewal.application}`)).json();
  const officer = Object.keys(accounts2).find((u) => accounts2[u].role === 'regional_officer' && accounts2[u].unit === app.holder_unit);
  assert.ok(officer, `a regional officer of ${app.holder_unit}`);
  const region = await staff(officer, base2, accounts2);
  const person = await (await region.request.get(`${base2}/api/v1/persons/${citizen.iin}`)).json();
  const card = `/ws/applications/${renewal.application}`;
  for (const [lang, recordAlt, attachedAlt] of [
    ['kk', /ЖТ МДҚ-дағы фото/, /Өтінімге тіркелген фото/],
    ['ru', /Фото из ГБД ФЛ/, /Фото, приложенное к заявке/],
  ]) {
    await region.goto(`${base2}/lang/${lang}?back=${card}`);
    const who = region.locator('#online-person');
    await who.waitFor();
    const text = await who.innerText();
    assert.ok(text.includes(person.surname) && text.includes(person.given_name), `${lang}: the name in ${text}`);
    const [y, m, d] = person.birth_date.split('-');
    assert.ok(text.includes(`${d}.${m}.${y}`), `${lang}: the birth date in ${text}`);
    assert.ok(text.includes(citizen.iin));
    // Both photos are there and drawn (the one on record from the sandbox's ГБД ФЛ).
    for (const alt of [recordAlt, attachedAlt]) {
      const img = region.getByRole('img', { name: alt });
      await img.waitFor();
      assert.ok(await img.evaluate((i) => i.complete && i.naturalWidth > 0), `${lang}: ${alt} is drawn`);
    }
    await clean(region, `${lang} review`);
    await shot(region, `screens3-${lang}-renewal-review`);
  }
  // ГБД ФЛ down: the card says the photo was not received, not that there is none.
  await sandboxFault('gbd-fl', '2099-01-01T00:00:00Z');
  try {
    for (const [lang, words] of [['kk', /ЖТ МДҚ жауап бермеді/], ['ru', /ГБД ФЛ не ответила/]]) {
      await region.goto(`${base2}/lang/${lang}?back=${card}`);
      await region.locator('#photo-on-record').getByText(words).waitFor();
      assert.equal(await region.locator('#photo-on-record img').count(), 0);
      await clean(region, `${lang} review without the photo on record`);
      await shot(region, `screens3-${lang}-renewal-review-gbd-down`);
    }
  } finally {
    await sandboxFault('gbd-fl', null);
  }
  await region.context().close();
  await portal.context().close();
});

test('the portal form keeps what was typed and says what is wrong beside the field; after success a reload repeats nothing (kk, ru)', async () => {
  const citizen = citizens3.find((c) => !/Almaty resident|Under 16|valid for/.test(c.note)) || citizens3[0];
  assert.ok(citizen, `the 2014 demo printed citizens:\n${out3}`);
  const portal = await citizenOn(base3, citizen);
  const mine = async () => (await (await portal.request.get(`${base3}/api/v1/my/applications`)).json()).filter((a) => a.service === 'S8');
  const before = (await mine()).length;
  for (const [lang, words] of [['kk', /елдің 2 немесе 3 әріпті коды/], ['ru', /двух- или трёхбуквенный код страны/]]) {
    await portal.goto(`${base3}/lang/${lang}?back=/portal/apply`);
    const card = portal.locator('details', { has: portal.locator('input[name="service"][value="S8"]') });
    if ((await card.getAttribute('open')) === null) await card.locator('summary').click();
    await card.locator('input[name="d.foreigner.surname"]').fill('Новак');
    await card.locator('input[name="d.foreigner.given_name"]').fill('Петра');
    await card.locator('input[name="d.foreigner.birth_date"]').fill('1992-04-18');
    await card.locator('select[name="d.foreigner.sex"]').selectOption('F');
    await card.locator('input[name="d.foreigner.citizenship"]').fill('C3');
    await card.locator('input[name="d.foreigner.passport"]').fill('41287736');
    await card.locator('input[name="d.until"]').fill('2014-07-15');
    await card.locator('button[type="submit"]').click();
    // Back on the form: the reason beside the citizenship, everything typed still there.
    const again = portal.locator('#apply-S8');
    const cit = again.locator('input[name="d.foreigner.citizenship"]');
    await again.locator('#err-S8-citizenship').getByText(words).waitFor();
    assert.equal(await cit.getAttribute('aria-invalid'), 'true');
    assert.equal(await cit.inputValue(), 'C3');
    assert.equal(await again.locator('input[name="d.foreigner.surname"]').inputValue(), 'Новак');
    assert.equal(await again.locator('input[name="d.foreigner.passport"]').inputValue(), '41287736');
    assert.equal(await again.locator('select[name="d.foreigner.sex"]').inputValue(), 'F');
    assert.equal(await portal.getByRole('link', { name: /^Назад$|^Артқа$/ }).count(), 0, 'no page with only "Back"');
    await clean(portal, `${lang} portal form refused`);
    await shot(portal, `screens3-${lang}-portal-form-error`);
  }
  assert.equal((await mine()).length, before, 'nothing made');
  // Corrected and sent: the talon on a page of its own; a reload shows it again and makes nothing.
  const card = portal.locator('#apply-S8');
  await card.locator('input[name="d.foreigner.citizenship"]').fill('CZ');
  await card.locator('button[type="submit"]').click();
  await portal.waitForURL(/\/portal\/applications\//);
  const talon = await portal.locator('dd strong').first().innerText();
  await shot(portal, 'screens3-ru-portal-applied');
  await portal.reload();
  assert.equal(await portal.locator('dd strong').first().innerText(), talon);
  assert.equal((await mine()).length, before + 1, 'one application after the reload');
  await portal.goto(`${base3}/lang/kk?back=${new URL(portal.url()).pathname}`);
  await portal.locator('dd strong').getByText(talon).waitFor();
  await clean(portal, 'kk talon page');
  await shot(portal, 'screens3-kk-portal-applied');
  await portal.context().close();
});

// Issue 29: a card's action refused comes back on the card, beside its form, with what was
// typed: the counter refuses in one tab an application a second tab already refused.
test('a refused card action says why beside its form and keeps the reason typed (kk, ru)', async () => {
  const { base, citizens } = await import('./support.mjs');
  const citizen = citizens[citizens.length - 3] || citizens[2];
  for (const lang of ['kk', 'ru']) {
    const first = await staff('op.astana.2');
    await first.goto(`${base}/lang/${lang}?back=/ws/person?iin=${citizen.iin}`);
    const s5 = first.locator('details', { has: first.locator('input[name="service"][value="S5"]') });
    await s5.locator('summary').click();
    await s5.getByRole('button', { name: /^Қабылдау$|^Принять$/ }).click();
    await first.getByRole('link', { name: /^Өтініш$|^Заявление$/ }).click();
    const card = first.url();
    const second = await first.context().newPage();
    await second.goto(card);
    const reason = lang === 'kk' ? 'Мекенжай тізілімде табылмады' : 'Адрес не найден в регистре';
    await second.locator('#refuse-reason').fill(reason);
    await second.locator('#refuse-reason').locator('xpath=ancestor::form').getByRole('button').click();
    await second.getByText(reason).first().waitFor();
    // The first tab still shows the old card: its refusal is refused, on the card.
    const typed = `${reason} (екінші рет / повторно)`;
    await first.locator('#refuse-reason').fill(typed);
    await first.locator('#refuse-reason').locator('xpath=ancestor::form').getByRole('button').click();
    const said = first.locator('#err-card, #err-refuse');
    await said.first().waitFor();
    assert.equal(await first.locator('h1').count() > 0, true);
    await shot(first, `screens3-${lang}-card-action-refused`);
    await clean(first, `${lang} card action refused`);
  }
});
