/* parkhub dashboard: a static page that reads only the public API
 * (/api/v1, docs/openapi.yaml) with the bearer token the user gives.
 * The token comes from the URL fragment (#token=..., never sent to the
 * server as part of a URL) or the sign-in form, and is kept in this tab's
 * sessionStorage only. Tables refresh every 10 s, charts every 60 s. */
"use strict";

const TABLE_EVERY_MS = 10000;
const CHART_EVERY_MS = 60000;
const TREND_HOURS = 48;
const MAX_TREND_ENTS = 12; /* a chart with more lines is unreadable */
const POLLUTANTS = ["so2", "nox", "pm"];
const QUENCH = "quench_out_temp";
const DENOVO_LOW = 200, DENOVO_HIGH = 400; /* °C: the de novo synthesis window after the quench */
const COLOURS = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#4e342e", "#ad1457",
                 "#283593", "#558b2f", "#f9a825", "#37474f"];

const $ = (id) => document.getElementById(id);
const state = { token: null, park: null, parks: [], ents: [], points: {}, timers: [], charts: [] };

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, opts = {}) {
  const res = await fetch(path, {
    method: opts.method || "GET",
    headers: Object.assign({ Authorization: "Bearer " + state.token, Accept: "application/json" },
                           opts.body ? { "Content-Type": "application/json" } : {}),
    body: opts.body ? JSON.stringify(opts.body) : undefined,
    cache: "no-store",
  });
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) {
    const msg = body && body.error ? body.error.message : res.statusText;
    throw new ApiError(res.status, msg);
  }
  return body;
}

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(k == null ? "" : String(k)));
  return e;
}

function fmtNum(v, digits = 3) {
  if (v == null || !isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  return Number(v.toPrecision(digits)).toString();
}

function fmtTime(iso) {
  if (!iso) return "—";
  const tz = state.park ? state.park.tz : undefined;
  try {
    return new Date(iso).toLocaleString("sv-SE", { timeZone: tz, hour12: false });
  } catch (e) {
    return iso;
  }
}

function showError(e) {
  $("error").textContent = e ? (e.status ? e.status + ": " : "") + e.message : "";
}

function fill(tbody, rows, empty, ncols) {
  tbody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: ncols, class: "muted" }, empty))]));
}

/* ---- sign-in ---- */

