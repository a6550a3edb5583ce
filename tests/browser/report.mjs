// report.mjs — the annual report on A4 in the distribution's Chromium
// (headless, through playwright-core), in zh-CN and en (issue #18): the
// page's language, the CJK font actually used for Chinese text, every
// table cell inside the printable width in print media, and a PDF printed
// at A4 (its text is checked by report.sh with pdftotext).
//
// Usage: node report.mjs DIR SCREENSHOT.png
//   DIR holds report.zh-CN.html and report.en.html (parkhub report --lang);
//   report.<lang>.pdf are written there; SCREENSHOT is the zh-CN page's top.
// Prints "N passed, M failed" and exits non-zero on any failure.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [dir, shot] = process.argv.slice(2);
if (!dir || !shot) {
  console.error("usage: node report.mjs DIR SCREENSHOT.png");
  process.exit(2);
}
// A4 less the report's @page margins (14 mm 12 mm): 186 mm wide, in CSS px.
const CONTENT_W = (210 - 2 * 12) / 25.4 * 96;

let passed = 0, failed = 0;
function check(what, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? ": " + detail : ""}`);
}

const profile = mkdtempSync(join(tmpdir(), "parkhub-report-chromium-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run"],
  viewport: { width: Math.floor(CONTENT_W), height: 1200 },
});
try {
  const page = browser.pages()[0] || (await browser.newPage());
  page.setDefaultTimeout(30000);
  for (const [lang, heading] of [["zh-CN", "数据有效率"], ["en", "Data availability"]]) {
    const file = join(dir, `report.${lang}.html`);
    await page.setViewportSize({ width: Math.floor(CONTENT_W), height: 1200 });
    await page.emulateMedia({ media: "print" });
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    check(`${lang}: <html lang>`, (await page.getAttribute("html", "lang")) === lang);
    const lastHeads = await page.$$eval("table thead tr", (rows) =>
      rows.map((r) => r.lastElementChild.textContent.trim()));
    check(`${lang}: the compliance tables end with "${heading}"`,
          lastHeads.filter((h) => h === heading).length >= 2, lastHeads.join(" | "));

    // Every cell inside the page's content width, in print media.
    const over = await page.$$eval("th, td", (cells, w) => cells
      .map((c) => ({ r: c.getBoundingClientRect().right, t: c.textContent.trim().slice(0, 30),
                     table: c.closest("table").previousElementSibling?.textContent.slice(0, 30) }))
      .filter((c) => c.r > w + 0.5), CONTENT_W);
    check(`${lang}: every table cell ends within the A4 content width (${CONTENT_W.toFixed(0)} px)`, over.length === 0,
          over.slice(0, 5).map((c) => `${c.table}: "${c.t}" ends at ${c.r.toFixed(0)}`).join("; "));
    const sw = await page.evaluate(() => document.documentElement.scrollWidth);
    check(`${lang}: the page does not scroll sideways in print`, sw <= Math.ceil(CONTENT_W), `${sw} px`);

    if (lang === "zh-CN") {
      // The platform font Chromium drew the Chinese heading with.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send("DOM.enable");
      await cdp.send("CSS.enable");
      const { root } = await cdp.send("DOM.getDocument");
      const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector: "h1" });
      const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
      check("zh-CN: the title's Chinese glyphs come from the installed CJK font",
            fonts.some((f) => /WenQuanYi|WQY|Noto Sans CJK|Noto Serif CJK/i.test(f.familyName) && f.glyphCount > 0),
            fonts.map((f) => `${f.familyName} ×${f.glyphCount}`).join(", "));
      await cdp.detach();
      await page.emulateMedia({ media: "screen" });
      await page.setViewportSize({ width: 900, height: 1100 });
      await page.screenshot({ path: shot });
      await page.emulateMedia({ media: "print" });
    }

    const pdf = join(dir, `report.${lang}.pdf`);
    await page.pdf({ path: pdf, format: "A4", printBackground: true, preferCSSPageSize: true });
    check(`${lang}: printed to PDF at A4`, statSync(pdf).size > 10000, `${statSync(pdf).size} bytes`);
  }
} catch (e) {
  check("the report pages ran to the end", false, String(e));
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
