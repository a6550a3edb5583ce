// dashboard.mjs — opens the parkhub dashboard of a running demo hub in the
// distribution's Chromium (headless, through playwright-core) and checks
// what its users see (issue #18): the sign-in page alone before sign-in;
// zh-CN by default for the demo's Asia/Shanghai park and English on
// demand (remembered); park-local times and unit symbols; the three
// enterprises online; stack values against their limits; open alarms, the
// alarm history and an alarm's detail with its occurrence log; the
// acknowledge form for a manager (the API then shows who and the note) and
// no acknowledge control for a regulator; the trends' period picker (the
// series requests' range follows it) and the drill-down to every metric of
// a point with its limit line; the 390 px and 360 px widths (the Limit and
// Share columns and the acknowledge control reachable); and, last, the
// offline marker on every value of an enterprise whose gateway stopped; the
// annual report's download (HTML and CSV) from the page; for a token of several parks, the all-parks view
// (each park's summary, the period's exceedances, the region's annual report) and the alarm panels coping
// with a regional hub's 501.
// Saves a screenshot (zh-CN, before the gateway stops).
//
// Usage: node dashboard.mjs URL MANAGER_TOKEN SCREENSHOT.png
// Environment: PH_REGULATOR_TOKEN (the regulator part), PH_OFFLINE_PID (the
// pid of the demo's gw-c agent, stopped for the offline part); a part whose
// input is missing fails, never passes silently.
// Prints "N passed, M failed" and exits non-zero on any failure.
import { chromium } from "playwright-core";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, token, shot] = process.argv.slice(2);
const regulatorToken = process.env.PH_REGULATOR_TOKEN || "";
const offlinePid = Number(process.env.PH_OFFLINE_PID || 0);
if (!url || !token || !shot) {
  console.error("usage: node dashboard.mjs URL TOKEN SCREENSHOT.png");
  process.exit(2);
}
const PARK = "demo-park", TZ = "Asia/Shanghai";

let passed = 0, failed = 0;
function check(what, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? ": " + detail : ""}`);
}

async function apiGet(path, tok = token) {
  const res = await fetch(new URL(path, url), { headers: { Authorization: "Bearer " + tok } });
  return res.json();
}

/* "YYYY-MM-DD HH" of an instant in the park's zone, as the page should write it. */
function parkHour(ms) {
  const p = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: TZ, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", hourCycle: "h23" }).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}`;
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
const consoleErrors = [], failedRequests = [], seriesRequests = [];
let signedIn = false;
page.on("console", (m) => {
  if (m.type() === "error" && !/Failed to load resource/.test(m.text())) consoleErrors.push(m.text());
});
page.on("pageerror", (e) => consoleErrors.push(String(e)));
page.on("response", (r) => {
  if (r.status() >= 400 && signedIn && !/favicon/.test(r.url()))
    failedRequests.push(`${r.status()} ${r.request().method()} ${r.url()}`);
});
page.on("request", (r) => { if (/\/series\?/.test(r.url())) seriesRequests.push(new URL(r.url())); });

async function signIn(tok) {
  await page.goto(url + "#token=" + tok, { waitUntil: "load" });
  await page.waitForSelector("#main:not([hidden])", { timeout: 15000 });
  await page.waitForFunction(() => document.querySelectorAll("#ents tbody tr[data-ent]").length >= 3, null,
                             { timeout: 20000 });
}

/* Whether the element, scrolled into view inside its scrolling table, lies within the viewport's width. */
async function reachable(selector, width) {
  const h = await page.$(selector);
  if (!h) return "missing";
  await h.scrollIntoViewIfNeeded();
  const box = await h.boundingBox();
  if (!box || !(await h.isVisible())) return "not visible";
  return box.x >= -1 && box.x + box.width <= width + 1 ? "" : `at x ${Math.round(box.x)}..${Math.round(box.x + box.width)}`;
}