function takeToken() {
  const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem("parkhub.token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("parkhub.token");
}

function showLogin(msg) {
  stopTimers();
  $("main").hidden = true;
  $("login").hidden = false;
  $("loginerr").textContent = msg || "";
}

async function start() {
  state.token = takeToken();
  if (!state.token) return showLogin();
  try {
    const r = await api("/api/v1/parks");
    state.parks = r.parks;
  } catch (e) {
    sessionStorage.removeItem("parkhub.token");
    return showLogin(e.status === 401 ? "The hub does not know this token." : e.message);
  }
  $("login").hidden = true;
  $("main").hidden = false;
  const sel = $("park");
  sel.replaceChildren(...state.parks.map((p) => el("option", { value: p.park }, p.name || p.park)));
  const want = sessionStorage.getItem("parkhub.park");
  if (want && state.parks.some((p) => p.park === want)) sel.value = want;
  sel.onchange = () => { sessionStorage.setItem("parkhub.park", sel.value); selectPark(); };
  if (!state.parks.length) return showError(new Error("this token sees no park"));
  selectPark();
}

function stopTimers() {
  state.timers.forEach(clearInterval);
  state.timers = [];
}

function selectPark() {
  stopTimers();
  state.park = state.parks.find((p) => p.park === $("park").value) || state.parks[0];
  $("parkinfo").textContent = state.park.park + " · " + state.park.tz + " · " + state.park.enterprises + " enterprises";
  refreshTables().then(refreshCharts);
  state.timers.push(setInterval(refreshTables, TABLE_EVERY_MS));
  state.timers.push(setInterval(refreshCharts, CHART_EVERY_MS));
}

function parkPath(rest) { return "/api/v1/parks/" + encodeURIComponent(state.park.park) + rest; }

/* ---- tables ---- */

async function refreshTables() {
  try {
    showError(null);
    const ents = await api(parkPath("/enterprises"));
    state.ents = ents.enterprises;
    renderEnts();
    const pts = await Promise.all(state.ents.map((e) =>
      api(parkPath("/enterprises/" + encodeURIComponent(e.ent) + "/points")).then((r) => [e.ent, r.points])));
    state.points = Object.fromEntries(pts);
    renderStack();
    await Promise.all([refreshAlarms(), refreshMaterials()]);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString("sv-SE", { hour12: false });
  } catch (e) {
    if (e.status === 401) return showLogin("The token is no longer accepted.");
    showError(e);
  }
}

function renderEnts() {
  const rows = state.ents.map((e) => {
    const online = e.agents.filter((a) => a.state === "online").length;
    const st = e.online ? "online" : e.agents.some((a) => a.state === "offline") ? "offline" : "unknown";
    return el("tr", { "data-ent": e.ent },
      el("td", {}, el("strong", {}, e.name || e.ent), " ", el("span", { class: "muted" }, e.ent)),
      el("td", {}, e.sector),
      el("td", {}, el("span", { class: "state " + st }, st)),
      el("td", { class: "num" }, online + " / " + e.agents.length),
      el("td", { class: "num" }, e.outbox_depth == null ? "—" : e.outbox_depth),
      el("td", {}, fmtTime(e.last_status)));
  });
  fill($("ents").tBodies[0], rows, "no enterprises configured", 6);
}

function renderStack() {
  const rows = [];
  for (const e of state.ents) {
    for (const p of state.points[e.ent] || []) {
      for (const m of p.metrics) {
        if (m.limit == null) continue;
        const share = m.last == null || !(m.limit > 0) ? null : m.last / m.limit;
        const bar = el("span", { class: "bar" + (share == null ? "" : share > 1 ? " over" : share > 0.8 ? " high" : "") },
                       el("span", {}));
        if (share != null) bar.firstChild.style.width = Math.min(100, share * 100).toFixed(1) + "%";
        rows.push(el("tr", {},
          el("td", {}, e.name || e.ent), el("td", {}, p.point), el("td", {}, m.metric),
          el("td", { class: "num" }, fmtNum(m.last) + " " + (m.unit || "")),
          el("td", { class: "num" }, fmtNum(m.limit) + " " + (m.unit || "")),
          el("td", {}, bar, " ", share == null ? "—" : (share * 100).toFixed(0) + " %"),
          el("td", {}, fmtTime(m.ts))));
      }
    }
  }
  fill($("stack").tBodies[0], rows, "no stack values with a limit yet", 7);
}

async function refreshAlarms() {
  const r = await api(parkPath("/alarms?state=open&limit=200"));
  const names = Object.fromEntries(state.ents.map((e) => [e.ent, e.name || e.ent]));
  const rows = r.alarms.map((a) => {
    const canAck = a.state === "active_unacked" || a.state === "cleared_unacked";
    const btn = canAck ? el("button", { class: "ack", type: "button", onclick: () => ack(a) }, "Acknowledge") : "";
    return el("tr", { "data-alarm": a.alarm_id },
      el("td", {}, el("span", { class: "sev " + a.severity }, a.severity)),
      el("td", {}, a.state.replace("_", " ") + (a.acked_by ? " (" + a.acked_by + ")" : "")),
      el("td", {}, names[a.ent] || a.ent), el("td", {}, a.point || "—"),
      el("td", {}, a.message), el("td", {}, fmtTime(a.first)), el("td", {}, fmtTime(a.last)),
      el("td", { class: "num" }, a.count), el("td", {}, btn));
  });
  $("alarmcount").textContent = r.alarms.length ? String(r.alarms.length) : "";
  fill($("alarms").tBodies[0], rows, "no open alarms", 9);
}

async function ack(a) {
  const by = prompt("Acknowledge " + a.alarm_id + " (" + a.message + ")\nYour name:");
  if (!by) return;
  const note = prompt("Note (optional):") || "";
  try {
    await api(parkPath("/alarms/" + encodeURIComponent(a.alarm_id) + "/ack"), { method: "POST", body: { by, note } });
    await refreshAlarms();
  } catch (e) {
    showError(e.status === 403 ? new ApiError(403, "this token may not acknowledge alarms (manager or admin only)") : e);
  }
}

/* Local midnight of today in the park's zone, as an instant. */
function parkMidnight(now) {
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: state.park.tz, hour12: false, hour: "2-digit",
                                                   minute: "2-digit", second: "2-digit" }).formatToParts(now);
  const get = (t) => Number(parts.find((p) => p.type === t).value) % 24;
  const since = ((get("hour") * 60 + get("minute")) * 60 + get("second")) * 1000 + now.getMilliseconds();
  return new Date(now.getTime() - since);
}

