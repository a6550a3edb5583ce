// dashboard.mjs — opens the parkhub dashboard of a running demo hub in the
// distribution's Chromium (headless, through playwright-core) and checks
// what a park manager sees: the three enterprises with their online state,
// at least one open alarm, a chart of the hourly trends, the stack values
// against their limits; acknowledges an alarm from the page; saves a
// screenshot. Usage: node dashboard.mjs URL TOKEN SCREENSHOT.png
// Prints "N passed, M failed" and exits non-zero on any failure.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, token, shot] = process.argv.slice(2);
if (!url || !token || !shot) {
  console.error("usage: node dashboard.mjs URL TOKEN SCREENSHOT.png");
  process.exit(2);
}

let passed = 0, failed = 0;
function check(what, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? ": " + detail : ""}`);
}

const profile = mkdtempSync(join(tmpdir(), "parkhub-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run"],
  viewport: { width: 1400, height: 1800 },
});
const page = browser.pages()[0] || (await browser.newPage());
// Script errors, and failed requests once signed in (the browser's own
// "Failed to load resource" lines are covered by the latter).
const consoleErrors = [], failedRequests = [];
let signedIn = false;
page.on("console", (m) => {
  if (m.type() === "error" && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
});
page.on("pageerror", (e) => consoleErrors.push(String(e)));
page.on("response", (r) => {
  if (r.status() >= 400 && signedIn) failedRequests.push(`${r.status()} ${r.request().method()} ${r.url()}`);
});

try {
  // Without a token: the sign-in form, and a wrong token is refused.
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("#login:not([hidden])", { timeout: 10000 });
  check("without a token the page asks for one", await page.isVisible("#token"));
  await page.fill("#token", "not-a-token");
  await page.click("#loginform button");
  await page.waitForFunction(() => document.getElementById("loginerr").textContent.length > 0, null, { timeout: 10000 });
  check("a wrong token is refused", /does not know/.test(await page.textContent("#loginerr")));
  signedIn = true;

  // With the token in the URL fragment.
  await page.goto(url + "#token=" + token, { waitUntil: "load" });
  await page.waitForSelector("#main:not([hidden])", { timeout: 15000 });
  check("the fragment's token is taken out of the address bar", !page.url().includes(token));

  await page.waitForFunction(() => document.querySelectorAll("#ents tbody tr[data-ent]").length >= 3, null,
                             { timeout: 20000 });
  const ents = await page.$$eval("#ents tbody tr[data-ent]", (rows) => rows.map((r) => r.dataset.ent));
  check("the three enterprises are listed", ["smelter-a", "smelter-b", "smelter-c"].every((e) => ents.includes(e)),
        ents.join(", "));
  await page.waitForFunction(() => document.querySelectorAll("#ents .state.online").length >= 3, null,
                             { timeout: 30000 });
  check("their gateways show online", (await page.$$("#ents .state.online")).length >= 3);

  await page.waitForFunction(() => document.querySelectorAll("#alarms tbody tr[data-alarm]").length > 0, null,
                             { timeout: 30000 });
  const alarms = await page.$$eval("#alarms tbody tr[data-alarm]", (rows) => rows.map((r) => r.textContent));
  check("open alarms are shown", alarms.length > 0, alarms[0]);

  await page.waitForFunction(() => document.querySelectorAll("#stack tbody tr td.num").length > 0, null,
                             { timeout: 30000 });
  const stackRows = await page.$$eval("#stack tbody tr", (rows) => rows.map((r) => r.textContent));
  check("stack values are shown against their limits", stackRows.some((t) => /so2/.test(t) && /150/.test(t)),
        stackRows.slice(0, 3).join(" | "));

  await page.waitForSelector("#charts .chart[data-metric='so2'] canvas", { timeout: 60000 });
  const charts = await page.$$eval("#charts .chart canvas", (c) => c.length);
  check("trend charts are drawn", charts >= 1, charts + " canvas");
  const legend = await page.textContent("#charts .chart[data-metric='so2']");
  check("the SO2 chart has a line per smelter", ["smelter-a", "smelter-b", "smelter-c"].every((e) =>
    legend.toLowerCase().includes(e.replace("smelter-", "smelter ")) || legend.includes(e)), legend.slice(0, 200));

  // The weighbridge ledger of today: each line says its material's role in the park's registry.
  const matHead = await page.textContent("#materials thead");
  check("the materials table has a role column", /Role/.test(matHead), matHead);
  const roles = await page.$$eval("#materials tbody tr", (rows) =>
    rows.filter((r) => r.cells.length >= 6).map((r) => r.cells[2].textContent));
  const known = ["feed", "product", "residue", "consumable", "energy", "water", "unclassified"];
  check("every material line has a role", roles.every((r) => known.includes(r)), roles.join(", ") || "no weighing yet");

  // Water outlets (issue #20): the table is there; the demo declares no outlet, so it says so.
  await page.waitForFunction(() => document.querySelectorAll("#water tbody tr").length > 0, null, { timeout: 30000 });
  const water = await page.textContent("#water tbody");
  check("the water table says what it has", /no water outlet configured|\d/.test(water), water.slice(0, 200));

  // Acknowledge the first unacknowledged alarm from the page.
  const btn = await page.$("#alarms button.ack");
  if (btn) {
    const id = await btn.evaluate((b) => b.closest("tr").dataset.alarm);
    const answers = ["browser test", "seen in the dashboard"];
    page.on("dialog", (d) => d.accept(answers.shift() || ""));
    await btn.click();
    await page.waitForFunction((aid) => {
      const row = document.querySelector(`#alarms tr[data-alarm="${aid}"]`);
      return row && /acked/.test(row.textContent) && /browser test/.test(row.textContent);
    }, id, { timeout: 15000 });
    check("an alarm is acknowledged from the page", true, id);
  } else {
    check("an alarm is acknowledged from the page", false, "no Acknowledge button");
  }

  await page.screenshot({ path: shot, fullPage: true });
  check("screenshot saved", true, shot);
  check("no script errors in the page", consoleErrors.length === 0, consoleErrors.join(" | "));
  check("no request failed once signed in", failedRequests.length === 0, failedRequests.join(" | "));
} catch (e) {
  check("dashboard test ran to the end", false, String(e));
  try { await page.screenshot({ path: shot, fullPage: true }); } catch (e2) { /* the page may be gone */ }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