/* The all-parks view of a token that sees several parks (the demo's regulator: demo-park and demo-park-2):
 * each park's summary headline from GET /api/v1/summary, the period's exceedances as GET /api/v1/exceedances
 * gives them for the page's own request, and the region's annual report downloads (HTML and CSV). */
async function allParks(tok) {
  const excUrls = [];
  const onReq = (r) => { if (/\/api\/v1\/exceedances\?/.test(r.url())) excUrls.push(r.url()); };
  page.on("request", onReq);
  await page.goto(url + "#token=" + tok, { waitUntil: "load" });
  await page.waitForSelector("#allparks:not([hidden])", { timeout: 15000 });
  check("a token of several parks opens on all parks, in Chinese",
        (await page.$eval("#park", (s) => s.value)) === "*" && /全部园区/.test(await page.textContent("#allparks h2")) &&
        (await page.textContent("#park option[value='*']")) === "全部园区");
  check("the all-parks view hides the per-park sections",
        !(await page.isVisible("#ents")) && !(await page.isVisible("#report")));
  await page.waitForFunction(() => document.querySelectorAll("#allsum tbody tr[data-park]").length >= 2, null,
                             { timeout: 20000 });
  const parks = await page.$$eval("#allsum tbody tr[data-park]", (rows) => rows.map((r) => r.dataset.park));
  const listed = (await apiGet("/api/v1/parks", tok)).parks.map((p) => p.park);
  check("every park of the token has its summary row, in config order", parks.join() === listed.join() &&
        parks.includes(PARK) && parks.includes("demo-park-2"), parks.join(", "));
  const sumDoc = await apiGet("/api/v1/summary?" + new URL(excUrls[0] || url).searchParams, tok);
  const so2 = (sumDoc.parks || []).find((p) => p.park === PARK)?.totals?.mass?.find((m) => m.metric === "so2");
  const cell = await page.$eval(`#allsum tbody tr[data-park=${PARK}] [data-metric=so2]`, (e) => e.textContent)
    .catch(() => "");
  check("a park's emissions cell shows its summary's figure or the reason it has none",
        so2 != null && (so2.value != null ? /\d/.test(cell) : /无/.test(cell)), cell);
  await page.waitForFunction(() => document.querySelector("#allexc tbody tr") != null, null, { timeout: 20000 });
  const rows = await page.$$eval("#allexc tbody tr[data-park]", (r) => r.length);
  const exc = excUrls.length ? await apiGet(excUrls[excUrls.length - 1], tok) : null;
  const empty = await page.textContent("#allexc tbody");
  check("the exceedances are the API's for the page's period",
        exc != null && (exc.count === rows) && (rows > 0 || /该时段无超标/.test(empty)),
        `page ${rows}, API ${exc && exc.count}`);
  const year = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", year: "numeric" }).format(new Date());
  for (const [button, ext] of [["#ghtml", "html"], ["#gcsv", "csv"]]) {
    const [dl] = await Promise.all([page.waitForEvent("download", { timeout: 60000 }), page.click(button)]);
    const name = dl.suggestedFilename(), body = readFileSync(await dl.path(), "utf8");
    check(`the region's annual report downloads as ${ext}`, name === `region_report_${year}.${ext}`, name);
    if (ext === "html")
      check("the region report has the region's totals and both parks' own reports, in Chinese",
            body.includes("年度区域环境报告") && body.includes("区域汇总") && body.includes(PARK) &&
            body.includes("demo-park-2"));
    else
      check("the region CSV has the region's blocks then each park's report",
            /\nregion\.pcdd_f,region,/.test(body) && body.includes("\nreport,park,demo-park,") &&
            body.includes("\nreport,park,demo-park-2,"));
  }
  page.off("request", onReq);
}

/* A regional hub answers the alarm listings 501 with the reason (alarms stay with the park hubs): the panels
 * show that text, no error. The demo is a park hub (its listings answer 200, as checked above), so this
 * answers the page's alarm requests with a regional hub's 501 (hub/api/api_worker.c's text) for a moment. */