async function refreshMaterials() {
  const now = new Date();
  const from = parkMidnight(now);
  const r = await api(parkPath("/summary?from=" + encodeURIComponent(from.toISOString()) + "&to=" +
                               encodeURIComponent(now.toISOString())));
  const rows = [];
  for (const e of r.enterprises)
    for (const it of e.materials.items)
      rows.push(el("tr", {}, el("td", {}, e.name || e.ent), el("td", {}, it.material),
                   el("td", it.role === "unclassified" ? { class: "unclassified",
                      title: "a code the park's configuration does not declare: stored, in no balance figure" } : {},
                      it.role || ""),
                   el("td", {}, it.dir), el("td", { class: "num" }, fmtNum(it.qty_t, 4)),
                   el("td", { class: "num" }, it.records)));
  fill($("materials").tBodies[0], rows, "no weighings today", 6);
  const t = r.totals.materials || {};
  const foot = [el("tr", {}, el("td", { colspan: 4 }, "Park total: in / out"),
    el("td", { class: "num" }, fmtNum(t.in_t, 4) + " / " + fmtNum(t.out_t, 4)), el("td", {}))];
  if (t.unclassified_in_t || t.unclassified_out_t)
    foot.push(el("tr", { class: "unclassified" }, el("td", { colspan: 4 }, "of which unclassified: in / out"),
      el("td", { class: "num" }, fmtNum(t.unclassified_in_t, 4) + " / " + fmtNum(t.unclassified_out_t, 4)),
      el("td", {})));
  $("materials").tFoot.replaceChildren(...foot);
  renderWater(r);
}

/* The summary's water part (water.h): closed hours of today; a limit the
 * standard's data does not verify is shown with its reason, never as 0. */
function renderWater(r) {
  const rows = [];
  for (const e of r.enterprises) {
    const w = e.water;
    if (!w) continue;
    for (const o of w.items) {
      const vol = o.volume_m3 === null ? "n/a (" + (o.volume_m3_na || "") + ")" : fmtNum(o.volume_m3, 4);
      const pols = o.pollutants.length ? o.pollutants : [null];
      for (const p of pols) {
        const lim = !p ? "" : p.limit !== undefined && p.limit !== null ? fmtNum(p.limit, 4)
          : p.limit_min !== undefined ? fmtNum(p.limit_min, 3) + "–" + fmtNum(p.limit_max, 3)
          : "n/a (" + (p.limit_na || "") + ")";
        const load = !p ? "" : p.load_kg === null ? "n/a (" + (p.load_kg_na || "") + ")" : fmtNum(p.load_kg, 4);
        rows.push(el("tr", {}, el("td", {}, e.name || e.ent), el("td", {}, o.point + " (" + o.discharge + ")"),
                     el("td", {}, p ? p.metric : ""), el("td", { class: "num" }, vol),
                     el("td", { class: "num" }, load), el("td", {}, lim),
                     el("td", { class: "num" }, p ? String(p.days_over) : "")));
      }
    }
  }
  fill($("water").tBodies[0], rows, "no water outlet configured", 7);
}

/* ---- charts ---- */

/* Every (enterprise, point) that measures metric, at most MAX_TREND_ENTS. */
function seriesOf(metric) {
  const out = [];
  for (const e of state.ents)
    for (const p of state.points[e.ent] || [])
      if (p.metrics.some((m) => m.metric === metric) && out.length < MAX_TREND_ENTS)
        out.push({ ent: e.ent, name: e.name || e.ent, point: p.point,
                   limit: (p.metrics.find((m) => m.metric === metric) || {}).limit });
  return out;
}

