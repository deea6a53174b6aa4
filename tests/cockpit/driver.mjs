// The browser side of tests/cockpit/test-cockpit.c: Cockpit's Virtual
// Machines page in Debian's headless chromium, driven through Playwright's
// library (playwright-core, pinned in package.json; it never downloads a
// browser).  The test writes one command per line on stdin, fields
// separated by tabs; each is answered with one line, "OK\t<text>" or
// "ERR\t<what went wrong>".  What the page looks like (element ids, labels)
// is known here; what to check is the test's business.
//
//   open URL           a fresh browser context on URL, waiting until the
//                      page has loaded its resources and shows its list
//   names              the names in the list of virtual machines, tab-separated
//   rows N             waits until the list has N rows; answers each row as
//                      name=state, tab-separated
//   pause VM, resume VM  the row's menu, then Pause or Resume
//   details VM         opens VM's details page (its name's link); answers the
//                      page's text
//   pools, networks    opens the Storage pools or Networks page; answers the
//                      names listed there, tab-separated
//   back               back to the list of virtual machines
//   wait-state VM S    waits until VM's row shows the state S ("Running")
//   run VM             clicks VM's Run button
//   force-off VM       the row's menu, then "Force shut down"
//   shut-down VM       the row's "Shut down" button (an ACPI shutdown)
//   failure VM         waits for the row's "Failed" label, opens it; answers
//                      the popover's title and text, tab-separated
//   shot PATH          a PNG of the page as it is
//
// Waits are generous (page elements, never fixed sleeps): the machine may
// be busy with other work.
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const WAIT_MS = 90000;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

let browser = null;
let context = null;
let page = null;

// Cockpit Machines names a VM's elements vm-<name>-<connection>-<what>;
// the test's guests are all on the system connection.
const vmId = (name) => `vm-${name}-system`;
const byId = (id) => `[id="${id}"]`;

function log(message) {
  process.stderr.write(`driver: ${message}\n`);
}

async function open(url) {
  if (browser === null)
    browser = await chromium.launch({ executablePath, headless: true });
  if (context !== null)
    await context.close();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      log(`page ${m.type()}: ${m.text().slice(0, 400)}`);
  });
  page.on('pageerror', (e) => log(`page exception: ${e.message}`));
  await page.goto(url);

  // The page shows its list once every resource has loaded (until then
  // "Loading resources").  On a host without hardware virtualization it
  // first says so, with an Ignore button (which a person clicks: the
  // guests here run under software emulation).
  const list = page.locator('#virtual-machines-listing');
  const empty = page.getByText('No VM is running or defined on this host');
  const ignore = page.getByRole('button', { name: 'Ignore' });
  const deadline = Date.now() + WAIT_MS;
  let notes = '';
  for (;;) {
    if (await list.isVisible() || await empty.isVisible())
      return notes;
    if (await ignore.isVisible()) {
      await ignore.click().catch(() => {});
      notes = 'hardware virtualization notice ignored';
    }
    if (Date.now() > deadline)
      throw new Error(`the page did not finish loading: ${await bodyText()}`);
    await page.waitForTimeout(250);
  }
}

async function bodyText() {
  return (await page.locator('body').innerText()).replace(/\s+/g, ' ').slice(0, 600);
}

async function names() {
  const list = page.locator('#virtual-machines-listing');
  if (!await list.isVisible())
    return '';
  // Each row's header cell holds the VM's name (a link to its details).
  const cells = list.locator('tbody tr th');
  return (await cells.allInnerTexts()).map((t) => t.trim()).join('\t');
}

async function rows(count) {
  const wanted = Number(count);
  const list = page.locator('#virtual-machines-listing tbody tr');
  const deadline = Date.now() + WAIT_MS;
  while (await list.count() < wanted) {
    if (Date.now() > deadline)
      throw new Error(`the list has ${await list.count()} rows, not ${wanted}`);
    await page.waitForTimeout(250);
  }
  // One evaluation for all rows: a locator per row would take minutes at
  // hundreds of rows.
  return page.evaluate(() => [...document.querySelectorAll('#virtual-machines-listing tbody tr')]
    .map((row) => {
      const name = row.querySelector('th')?.innerText.trim() ?? '';
      const state = row.querySelector('[id$="-state"][class*="resource-state--"]');
      return `${name}=${state ? state.innerText.trim() : ''}`;
    }).join('\t'));
}

