// Browser walks on the demo server as of 2025.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  accounts, accounts2, accounts3, artifacts, base, base2, base3, browser, chooseAddress, citizenApi, citizenOn, citizens, citizens2, citizens3, foreignerIntake, handOver, home3, out, out2, out3, port, port2, port3, server, server2, server3, shot, staff, staff3, waitFor,
} from './support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the online ID-card renewal: upload, signed request, payment, regional approval', async () => {
  const citizen = citizens2.find((c) => /online renewal window/.test(c.note));
  assert.ok(citizen, `the pilot demo printed a citizen in the window:\n${out2}`);
  const portal = await citizenOn(base2, citizen);
  await portal.getByRole('link', { name: /Заменить удостоверение личности онлайн|Renew my ID card online/ }).click();
  await portal.getByRole('heading', { name: /Заменить удостоверение личности онлайн|Renew my ID card online/ }).waitFor();
  await portal.getByText(/Онлайн заменить удостоверение личности можно только/).waitFor();
  await portal.getByText(/сервер подписывает ваш запрос сертификатом/).waitFor();
  // Dates as the rest of the pages write them: the pilot's last day and the card's expiry
  // were ISO (2026-03-31).
  const entry = await portal.locator('main').innerText();
  assert.doesNotMatch(entry, /\b\d{4}-\d{2}-\d{2}\b/, entry);
  assert.match(entry, /пилотного проекта по \d{2}\.\d{2}\.\d{4}\./, entry);
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
  // The citizen's steps show no state systems' raw answers (JSON keys, ids, English).
  const steps = await portal.locator('main table').innerText();
  assert.doesNotMatch(steps, /[{}]|gbd_fl|photo_bytes|consent/, steps);
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