async function fetchHourly(s, metric, from, to) {
  const q = "/series?ent=" + encodeURIComponent(s.ent) + "&point=" + encodeURIComponent(s.point) + "&metric=" +
            metric + "&step=1h&agg=mean&from=" + encodeURIComponent(from.toISOString()) + "&to=" +
            encodeURIComponent(to.toISOString());
  const r = await api(parkPath(q));
  return { unit: r.unit, points: r.points };
}

/* uPlot wants one x array shared by every line: the union of the hours,
 * plus the window's ends (so that limit lines span the whole chart). */
function align(results, ends) {
  const xs = [...new Set(results.flatMap((r) => r.points.map((p) => Date.parse(p.t) / 1000)).concat(ends))]
    .sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = results.map((r) => {
    const y = new Array(xs.length).fill(null);
    for (const p of r.points) y[index.get(Date.parse(p.t) / 1000)] = p.v;
    return y;
  });
  return [xs, ys];
}

/* Draws into box, which is already laid out (its width is the chart's). */
async function drawChart(box, title, metric, bands) {
  const series = seriesOf(metric);
  if (!series.length) return box.append(el("div", { class: "empty" }, "no point measures " + metric));
  const to = new Date(), from = new Date(to.getTime() - TREND_HOURS * 3600e3);
  const results = await Promise.all(series.map((s) => fetchHourly(s, metric, from, to)));
  if (!results.some((r) => r.points.length)) return box.append(el("div", { class: "empty" }, "no hourly data yet"));
  const [xs, ys] = align(results, [from.getTime() / 1000, to.getTime() / 1000]);
  const unit = results[0].unit || "";
  box.querySelector("h3").textContent = title + " (" + unit + ", hourly mean)";
  const data = [xs, ...ys];
  const opts = {
    width: Math.max(300, box.clientWidth - 8), height: 220,
    series: [{}, ...series.map((s, i) => ({ label: s.name + " " + s.point, stroke: COLOURS[i % COLOURS.length], width: 1.5,
                                          spanGaps: false }))],
    axes: [{}, { label: unit, size: 60 }],
    /* the whole window, also while only an hour or two has data */
    scales: { x: { time: true, range: [from.getTime() / 1000, to.getTime() / 1000] } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), state.park.tz),
  };
  for (const b of bands) {
    data.push(new Array(xs.length).fill(b.value));
    opts.series.push({ label: b.label, stroke: b.colour, dash: [6, 4], width: 1, points: { show: false } });
  }
  state.charts.push(new uPlot(opts, data, box));
}

async function refreshCharts() {
  if (!state.park || !state.ents.length) return;
  const host = $("charts");
  state.charts.forEach((c) => c.destroy());
  state.charts = [];
  const plan = POLLUTANTS.map((m) => {
    const lim = seriesOf(m).map((s) => s.limit).filter((v) => v != null);
    return { title: m.toUpperCase() + " at the stacks", metric: m,
             bands: lim.length ? [{ label: "limit", value: Math.min(...lim), colour: "#c62828" }] : [] };
  });
  plan.push({ title: "Flue gas after the quench", metric: QUENCH,
              bands: [{ label: DENOVO_LOW + " °C", value: DENOVO_LOW, colour: "#ef6c00" },
                      { label: DENOVO_HIGH + " °C", value: DENOVO_HIGH, colour: "#ef6c00" }] });
  /* every box first, so that each one's width is final before its chart is sized */
  const boxes = plan.map((p) => el("div", { class: "chart", "data-metric": p.metric }, el("h3", {}, p.title)));
  host.replaceChildren(...boxes);
  try {
    for (let i = 0; i < plan.length; i++) await drawChart(boxes[i], plan[i].title, plan[i].metric, plan[i].bands);
  } catch (e) {
    if (e.status === 401) return showLogin("The token is no longer accepted.");
    showError(e);
  }
}

$("loginform").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("parkhub.token", $("token").value.trim());
  $("token").value = "";
  start();
});
window.addEventListener("hashchange", () => { if (/token=/.test(location.hash)) start(); });
$("logout").addEventListener("click", () => {
  sessionStorage.removeItem("parkhub.token");
  state.token = null;
  showLogin();
});
start();