async function menuItem(vm, item) {
  await page.locator(byId(`${vmId(vm)}-action-kebab`)).click();
  await page.locator(byId(`${vmId(vm)}-${item}`)).click();
  return '';
}

async function details(vm) {
  await page.locator(byId(`${vmId(vm)}-name`)).click();
  const panel = page.locator('#vm-details');
  await panel.waitFor();
  return (await panel.innerText()).replace(/\s+/g, ' ').slice(0, 2000);
}

async function listingPage(card, listing) {
  await page.locator(`#${card} .card-pf-title-link`).click();
  const table = page.locator(`#${listing}`);
  await table.waitFor();
  await page.waitForTimeout(500);
  const listed = (await table.locator('tbody tr th, tbody tr td:first-child').allInnerTexts())
    .map((t) => t.trim()).filter((t) => t !== '');
  return listed.join('\t');
}

async function back() {
  await page.goBack();
  await page.locator('#virtual-machines-listing').waitFor();
  return '';
}

// The state label (not the "Failed" label that shares its id).
const stateLabel = (vm) => page.locator(`${byId(`${vmId(vm)}-state`)}[class*="resource-state--"]`);

async function waitState(vm, state) {
  const label = stateLabel(vm);
  try {
    await label.filter({ hasText: new RegExp(`^\\s*${state}\\s*$`) }).waitFor();
  } catch (e) {
    const now = await label.count() ? await label.innerText() : '(no row)';
    throw new Error(`${vm} shows "${now.trim()}", not "${state}": ${await bodyText()}`);
  }
  return state;
}

async function run(vm) {
  await page.locator(byId(`${vmId(vm)}-run`)).click();
  return '';
}

async function forceOff(vm) {
  await page.locator(byId(`${vmId(vm)}-action-kebab`)).click();
  await page.locator(byId(`${vmId(vm)}-forceOff`)).click();
  return '';
}

async function failure(vm) {
  const failed = page.locator(byId(`${vmId(vm)}-state`)).filter({ hasText: 'Failed' });
  await failed.waitFor();
  await failed.getByText('view more...').click();
  const popover = page.locator('.ct-popover-alert');
  await popover.waitFor();
  const title = await popover.locator('.pf-c-popover__title, h6, header').first().innerText();
  const body = await popover.locator('.pf-c-popover__body').innerText();
  return `${title.trim()}\t${body.trim().replace(/\s+/g, ' ')}`;
}

async function shot(path) {
  await page.screenshot({ path });
  return path;
}

const commands = {
  open, names, rows, run, failure, shot, details, back,
  pause: (vm) => menuItem(vm, 'pause'),
  'shut-down': async (vm) => {
    await page.locator(byId(`${vmId(vm)}-shutdown-button`)).click();
    return '';
  },
  resume: (vm) => menuItem(vm, 'resume'),
  pools: () => listingPage('card-pf-storage-pools', 'storage-pools-listing'),
  networks: () => listingPage('card-pf-networks', 'networks-listing'),
  'wait-state': waitState,
  'force-off': forceOff,
};

async function answer(line) {
  const [name, ...args] = line.split('\t');
  const command = commands[name];
  if (command === undefined)
    throw new Error(`unknown command ${name}`);
  if (name !== 'open' && page === null)
    throw new Error('no page: open one first');
  return command(...args);
}

const input = createInterface({ input: process.stdin });
for await (const line of input) {
  if (line === '')
    continue;
  try {
    const text = await answer(line);
    process.stdout.write(`OK\t${String(text).replace(/\n/g, ' ')}\n`);
  } catch (e) {
    process.stdout.write(`ERR\t${String(e.message).replace(/[\t\n]+/g, ' ')}\n`);
  }
}
if (browser !== null)
  await browser.close();