async function regionalAlarms() {
  const why = "this is a regional hub: alarms are raised and kept by each park's hub and not forwarded; ask the park hub";
  const route = (r) => r.fulfill({ status: 501, contentType: "application/json",
                                   body: JSON.stringify({ error: { status: 501, message: why } }) });
  signedIn = false; // these 501s are the point, not failures
  await page.route(/\/api\/v1\/parks\/[^/]+\/alarms\?/, route);
  await page.click("#histform button[type=submit]");
  await page.waitForFunction((w) => document.querySelector("#alarms tbody").textContent.includes(w) &&
                                    document.querySelector("#hist tbody").textContent.includes(w), why,
                             { timeout: 30000 });
  check("a 501 from a regional hub shows its reason in the alarm panels, not an error",
        (await page.textContent("#error")) === "" && !(await page.isVisible("#error")));
  await page.unroute(/\/api\/v1\/parks\/[^/]+\/alarms\?/, route);
  await page.click("#histform button[type=submit]");
  await page.waitForFunction((w) => !document.querySelector("#hist tbody").textContent.includes(w), why,
                             { timeout: 30000 });
  signedIn = true;
}

try {
  // Without a token: the sign-in form alone, in Chinese; a wrong token is refused.
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("#login:not([hidden])", { timeout: 10000 });
  check("without a token the page asks for one", await page.isVisible("#token"));
  check("the sign-in page shows no park list and no Sign-out button",
        !(await page.isVisible("#park")) && !(await page.isVisible("#logout")));
  check("the page starts in zh-CN", (await page.getAttribute("html", "lang")) === "zh-CN");
  await page.fill("#token", "not-a-token");
  await page.click("#loginform button");
  await page.waitForFunction(() => document.getElementById("loginerr").textContent.length > 0, null, { timeout: 10000 });
  check("a wrong token is refused, in Chinese", /令牌/.test(await page.textContent("#loginerr")),
        await page.textContent("#loginerr"));
  signedIn = true;

  // With the token in the URL fragment.
  await signIn(token);
  check("the fragment's token is taken out of the address bar", !page.url().includes(token));
  const ents = await page.$$eval("#ents tbody tr[data-ent]", (rows) => rows.map((r) => r.dataset.ent));
  check("the three enterprises are listed", ["smelter-a", "smelter-b", "smelter-c"].every((e) => ents.includes(e)),
        ents.join(", "));
  await page.waitForFunction(() => document.querySelectorAll("#ents .state[data-state=online]").length >= 3, null,
                             { timeout: 30000 });
  check("their gateways show online, in Chinese", /在线/.test(await page.textContent("#ents tbody")));
  check("signed in, the park list and Sign-out are shown",
        (await page.isVisible("#park")) && (await page.isVisible("#logout")));

  // The annual report downloads from the page (the token rides in a header: fetch, then a blob).
  const year = new Intl.DateTimeFormat("en-GB", { timeZone: TZ, year: "numeric" }).format(new Date());
  for (const [button, ext] of [["#rhtml", "html"], ["#rcsv", "csv"]]) {
    const [dl] = await Promise.all([page.waitForEvent("download", { timeout: 30000 }), page.click(button)]);
    const name = dl.suggestedFilename();
    check(`the annual report downloads as ${ext}`, name === `${PARK}_report_${year}.${ext}`, name);
    if (ext === "html") { // in the page's language (app.js passes lang=)
      const body = readFileSync(await dl.path(), "utf8");
      check("the downloaded report is in the page's language (zh-CN)", body.includes('<html lang="zh-CN">'));
    }
  }
  check("the report section is in Chinese", /年度报告/.test(await page.textContent("#report h2")));

  // Park-local time, 24-hour, ISO-like, in the header clock.
  const before = Date.now();
  const clock = await page.textContent("#clock");
  const after = Date.now();
  check("the header clock is the park's time, 24-hour, YYYY-MM-DD HH:MM:SS",
        /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(clock) &&
        [parkHour(before), parkHour(after)].includes(clock.slice(0, 13)), clock);

  await page.waitForFunction(() => document.querySelectorAll("#alarms tbody tr[data-alarm]").length > 0, null,
                             { timeout: 30000 });
  const alarms = await page.$$eval("#alarms tbody tr[data-alarm]", (rows) => rows.map((r) => r.textContent));
  check("open alarms are shown", alarms.length > 0, alarms[0]);

  await page.waitForFunction(() => document.querySelectorAll("#stack tbody tr[data-metric] td.num").length > 0, null,
                             { timeout: 30000 });
  const so2 = await page.$$eval("#stack tbody tr[data-metric=so2]", (rows) => rows.map((r) => r.textContent));
  check("stack values are shown against their limits, named and with unit symbols",
        so2.length > 0 && so2.every((t) => /二氧化硫/.test(t) && /150 mg\/m³/.test(t)), so2.slice(0, 2).join(" | "));
  const mainText = await page.textContent("#main");
  check("no ASCII units or raw codes where people read", !/Nm3|degC|mg\/Nm|\bso2\b/.test(mainText),
        (mainText.match(/.{30}(Nm3|degC|\bso2\b).{10}/) || [""])[0]);
  check("fresh values carry no stale marker and show their share bar",
        (await page.$$("#stack tbody tr[data-stale]")).length === 0 &&
        (await page.$$("#stack tbody tr[data-metric=so2] .bar")).length >= 3);

  await page.waitForSelector("#charts .chart[data-metric='so2'] canvas", { timeout: 60000 });
  const legend = await page.textContent("#charts .chart[data-metric='so2']");
  check("the SO2 chart has a line per smelter and a limit line", ["smelter a", "smelter b", "smelter c"].every((e) =>
    legend.toLowerCase().includes(e)) && /限值/.test(legend), legend.slice(0, 200));
  // The cursor's time in the legend (the axes are drawn on the canvas by the same formatter's zone).
  await page.hover("#charts .chart[data-metric='so2'] .u-over", { position: { x: 5, y: 20 } });
  const cursorTime = await page.textContent("#charts .chart[data-metric='so2'] .u-legend .u-series:first-child .u-value");
  check("the chart's cursor time is park time, 24-hour, YYYY-MM-DD HH:MM", /^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(cursorTime),
        cursorTime);

  // The weighbridge ledger of today: each line says its material's role in the park's registry.
  const matHead = await page.textContent("#materials thead");
  check("the materials table has a role column", /类别/.test(matHead), matHead);
  const roles = await page.$$eval("#materials tbody td[data-role]", (c) => c.map((x) => x.dataset.role));
  const known = ["feed", "product", "residue", "consumable", "energy", "water", "unclassified"];
  check("every material line has a role", roles.every((r) => known.includes(r)), roles.join(", ") || "no weighing yet");

  // Water outlets (issue #20): the table is there; the demo declares no outlet, so it says so.
  await page.waitForFunction(() => document.querySelectorAll("#water tbody tr").length > 0, null, { timeout: 30000 });
  const water = await page.textContent("#water tbody");
  check("the water table says what it has", /未配置废水排放口|\d/.test(water), water.slice(0, 200));

  // The period picker: the series requests follow it.
  const spanOf = (u) => (Date.parse(u.searchParams.get("to")) - Date.parse(u.searchParams.get("from"))) / 3600e3;
  const first = seriesRequests.filter((u) => u.searchParams.get("metric") === "so2");
  check("the trends start with the last 24 hours", first.length > 0 && first.every((u) => Math.round(spanOf(u)) === 24),
        first.map((u) => spanOf(u).toFixed(1) + " h").join(", "));
  seriesRequests.length = 0;
  await page.selectOption("#period", "7d");
  await page.waitForFunction(() => document.querySelector("#charts .chart[data-metric='so2'] canvas"), null,
                             { timeout: 30000 });
  await page.waitForFunction(() => document.querySelector("#charts .chart[data-metric='quench_out_temp'] canvas"),
                             null, { timeout: 30000 });
  const week = seriesRequests.filter((u) => u.searchParams.get("metric") === "so2");
  check("choosing 7 days asks for 7 days of hourly means",
        week.length > 0 && week.every((u) => Math.round(spanOf(u)) === 168 && u.searchParams.get("step") === "1h"),
        week.map((u) => spanOf(u).toFixed(1) + " h " + u.searchParams.get("step")).join(", "));
  await page.selectOption("#period", "custom");
  check("a custom period offers dates", await page.isVisible("#pfrom"));
  // Custom dates are the park's days: from its local midnight (Asia/Shanghai, UTC+8) to the end of the last day.
  const today = parkHour(Date.now()).slice(0, 10);
  const [y, mo, d] = today.split("-").map(Number);
  const firstDay = new Date(Date.UTC(y, mo - 1, d - 2)).toISOString().slice(0, 10);
  await page.fill("#pfrom", firstDay);
  await page.fill("#pto", today);
  seriesRequests.length = 0;
  await page.click("#periodform button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#charts .chart[data-metric='quench_out_temp'] canvas"),
                             null, { timeout: 30000 });
  const custom = seriesRequests.filter((u) => u.searchParams.get("metric") === "so2");
  const wantFrom = new Date(Date.UTC(y, mo - 1, d - 2) - 8 * 3600e3).toISOString();
  check("a custom period starts at the park's local midnight of its first day",
        custom.length > 0 && custom.every((u) => new Date(u.searchParams.get("from")).toISOString() === wantFrom),
        custom.map((u) => u.searchParams.get("from")).join(", ") + " want " + wantFrom);
  // Zoom: a drag across the SO2 chart narrows it, Reset zoom shows the whole period again.
  const over = await page.$("#charts .chart[data-metric='so2'] .u-over");
  const ob = await over.boundingBox();
  await page.mouse.move(ob.x + ob.width * 0.3, ob.y + ob.height / 2);
  await page.mouse.down();
  await page.mouse.move(ob.x + ob.width * 0.6, ob.y + ob.height / 2, { steps: 5 });
  await page.mouse.up();
  const zoomed = await page.getAttribute("#charts .chart[data-metric='so2']", "data-zoomed");
  await page.click("#zoomreset");
  const reset = await page.getAttribute("#charts .chart[data-metric='so2']", "data-zoomed");
  check("a drag zooms a chart and Reset zoom shows the whole period", zoomed === "1" && reset === "0",
        `after the drag ${zoomed}, after reset ${reset}`);

  // Drill-down: every metric of a stack, SO2 with its limit line.
  await page.selectOption("#dent", "smelter-a");
  const stackPoint = await page.$eval("#stack tbody tr[data-ent=smelter-a]", (r) => r.cells[1].textContent);
  await page.selectOption("#dpoint", stackPoint);
  await page.waitForSelector("#drill .chart[data-metric='so2'] canvas", { timeout: 30000 });
  const drill = await page.$$eval("#drill .chart", (c) => c.map((x) => x.dataset.metric));
  const pts = await apiGet(`/api/v1/parks/${PARK}/enterprises/smelter-a/points`);
  const want = pts.points.find((p) => p.point === stackPoint).metrics.map((m) => m.metric);
  check("the drill-down shows every metric of the point", want.every((m) => drill.includes(m)),
        drill.join(", "));
  check("the drill-down's SO2 chart has its limit line", /限值/.test(await page.textContent("#drill .chart[data-metric='so2']")));

  // Alarm history and an alarm's detail with its log.
  await page.waitForFunction(() => document.querySelectorAll("#hist tbody tr[data-alarm]").length > 0, null,
                             { timeout: 20000 });
  check("the alarm history lists alarms", (await page.$$("#hist tbody tr[data-alarm]")).length > 0);
  await page.click("#hist tbody tr[data-alarm] button.detail");
  await page.waitForSelector("#detail:not([hidden])", { timeout: 10000 });
  await page.waitForFunction(() => document.querySelectorAll("#occ tbody tr").length > 0 &&
                             document.querySelectorAll("#alog tbody tr").length > 0, null, { timeout: 10000 });
  const log = await page.$$eval("#alog tbody td[data-transition]", (c) => c.map((x) => x.dataset.transition + " " + x.textContent));
  check("the alarm detail shows its occurrences and its log, in Chinese", log.includes("raised 触发"), log.join(", "));
  await page.selectOption("#hstate", "closed");
  const closedAnswer = page.waitForResponse((r) => /\/alarms\?.*state=closed/.test(r.url()), { timeout: 10000 });
  await page.click("#histform button[type=submit]");
  await closedAnswer;
  await page.waitForTimeout(300);
  const closedStates = await page.$$eval("#hist tbody tr[data-alarm]", (r) => r.map((x) => x.dataset.state));
  check("the history filters closed alarms", closedStates.every((s) => s === "closed"), closedStates.join(", ") || "none closed yet");
  await page.selectOption("#hstate", "");

  // Acknowledge from the form (a manager), with a Chinese name.
  const btn = await page.$("#alarms button.ack");
  if (btn) {
    const id = await btn.evaluate((b) => b.closest("tr").dataset.alarm);
    await btn.click();
    await page.waitForSelector("#ackdlg[open]", { timeout: 5000 });
    check("acknowledging opens a form, not a prompt", await page.isVisible("#ackby"));
    await page.fill("#ackby", "李伟");
    await page.fill("#acknote", "布袋除尘器风机已重启");
    await page.click("#acksubmit");
    await page.waitForFunction((aid) => {
      const row = document.querySelector(`#alarms tr[data-alarm="${aid}"]`);
      return !document.getElementById("ackdlg").open && (!row || /李伟/.test(row.textContent));
    }, id, { timeout: 15000 });
    const r = await apiGet(`/api/v1/parks/${PARK}/alarms?limit=1000`);
    const a = r.alarms.find((x) => x.alarm_id === id);
    check("the API shows who acknowledged and the note", a && a.acked_by === "李伟" && a.note === "布袋除尘器风机已重启",
          JSON.stringify(a && { acked_by: a.acked_by, note: a.note, state: a.state }));
  } else {
    check("a manager sees an Acknowledge control", false, "no Acknowledge button");
  }

  // The screenshot (README): the last 24 hours, the first stack drilled into.
  await page.selectOption("#period", "24h");
  await page.waitForSelector("#charts .chart[data-metric='quench_out_temp'] canvas", { timeout: 30000 });
  await page.waitForSelector("#drill .chart canvas", { timeout: 30000 });
  await page.screenshot({ path: shot, fullPage: true });
  check("screenshot saved", true, shot);

  // English on demand, remembered.
  await page.selectOption("#lang", "en");
  check("English on demand: <html lang> follows", (await page.getAttribute("html", "lang")) === "en");
  await page.reload({ waitUntil: "load" });
  await page.waitForSelector("#main:not([hidden])", { timeout: 15000 });
  await page.waitForFunction(() => document.querySelectorAll("#stack tbody tr[data-metric=so2]").length > 0, null,
                             { timeout: 20000 });
  const en = await page.textContent("#main");
  check("the choice is remembered and everything reads English",
        (await page.getAttribute("html", "lang")) === "en" && /Enterprises/.test(en) && /Sulphur dioxide/.test(en) &&
        !/[\u4e00-\u9fff]/.test(await page.textContent("#main section")), en.slice(0, 80));
  await page.selectOption("#lang", "zh-CN");

  // Narrow screens: nothing cut; the columns that matter are reachable.
  for (const width of [390, 360]) {
    await page.setViewportSize({ width, height: 800 });
    await page.waitForTimeout(300);
    const sw = await page.evaluate(() => document.documentElement.scrollWidth);
    check(`at ${width} px the page does not overflow sideways`, sw <= width + 1, `${sw} px wide`);
    for (const sel of ["#stack thead th.limitcol", "#stack thead th.sharecol", "#stack tbody tr[data-metric] td.sharecol",
                       "#alarms tbody tr[data-alarm] button.detail"]) {
      const why = await reachable(sel, width);
      check(`at ${width} px ${sel} is reachable`, why === "", why);
    }
    const ack = await page.$("#alarms button.ack, #hist button.ack");
    check(`at ${width} px an acknowledge control is reachable`, ack && (await reachable("#alarms button.ack, #hist button.ack", width)) === "",
          ack ? "" : "none left to acknowledge");
  }
  await page.setViewportSize({ width: 1400, height: 1800 });

  // A regulator of the demo's two parks: the all-parks view (全部园区) first, then the park's own.
  if (regulatorToken) {
    await page.evaluate(() => sessionStorage.clear());
    await page.goto("about:blank");
    await allParks(regulatorToken);
    await page.selectOption("#park", PARK);
    await page.waitForFunction(() => document.querySelectorAll("#ents tbody tr[data-ent]").length >= 3, null,
                               { timeout: 20000 });
    check("choosing a park leaves the all-parks view", !(await page.isVisible("#allparks")) &&
          (await page.isVisible("#ents")));
    await regionalAlarms();
    await page.waitForFunction(() => document.querySelectorAll("#alarms tbody tr[data-alarm] button.detail").length > 0,
                               null, { timeout: 20000 });
    await page.waitForFunction(() => document.querySelectorAll("#hist tbody tr[data-alarm]").length > 0, null,
                               { timeout: 20000 });
    check("a regulator sees the alarms but no acknowledge control", (await page.$$("button.ack")).length === 0);
  } else {
    check("a regulator sees no acknowledge control", false, "PH_REGULATOR_TOKEN not given");
  }

  // A gateway stops: every value of its enterprise is marked offline, without a share bar.
  if (offlinePid) {
    process.kill(offlinePid, "SIGTERM");
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("#stack tbody tr[data-ent=smelter-c]")];
      return rows.length > 0 && rows.every((r) => r.dataset.stale === "offline");
    }, null, { timeout: 60000 });
    const cBars = await page.$$("#stack tbody tr[data-ent=smelter-c] .bar");
    const marks = await page.$$eval("#stack tbody tr[data-ent=smelter-c] .marker.offline", (m) => m.length);
    const aBars = await page.$$("#stack tbody tr[data-ent=smelter-a] .bar");
    check("an offline enterprise's values are marked offline, with no share bar",
          cBars.length === 0 && marks > 0 && aBars.length > 0, `${marks} markers, ${cBars.length} bars`);
  } else {
    check("an offline enterprise's values are marked", false, "PH_OFFLINE_PID not given");
  }

  // A value older than its point's expected interval (the demo's 1 s, plus the page's minute of grace) is
  // marked stale, without a share bar: a second tab whose clock runs three minutes ahead of the hub's (the
  // clock is the context's: this comes last). The enterprises still online (gw-c stopped above).
  {
    const tab = await browser.newPage();
    await tab.clock.install();
    await tab.goto(url + "#token=" + token, { waitUntil: "load" });
    await tab.waitForFunction(() => document.querySelectorAll("#stack tbody tr[data-metric=so2]").length >= 3, null,
                              { timeout: 20000 });
    const ON = "#stack tbody tr[data-metric]:not([data-ent=smelter-c])";
    const freshBefore = (await tab.$$(ON + "[data-stale]")).length;
    await tab.clock.fastForward("03:00");
    await tab.waitForFunction((on) => {
      const rows = [...document.querySelectorAll(on)];
      return rows.length > 0 && rows.every((r) => r.dataset.stale === "stale");
    }, ON, { timeout: 30000 });
    const bars = (await tab.$$(ON + " .bar")).length;
    const marks = await tab.$$eval(ON + " .marker.stale", (m) => m.length);
    check("a value older than its point's interval is marked stale, with no share bar",
          freshBefore === 0 && bars === 0 && marks > 0, `${freshBefore} stale before, ${marks} markers, ${bars} bars after`);
    await tab.close();
  }

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
