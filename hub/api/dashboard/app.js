/* parkhub dashboard: a static page that reads only the public API
 * (/api/v1, docs/openapi.yaml) with the bearer token the user gives.
 * The token comes from the URL fragment (#token=..., never sent to the
 * server as part of a URL) or the sign-in form, and is kept in this tab's
 * sessionStorage only. Tables refresh every 10 s, charts every 60 s.
 *
 * Invariants:
 *  1. every visible string is in STRINGS in both languages (zh-CN, en);
 *     the language is the user's choice (localStorage), else the park's
 *     default from /catalog, else zh-CN; <html lang> follows.
 *  2. every time a person reads is in the PARK's zone (not the browser's),
 *     24-hour, "2026-12-07 03:43" (fmtTime; the charts' axes too).
 *  3. units are shown through UNITS only (the catalogue's ASCII units to
 *     their symbols).
 *  4. a value older than its point's expected interval (plus STALE_GRACE_S
 *     for batching and this page's refresh) is marked stale; every value of
 *     an offline enterprise is marked offline; neither shows a share bar.
 *  5. controls the token may not use are not shown (acknowledge: the
 *     catalogue's may_ack); the server checks again in any case. */
"use strict";

const TABLE_EVERY_MS = 10000;
const CHART_EVERY_MS = 60000;
const STALE_GRACE_S = 60;
const MAX_TREND_ENTS = 12; /* a chart with more lines is unreadable */
const HISTORY_ROWS = 200;
const POLLUTANTS = ["so2", "nox", "pm"];
const QUENCH = "quench_out_temp";
const DENOVO_LOW = 200, DENOVO_HIGH = 400; /* °C: the de novo synthesis window after the quench */
const COLOURS = ["#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#4e342e", "#ad1457",
                 "#283593", "#558b2f", "#f9a825", "#37474f"];
const DAY = 86400e3;
const PERIODS = { "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, year: 365 * DAY };

/* The catalogue's units (schemas/metrics.json) as people write them. */
const UNITS = {
  "mg/Nm3": "mg/m³", "Nm3/h": "Nm³/h", "Nm3": "Nm³", "degC": "°C", "m3": "m³", "m3/h": "m³/h",
  "ng TEQ/Nm3": "ng TEQ/m³", "mg/L": "mg/L", "pH": "", "%": "%", "Pa": "Pa", "kPa": "kPa", "kWh": "kWh",
  "kg": "kg", "kg/h": "kg/h", "m/s": "m/s", "s": "s", "t": "t", "t/h": "t/h",
};

const STRINGS = {
  en: {
    park: "Park", language: "Language", signIn: "Sign in", signOut: "Sign out", open: "Open", tokenPh: "API token",
    signInHelp: "The dashboard reads the hub's API with a bearer token (a regulator's, a manager's or an admin's). " +
                "The token stays in this browser tab.",
    hEnts: "Enterprises", colEnt: "Enterprise", colSector: "Sector", colGateway: "Gateway", colAgents: "Agents online",
    colOutbox: "Outbox depth", colLastStatus: "Last status",
    hStack: "Latest stack values against their limits",
    stackHelp: "Newest value of each pollutant at each stack, against the GB 31574-2015 limit in force today for " +
               "that enterprise. A value older than its point's expected interval is marked stale; an offline " +
               "enterprise's values are marked offline.",
    colPoint: "Point", colPollutant: "Pollutant", colLatest: "Latest", colLimit: "Limit", colShare: "Share of limit",
    colAt: "At", hOpenAlarms: "Open alarms", colSeverity: "Severity", colState: "State", colMessage: "Message",
    colSince: "Since", colLast: "Last", colCount: "Count", colAction: "Action", hHistory: "Alarm history",
    colRule: "Rule", all: "All", period: "Period", apply: "Apply", colAckedBy: "Acknowledged by",
    ruleNote: "Enterprise, severity, state and period are filtered by the hub; the rule filter applies to the " +
              "(at most 200) alarms shown.",
    hDetail: "Alarm detail", close: "Close", hOccurrences: "Occurrences", colStart: "Start", colEnd: "End",
    colValue: "Value", colPeak: "Peak", hLog: "Log", colTime: "Time", colTransition: "Transition", colBy: "By",
    hReport: "Annual report", year: "Year", dlHtml: "Download HTML", dlCsv: "Download CSV",
    reportNote: "The park's local calendar year: emissions, compliance, water and the PCDD/F inventory, as the ecology bureau receives it.",
    colNote: "Note", hTrends: "Trends", p24h: "24 hours", p7d: "7 days", p30d: "30 days", pyear: "1 year",
    pcustom: "Custom", from: "From", to: "To", zoomReset: "Reset zoom",
    zoomHelp: "Drag across a chart to zoom in; Reset zoom shows the whole period again.",
    hDrill: "One point, every metric", hMaterials: "Material in and out today", colMaterial: "Material",
    colRole: "Role", colDir: "Direction", colTonnes: "Tonnes", colWeighings: "Weighings", hWater: "Water outlets today",
    colOutlet: "Outlet", colVolume: "Volume (m³)", colLoad: "Load (kg)", colDaysOver: "Days over",
    hAck: "Acknowledge alarm", ackBy: "Your name", ackNote: "Note (optional)", ack: "Acknowledge", cancel: "Cancel",
    details: "Details", footer: "Served by parkhub.",
    sev_critical: "critical", sev_major: "major", sev_minor: "minor", sev_warning: "warning",
    st_open: "open", st_closed: "closed", st_active_unacked: "active, unacknowledged",
    st_active_acked: "active, acknowledged", st_cleared_unacked: "cleared, unacknowledged",
    online: "online", offline: "offline", unknown: "unknown", stale: "stale",
    sector_cu: "copper", sector_al: "aluminium", sector_pb: "lead", sector_zn: "zinc",
    role_feed: "feed", role_product: "product", role_residue: "residue", role_consumable: "consumable",
    role_energy: "energy", role_water: "water", role_unclassified: "unclassified",
    dir_in: "in", dir_out: "out",
    discharge_direct: "direct discharge", discharge_indirect: "indirect discharge",
    tr_raised: "raised", tr_acked: "acknowledged", tr_cleared: "cleared", tr_closed: "closed",
    unclassifiedTip: "a code the park's configuration does not declare: stored, in no balance figure",
    noEnts: "no enterprises configured", noStack: "no stack values with a limit yet", noOpen: "no open alarms",
    noHist: "no alarm in this period", noWeigh: "no weighings today", noWater: "no water outlet configured",
    noRows: "none", noPoint: "no point measures {0}", noData: "no data in this period",
    parkInfo: "{0} · {1} · {2} enterprises", updated: "updated {0}", parkTotal: "Park total: in / out",
    ofWhichUnclassified: "of which unclassified: in / out", na: "n/a ({0})",
    badToken: "The hub does not know this token.", tokenGone: "The token is no longer accepted.",
    noPark: "this token sees no park", mayNotAck: "this token may not acknowledge alarms (manager or admin only)",
    ackWhat: "{0}: {1}", staleTip: "older than the expected interval of {0} s", offlineTip: "the enterprise is offline",
    chartTitle: "{0} ({1}, {2})", perMinute: "mean per minute", perHour: "hourly mean", perDay: "daily mean",
    limit: "limit", atStacks: "{0} at the stacks", quench: "Flue gas after the quench",
    allParks: "All parks", hAllParks: "All parks", hParkSums: "Each park's summary",
    colMass: "Emissions in the period", colClosed: "CEMS processed up to (UTC)", hExceed: "Exceedances in the period",
    colExcH: "Exceedance hours", colExcD: "Exceedance days", colWorst: "Worst hour / limit",
    hRegionReport: "Annual report of the region",
    regionNote: "Every park's own annual report, and the region's totals: a total only when every park has the " +
                "figure, otherwise n/a naming the parks without it.",
    exc_exceeded: "exceeded", exc_not_available: "cannot be judged", noExc: "no exceedance in this period",
    alarmsNa: "alarms: n/a ({0})", colAlarms: "Alarms in the period",
  },
  "zh-CN": {
    park: "园区", language: "语言", signIn: "登录", signOut: "退出", open: "打开", tokenPh: "API 令牌",
    signInHelp: "看板使用令牌（监管、园区管理或管理员）读取平台接口。令牌只保存在本浏览器标签页中。",
    hEnts: "企业", colEnt: "企业", colSector: "行业", colGateway: "网关", colAgents: "在线采集端",
    colOutbox: "待发队列", colLastStatus: "最近状态",
    hStack: "排气筒最新监测值与限值",
    stackHelp: "各排气筒各污染物的最新值，对照该企业今日适用的 GB 31574-2015 排放限值。超过测点应有上报间隔的数值标为“数据过时”；" +
               "企业离线时其数值标为“离线”。",
    colPoint: "测点", colPollutant: "污染物", colLatest: "最新值", colLimit: "限值", colShare: "占限值比例",
    colAt: "时间", hOpenAlarms: "未关闭报警", colSeverity: "级别", colState: "状态", colMessage: "内容",
    colSince: "开始", colLast: "最近", colCount: "次数", colAction: "操作", hHistory: "报警历史",
    colRule: "规则", all: "全部", period: "时段", apply: "查询", colAckedBy: "确认人",
    ruleNote: "企业、级别、状态和时段由平台筛选；规则筛选只作用于当前显示的报警（最多 200 条）。",
    hDetail: "报警详情", close: "关闭", hOccurrences: "发生记录", colStart: "开始", colEnd: "结束",
    colValue: "数值", colPeak: "峰值", hLog: "处理日志", colTime: "时间", colTransition: "变化", colBy: "操作人",
    hReport: "年度报告", year: "年份", dlHtml: "下载 HTML", dlCsv: "下载 CSV",
    reportNote: "园区所在时区的自然年：排放、达标、废水和二噁英排放清单，与报送生态环境局的报告相同。",
    colNote: "备注", hTrends: "趋势", p24h: "24 小时", p7d: "7 天", p30d: "30 天", pyear: "1 年",
    pcustom: "自定义", from: "从", to: "到", zoomReset: "还原缩放",
    zoomHelp: "在图上拖动可放大；点“还原缩放”显示整个时段。",
    hDrill: "单个测点的全部指标", hMaterials: "今日物料进出", colMaterial: "物料",
    colRole: "类别", colDir: "方向", colTonnes: "吨", colWeighings: "过磅次数", hWater: "今日废水排放口",
    colOutlet: "排放口", colVolume: "水量 (m³)", colLoad: "负荷 (kg)", colDaysOver: "超标天数",
    hAck: "确认报警", ackBy: "确认人姓名", ackNote: "备注（可选）", ack: "确认", cancel: "取消",
    details: "详情", footer: "由 parkhub 提供。",
    sev_critical: "紧急", sev_major: "严重", sev_minor: "一般", sev_warning: "提示",
    st_open: "未关闭", st_closed: "已关闭", st_active_unacked: "报警中，未确认",
    st_active_acked: "报警中，已确认", st_cleared_unacked: "已恢复，未确认",
    online: "在线", offline: "离线", unknown: "未知", stale: "数据过时",
    sector_cu: "铜", sector_al: "铝", sector_pb: "铅", sector_zn: "锌",
    role_feed: "原料", role_product: "产品", role_residue: "废渣", role_consumable: "辅料",
    role_energy: "能源", role_water: "水", role_unclassified: "未分类",
    dir_in: "进", dir_out: "出",
    discharge_direct: "直接排放", discharge_indirect: "间接排放",
    tr_raised: "触发", tr_acked: "确认", tr_cleared: "恢复", tr_closed: "关闭",
    unclassifiedTip: "园区配置中未声明的物料代码：已保存，但不计入任何平衡数据",
    noEnts: "未配置企业", noStack: "暂无有限值的排气筒数据", noOpen: "没有未关闭的报警",
    noHist: "该时段没有报警", noWeigh: "今日无过磅记录", noWater: "未配置废水排放口",
    noRows: "无", noPoint: "没有测点监测 {0}", noData: "该时段无数据",
    parkInfo: "{0} · {1} · {2} 家企业", updated: "更新于 {0}", parkTotal: "园区合计：进 / 出",
    ofWhichUnclassified: "其中未分类：进 / 出", na: "无（{0}）",
    badToken: "平台不认识此令牌。", tokenGone: "此令牌已不再有效。",
    noPark: "此令牌看不到任何园区", mayNotAck: "此令牌无权确认报警（仅园区管理员或管理员）",
    ackWhat: "{0}：{1}", staleTip: "超过应有上报间隔 {0} 秒", offlineTip: "企业离线",
    chartTitle: "{0}（{1}，{2}）", perMinute: "分钟均值", perHour: "小时均值", perDay: "日均值",
    limit: "限值", atStacks: "排气筒{0}", quench: "急冷塔出口烟气",
    allParks: "全部园区", hAllParks: "全部园区", hParkSums: "各园区汇总",
    colMass: "时段内排放量", colClosed: "CEMS 数据已处理至（UTC）", hExceed: "时段内超标",
    colExcH: "超标小时数", colExcD: "超标天数", colWorst: "最高小时值 / 限值",
    hRegionReport: "区域年度报告",
    regionNote: "各园区自己的年度报告及区域合计：仅当每个园区都有该数据时给出合计，否则为“无”，并列出缺少数据的园区。",
    exc_exceeded: "超标", exc_not_available: "无法判定", noExc: "该时段无超标",
    alarmsNa: "报警：无（{0}）", colAlarms: "时段内报警",
  },
};

const $ = (id) => document.getElementById(id);
const state = {
  token: null, park: null, parks: [], ents: [], points: {}, timers: [], charts: [], drill: [], cat: null,
  lang: localStorage.getItem("parkhub.lang") || "zh-CN", fmt: null, range: null, history: [], alarms: [],
  alarmsNa: null, historyNa: null, all: null,
};
const ALL = "*"; /* the park select's "all parks" (全部园区) option: app.js showAllParks */

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

/* ---- language ---- */

function t(key, ...args) {
  const s = (STRINGS[state.lang] || STRINGS.en)[key];
  const text = s === undefined ? STRINGS.en[key] || key : s;
  return text.replace(/\{(\d)\}/g, (m, i) => (args[i] == null ? "" : String(args[i])));
}

function setLang(lang, remember) {
  state.lang = STRINGS[lang] ? lang : "zh-CN";
  if (remember) localStorage.setItem("parkhub.lang", state.lang);
  document.documentElement.lang = state.lang;
  $("lang").value = state.lang;
  for (const n of document.querySelectorAll("[data-i18n]")) n.textContent = t(n.dataset.i18n);
  for (const n of document.querySelectorAll("[data-i18n-ph]")) n.placeholder = t(n.dataset.i18nPh);
  document.title = "parkhub — " + (state.lang === "en" ? "park dashboard" : "园区看板");
}

/* The catalogue's name in the page's language, without its notes in brackets. */
function metricName(code) {
  const m = state.cat && state.cat.byCode[code];
  if (state.lang !== "en") return (m && m.name_zh) || (m && m.name) || code;
  return m && m.name ? m.name.replace(/\s*\(.*\)\s*$/, "") : code;
}

function unitOf(u) { return u == null ? "" : UNITS[u] !== undefined ? UNITS[u] : u; }

/* ---- times, in the park's zone ---- */

function parts(ms) {
  if (!state.fmt) {
    state.fmt = new Intl.DateTimeFormat("en-GB", { timeZone: state.park ? state.park.tz : "UTC", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  }
  const o = {};
  for (const p of state.fmt.formatToParts(new Date(ms))) o[p.type] = p.value;
  o.hour = String(Number(o.hour) % 24).padStart(2, "0");
  return o;
}

function fmtTime(v, withSeconds) {
  if (v == null || v === "") return "—";
  const ms = typeof v === "number" ? v : Date.parse(v);
  if (!isFinite(ms)) return String(v);
  const p = parts(ms);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}` + (withSeconds ? ":" + p.second : "");
}

/* Milliseconds the park's zone is ahead of UTC at ms. */
function zoneOffset(ms) {
  const p = parts(ms);
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(ms / 1000) * 1000;
}

/* The instant of local midnight starting "YYYY-MM-DD" in the park's zone. */
function parkDayStart(date) {
  const [y, m, d] = date.split("-").map(Number);
  const utc = Date.UTC(y, m - 1, d);
  return utc - zoneOffset(utc - zoneOffset(utc));
}

function parkMidnight(now) {
  const p = parts(now.getTime());
  return new Date(parkDayStart(`${p.year}-${p.month}-${p.day}`));
}

/* Axis labels for a span of the x scale (seconds), in the park's zone. */
function axisLabel(span) {
  return (x) => {
    const p = parts(x * 1000);
    if (span <= 1.5 * 86400) return `${p.hour}:${p.minute}`;
    if (span <= 120 * 86400) return `${p.month}-${p.day}`;
    return `${p.year}-${p.month}`;
  };
}

/* ---- HTTP ---- */

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

function withUnit(v, u, digits) {
  const s = unitOf(u);
  return fmtNum(v, digits) + (s && v != null ? " " + s : "");
}

function showError(e) {
  $("error").textContent = e ? (e.status ? e.status + ": " : "") + e.message : "";
}

function fill(tbody, rows, empty, ncols) {
  tbody.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: ncols, class: "muted" }, empty))]));
}

function entName(ent) {
  const e = state.ents.find((x) => x.ent === ent);
  return e ? e.name || e.ent : ent;
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

/* Signed out: only the sign-in form (no park list, no Sign-out button). */
function showLogin(msg) {
  stopTimers();
  state.park = null;
  state.fmt = null;
  $("main").hidden = true;
  $("parkctl").hidden = true;
  $("logout").hidden = true;
  $("parkinfo").textContent = "";
  $("updated").textContent = "";
  $("clock").textContent = "";
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
    return showLogin(e.status === 401 ? t("badToken") : e.message);
  }
  $("login").hidden = true;
  $("main").hidden = false;
  $("logout").hidden = false;
  if (!state.parks.length) return showError(new Error(t("noPark")));
  $("parkctl").hidden = false;
  const sel = $("park");
  const opts = state.parks.map((p) => el("option", { value: p.park }, p.name || p.park));
  if (state.parks.length > 1) opts.unshift(el("option", { value: ALL, "data-i18n": "allParks" }, t("allParks")));
  sel.replaceChildren(...opts);
  const want = sessionStorage.getItem("parkhub.park");
  if (want && (state.parks.some((p) => p.park === want) || (want === ALL && state.parks.length > 1))) sel.value = want;
  else if (state.parks.length > 1) sel.value = ALL; /* a hub with several parks opens on all of them */
  sel.onchange = () => { sessionStorage.setItem("parkhub.park", sel.value); selectPark(); };
  selectPark();
}

function stopTimers() {
  state.timers.forEach(clearInterval);
  state.timers = [];
}

async function loadCatalog() {
  const c = await api(parkPath("/catalog"));
  c.byCode = Object.fromEntries(c.metrics.map((m) => [m.code, m]));
  c.byEnt = Object.fromEntries(c.enterprises.map((e) => [e.ent, e]));
  state.cat = c;
  if (!localStorage.getItem("parkhub.lang")) setLang(c.lang, false);
}

async function selectPark() {
  stopTimers();
  if ($("park").value === ALL) return showAllParks();
  $("main").classList.remove("allview");
  $("allparks").hidden = true;
  state.park = state.parks.find((p) => p.park === $("park").value) || state.parks[0];
  state.fmt = null;
  try {
    await loadCatalog();
  } catch (e) {
    if (e.status === 401) return showLogin(t("tokenGone"));
    return showError(e);
  }
  renderParkInfo();
  tick();
  fillReportYears();
  state.range = rangeOf($("period").value);
  await refreshTables();
  fillDrillSelects();
  refreshHistory();
  refreshCharts();
  state.timers.push(setInterval(refreshTables, TABLE_EVERY_MS));
  state.timers.push(setInterval(refreshCharts, CHART_EVERY_MS));
  state.timers.push(setInterval(tick, 1000));
}

function renderParkInfo() {
  if (!state.park) return;
  $("parkinfo").textContent = t("parkInfo", state.park.park, state.park.tz, state.park.enterprises);
}

/* The header clock: the park's time, not the browser's. */
function tick() {
  if (!state.park) return;
  $("clock").textContent = fmtTime(Date.now(), true);
  $("clock").title = state.park.tz;
}

function parkPath(rest) { return "/api/v1/parks/" + encodeURIComponent(state.park.park) + rest; }

/* ---- the annual report, as a download (the token goes in a header, so
 * a plain link cannot fetch it: fetch, then save the blob), in the page's
 * current language ---- */

function fillReportYears() {
  const y = +parts(Date.now()).year, sel = $("ryear");
  sel.textContent = "";
  for (let k = 0; k < 5; k++) sel.append(el("option", { value: String(y - k) }, String(y - k)));
}

async function downloadReport(format) { return download(parkPath("/report"), $("ryear").value, format, "reporterr"); }

async function download(path, year, format, errId) {
  $(errId).textContent = "";
  try {
    const res = await fetch(`${path}?year=${year}&format=${format}&lang=${state.lang}`,
                            { headers: { Authorization: "Bearer " + state.token }, cache: "no-store" });
    if (!res.ok) {
      let msg = res.statusText;
      try { msg = (await res.json()).error.message; } catch (e) { /* not JSON */ }
      throw new ApiError(res.status, msg);
    }
    const cd = res.headers.get("Content-Disposition") || "";
    const m = /filename="([^"]+)"/.exec(cd);
    const a = el("a", { href: URL.createObjectURL(await res.blob()), download: m ? m[1] : `report_${year}.${format}` });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  } catch (e) {
    $(errId).textContent = e.message;
  }
}

/* ---- all parks (全部园区): each park's summary headline figures
 * (/api/v1/summary), the exceedances of the period (/api/v1/exceedances)
 * and the region's annual report (/api/v1/report, every park the token
 * covers). Times in UTC: the parks may have different zones. ---- */

function showAllParks() {
  state.park = null;
  state.fmt = null;
  $("main").classList.add("allview");
  $("allparks").hidden = false;
  $("parkinfo").textContent = "";
  $("clock").textContent = "";
  const y = new Date().getUTCFullYear(), sel = $("gyear"), keep = sel.value;
  sel.replaceChildren(...[0, 1, 2, 3, 4].map((k) => el("option", { value: String(y - k) }, String(y - k))));
  if (keep) sel.value = keep;
  refreshAllParks();
  state.timers.push(setInterval(refreshAllParks, TABLE_EVERY_MS));
}

async function refreshAllParks() {
  const now = Date.now(), span = PERIODS[$("aperiod").value] || PERIODS["30d"];
  const q = new URLSearchParams({ from: new Date(now - span).toISOString(), to: new Date(now).toISOString() });
  try {
    showError(null);
    const [sum, exc] = await Promise.all([api("/api/v1/summary?" + q), api("/api/v1/exceedances?" + q)]);
    state.all = { sum, exc };
    renderAllParks();
    $("updated").textContent = t("updated", new Date().toISOString().slice(11, 19) + " UTC");
  } catch (e) {
    if (e.status === 401) return showLogin(t("tokenGone"));
    showError(e);
  }
}

function naText(o, k) { return t("na", o[k + "_na"] || "—"); }

function massCell(mass) {
  const kids = [];
  for (const m of mass || []) {
    if (kids.length) kids.push(el("br", {}));
    const v = m.value != null ? withUnit(m.value, m.unit) : naText(m, "value");
    kids.push(el("span", { class: m.value == null ? "na" : "", "data-metric": m.metric }, metricName(m.metric) + " " + v));
  }
  return el("td", {}, ...(kids.length ? kids : ["—"]));
}

function alarmsCell(p) {
  const a = p.totals && p.totals.alarms;
  if (a == null) return el("td", { class: "na" }, t("alarmsNa", (p.totals && p.totals.alarms_na) || "—"));
  const open = a.critical + a.major + a.minor + a.warning;
  return el("td", { class: "num" }, String(open));
}

function renderAllParks() {
  if (!state.all) return;
  const name = (id) => { const p = state.parks.find((x) => x.park === id); return p ? p.name || p.park : id; };
  const sums = state.all.sum.parks.map((p) => el("tr", { "data-park": p.park },
    el("td", {}, name(p.park)), el("td", { class: "num" }, String(p.enterprises.length)), massCell(p.totals && p.totals.mass),
    alarmsCell(p), el("td", {}, p.closed_until ? p.closed_until.replace("T", " ").slice(0, 16) : "—")));
  fill($("allsum").tBodies[0], sums, t("noPark"), 5);
  const num = (v, o, k) => (v == null ? el("td", { class: "na" }, naText(o, k)) : el("td", { class: "num" }, String(v)));
  const rows = state.all.exc.exceedances.map((x) => el("tr", { "data-park": x.park, "data-status": x.status },
    el("td", {}, name(x.park)), el("td", {}, x.ent), el("td", {}, x.point), el("td", {}, metricName(x.metric)),
    el("td", {}, t("exc_" + x.status)), num(x.hours_exceeded, x, "hours"), num(x.days_exceeded, x, "days"),
    el("td", { class: "num" }, x.worst_hour_ratio == null ? "—" : fmtNum(x.worst_hour_ratio) + " ×")));
  fill($("allexc").tBodies[0], rows, t("noExc"), 8);
}

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
    $("updated").textContent = t("updated", fmtTime(Date.now(), true).slice(11));
  } catch (e) {
    if (e.status === 401) return showLogin(t("tokenGone"));
    showError(e);
  }
}

function entState(e) {
  return e.online ? "online" : e.agents.some((a) => a.state === "offline") ? "offline" : "unknown";
}

function renderEnts() {
  const rows = state.ents.map((e) => {
    const online = e.agents.filter((a) => a.state === "online").length;
    const st = entState(e);
    return el("tr", { "data-ent": e.ent },
      el("td", {}, el("strong", {}, e.name || e.ent), " ", el("span", { class: "muted" }, e.ent)),
      el("td", {}, t("sector_" + e.sector)),
      el("td", {}, el("span", { class: "state " + st, "data-state": st }, t(st))),
      el("td", { class: "num" }, online + " / " + e.agents.length),
      el("td", { class: "num" }, e.outbox_depth == null ? "—" : e.outbox_depth),
      el("td", {}, fmtTime(e.last_status)));
  });
  fill($("ents").tBodies[0], rows, t("noEnts"), 6);
}

/* Seconds between records of a point: its override or the enterprise's. */
function intervalOf(ent, point) {
  const c = state.cat && state.cat.byEnt[ent];
  if (!c) return null;
  const o = c.point_intervals && c.point_intervals[point];
  return o != null ? o : c.expected_interval_s;
}

/* "offline", "stale" or "" for a value of ent's point taken at ts (inv. 4). */
function freshness(e, point, ts) {
  if (!e.online) return "offline";
  const iv = intervalOf(e.ent, point);
  if (ts == null || iv == null) return "";
  return (Date.now() - Date.parse(ts)) / 1000 > iv + STALE_GRACE_S ? "stale" : "";
}

function renderStack() {
  const rows = [];
  for (const e of state.ents) {
    for (const p of state.points[e.ent] || []) {
      for (const m of p.metrics) {
        if (m.limit == null) continue;
        const old = freshness(e, p.point, m.ts);
        const share = m.last == null || !(m.limit > 0) ? null : m.last / m.limit;
        let shareCell;
        if (old) {
          shareCell = el("span", { class: "marker " + old,
                                   title: old === "offline" ? t("offlineTip") : t("staleTip", intervalOf(e.ent, p.point)) },
                         t(old));
        } else {
          const bar = el("span", { class: "bar" + (share == null ? "" : share > 1 ? " over" : share > 0.8 ? " high" : "") },
                         el("span", {}));
          if (share != null) bar.firstChild.style.width = Math.min(100, share * 100).toFixed(1) + "%";
          shareCell = el("span", {}, bar, " ", share == null ? "—" : (share * 100).toFixed(0) + " %");
        }
        const attrs = { "data-ent": e.ent, "data-metric": m.metric };
        if (old) attrs["data-stale"] = old;
        rows.push(el("tr", attrs,
          el("td", {}, e.name || e.ent), el("td", {}, p.point),
          el("td", { title: m.metric }, metricName(m.metric)),
          el("td", { class: "num" + (old ? " old" : "") }, withUnit(m.last, m.unit)),
          el("td", { class: "num limitcol" }, withUnit(m.limit, m.unit)),
          el("td", { class: "sharecol" }, shareCell),
          el("td", {}, fmtTime(m.ts))));
      }
    }
  }
  fill($("stack").tBodies[0], rows, t("noStack"), 7);
}

function sevCell(a) { return el("span", { class: "sev " + a.severity }, t("sev_" + a.severity)); }

function stateText(a) { return t("st_" + a.state) + (a.acked_by ? " (" + a.acked_by + ")" : ""); }

/* A transition of the alarm log by name; one this page does not know, as the hub wrote it. */
function trText(tr) { return STRINGS.en["tr_" + tr] ? t("tr_" + tr) : tr; }

function alarmText(a) { return (state.lang !== "en" && a.message_zh) || a.message; }

function mayAck(a) {
  return state.cat && state.cat.may_ack && (a.state === "active_unacked" || a.state === "cleared_unacked");
}

function actionCell(a) {
  const kids = [el("button", { class: "detail", type: "button", onclick: () => showDetail(a.alarm_id) }, t("details"))];
  if (mayAck(a)) kids.push(" ", el("button", { class: "ack", type: "button", onclick: () => openAck(a) }, t("ack")));
  return el("td", { class: "actions" }, ...kids);
}

/* A regional hub answers the alarm listings 501 with the reason (alarms
 * stay with the park hubs): the panel shows that reason, not an error;
 * once regional alarms are real the listing answers 200 and is shown. */
async function alarmsOr501(path) {
  try {
    return { alarms: (await api(path)).alarms, na: null };
  } catch (e) {
    if (e.status !== 501) throw e;
    return { alarms: [], na: e.message };
  }
}

async function refreshAlarms() {
  const r = await alarmsOr501(parkPath("/alarms?state=open&limit=200"));
  state.alarms = r.alarms;
  state.alarmsNa = r.na;
  renderAlarms();
}

function renderAlarms() {
  const rows = state.alarms.map((a) => el("tr", { "data-alarm": a.alarm_id, "data-state": a.state },
    el("td", {}, sevCell(a)), el("td", {}, stateText(a)),
    el("td", {}, entName(a.ent)), el("td", {}, a.point || "—"),
    el("td", { class: "msg" }, alarmText(a)), el("td", {}, fmtTime(a.first)), el("td", {}, fmtTime(a.last)),
    el("td", { class: "num" }, a.count), actionCell(a)));
  $("alarmcount").textContent = state.alarms.length ? String(state.alarms.length) : "";
  fill($("alarms").tBodies[0], rows, state.alarmsNa ? t("na", state.alarmsNa) : t("noOpen"), 9);
}

/* ---- alarm history and detail ---- */

function fillHistoryEnts() {
  const sel = $("hent"), keep = sel.value;
  sel.replaceChildren(el("option", { value: "" }, t("all")),
                      ...state.ents.map((e) => el("option", { value: e.ent }, e.name || e.ent)));
  sel.value = keep;
}

async function refreshHistory() {
  fillHistoryEnts();
  const now = Date.now(), span = PERIODS[$("hperiod").value] || PERIODS["7d"];
  const q = new URLSearchParams({ from: new Date(now - span).toISOString(), to: new Date(now + 60e3).toISOString(),
                                  limit: String(HISTORY_ROWS) });
  if ($("hent").value) q.set("ent", $("hent").value);
  if ($("hsev").value) q.set("severity", $("hsev").value);
  if ($("hstate").value) q.set("state", $("hstate").value);
  try {
    const r = await alarmsOr501(parkPath("/alarms?" + q.toString()));
    state.history = r.alarms;
    state.historyNa = r.na;
    renderHistory();
  } catch (e) {
    if (e.status === 401) return showLogin(t("tokenGone"));
    showError(e);
  }
}

function renderHistory() {
  const sel = $("hrule"), keep = sel.value;
  const rules = [...new Set(state.history.map((a) => a.rule))].sort();
  if (keep && !rules.includes(keep)) rules.push(keep);
  sel.replaceChildren(el("option", { value: "" }, t("all")), ...rules.map((r) => el("option", { value: r }, r)));
  sel.value = keep;
  const rows = state.history.filter((a) => !keep || a.rule === keep).map((a) =>
    el("tr", { "data-alarm": a.alarm_id, "data-state": a.state },
      el("td", {}, sevCell(a)), el("td", {}, t("st_" + a.state)), el("td", {}, entName(a.ent)),
      el("td", {}, a.rule), el("td", { class: "msg" }, alarmText(a)), el("td", {}, fmtTime(a.first)),
      el("td", {}, fmtTime(a.last)), el("td", {}, a.acked_by ? a.acked_by + " · " + fmtTime(a.acked) : "—"),
      actionCell(a)));
  fill($("hist").tBodies[0], rows, state.historyNa ? t("na", state.historyNa) : t("noHist"), 9);
}

async function showDetail(id) {
  try {
    const r = await api(parkPath("/alarms/" + encodeURIComponent(id) + "/log"));
    const a = r.alarm;
    $("detailid").textContent = a.alarm_id;
    const kv = [[t("colSeverity"), t("sev_" + a.severity)], [t("colState"), t("st_" + a.state)],
                [t("colEnt"), entName(a.ent)], [t("colPoint"), a.point || "—"],
                [t("colPollutant"), a.metric ? metricName(a.metric) : "—"], [t("colRule"), a.rule],
                [t("colMessage"), alarmText(a)], [t("colSince"), fmtTime(a.first)], [t("colLast"), fmtTime(a.last)],
                [t("colCount"), a.count], [t("colAckedBy"), a.acked_by ? a.acked_by + " · " + fmtTime(a.acked) : "—"],
                [t("colNote"), a.note || "—"]];
    $("detailhead").replaceChildren(...kv.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    const unit = state.cat && a.metric && state.cat.byCode[a.metric] ? state.cat.byCode[a.metric].unit : null;
    fill($("occ").tBodies[0], r.occurrences.map((o) => el("tr", {},
      el("td", {}, fmtTime(o.start)), el("td", {}, fmtTime(o.last)), el("td", {}, fmtTime(o.end)),
      el("td", { class: "num" }, o.count), el("td", { class: "num" }, withUnit(o.value, unit)),
      el("td", { class: "num" }, withUnit(o.peak, unit)))), t("noRows"), 6);
    fill($("alog").tBodies[0], r.log.map((l) => el("tr", {},
      el("td", {}, fmtTime(l.ts, true)), el("td", { "data-transition": l.transition }, trText(l.transition)), el("td", {}, t("st_" + l.state)),
      el("td", {}, l.by || "—"), el("td", {}, l.note || ""))), t("noRows"), 5);
    $("detail").hidden = false;
    $("detail").scrollIntoView({ block: "start" });
  } catch (e) {
    if (e.status === 401) return showLogin(t("tokenGone"));
    showError(e);
  }
}

/* ---- acknowledge form ---- */

function openAck(a) {
  const dlg = $("ackdlg");
  dlg.dataset.alarm = a.alarm_id;
  $("ackwhat").textContent = t("ackWhat", a.alarm_id, alarmText(a));
  $("ackerr").textContent = "";
  $("acknote").value = "";
  $("ackby").value = localStorage.getItem("parkhub.ackby") || "";
  dlg.showModal();
  $("ackby").focus();
}

async function submitAck(ev) {
  ev.preventDefault();
  const dlg = $("ackdlg"), by = $("ackby").value.trim(), note = $("acknote").value.trim();
  if (!by) return;
  $("acksubmit").disabled = true;
  try {
    await api(parkPath("/alarms/" + encodeURIComponent(dlg.dataset.alarm) + "/ack"),
              { method: "POST", body: { by, note } });
    localStorage.setItem("parkhub.ackby", by);
    dlg.close();
    await Promise.all([refreshAlarms(), refreshHistory()]);
  } catch (e) {
    if (e.status === 401) { dlg.close(); return showLogin(t("tokenGone")); }
    $("ackerr").textContent = e.status === 403 ? t("mayNotAck") : (e.status ? e.status + ": " : "") + e.message;
  } finally {
    $("acksubmit").disabled = false;
  }
}

/* ---- materials and water ---- */

async function refreshMaterials() {
  const now = new Date();
  const from = parkMidnight(now);
  const r = await api(parkPath("/summary?from=" + encodeURIComponent(from.toISOString()) + "&to=" +
                               encodeURIComponent(now.toISOString())));
  const rows = [];
  for (const e of r.enterprises)
    for (const it of e.materials.items)
      rows.push(el("tr", {}, el("td", {}, e.name || e.ent), el("td", { title: it.material }, metricName(it.material)),
                   el("td", it.role === "unclassified" ? { class: "unclassified", "data-role": it.role,
                      title: t("unclassifiedTip") } : { "data-role": it.role || "" },
                      it.role ? t("role_" + it.role) : ""),
                   el("td", {}, t("dir_" + it.dir)), el("td", { class: "num" }, fmtNum(it.qty_t, 4)),
                   el("td", { class: "num" }, it.records)));
  fill($("materials").tBodies[0], rows, t("noWeigh"), 6);
  const tot = r.totals.materials || {};
  const foot = [el("tr", {}, el("td", { colspan: 4 }, t("parkTotal")),
    el("td", { class: "num" }, fmtNum(tot.in_t, 4) + " / " + fmtNum(tot.out_t, 4)), el("td", {}))];
  if (tot.unclassified_in_t || tot.unclassified_out_t)
    foot.push(el("tr", { class: "unclassified" }, el("td", { colspan: 4 }, t("ofWhichUnclassified")),
      el("td", { class: "num" }, fmtNum(tot.unclassified_in_t, 4) + " / " + fmtNum(tot.unclassified_out_t, 4)),
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
      const vol = o.volume_m3 === null ? t("na", o.volume_m3_na || "") : fmtNum(o.volume_m3, 4);
      const pols = o.pollutants.length ? o.pollutants : [null];
      /* the discharge type in the page's language; an unknown one as sent */
      const dis = o.discharge === "direct" || o.discharge === "indirect" ? t("discharge_" + o.discharge) : o.discharge;
      for (const p of pols) {
        /* a limit with its unit (mg/L; pH has none, UNITS) */
        const unit = p && state.cat && state.cat.byCode[p.metric] ? state.cat.byCode[p.metric].unit : null;
        const lim = !p ? "" : p.limit !== undefined && p.limit !== null ? withUnit(p.limit, unit, 4)
          : p.limit_min !== undefined ? fmtNum(p.limit_min, 3) + "–" + withUnit(p.limit_max, unit, 3)
          : t("na", p.limit_na || "");
        const load = !p ? "" : p.load_kg === null ? t("na", p.load_kg_na || "") : fmtNum(p.load_kg, 4);
        rows.push(el("tr", {}, el("td", {}, e.name || e.ent), el("td", {}, o.point + " (" + dis + ")"),
                     el("td", {}, p ? metricName(p.metric) : ""), el("td", { class: "num" }, vol),
                     el("td", { class: "num" }, load), el("td", {}, lim),
                     el("td", { class: "num" }, p ? String(p.days_over) : "")));
      }
    }
  }
  fill($("water").tBodies[0], rows, t("noWater"), 7);
}

/* ---- charts ---- */

/* The trends' window and step for a period choice (custom: the date inputs). */
function rangeOf(period) {
  const now = Date.now();
  let from, to = now;
  if (period === "custom") {
    const f = $("pfrom").value, u = $("pto").value;
    if (!f || !u) return state.range || rangeOf("24h");
    from = parkDayStart(f);
    to = Math.min(now, parkDayStart(u) + DAY);
    if (!(to > from)) return state.range || rangeOf("24h");
  } else {
    from = now - (PERIODS[period] || DAY);
  }
  const span = to - from;
  const step = span <= 2 * DAY ? "1m" : span <= 62 * DAY ? "1h" : "1d";
  return { period, from: new Date(from), to: new Date(to), step };
}

function stepWord(step) { return t(step === "1m" ? "perMinute" : step === "1h" ? "perHour" : "perDay"); }

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

async function fetchSeries(s, metric, rg) {
  const q = new URLSearchParams({ ent: s.ent, point: s.point, metric, step: rg.step, agg: "mean",
                                  from: rg.from.toISOString(), to: rg.to.toISOString() });
  const r = await api(parkPath("/series?" + q.toString()));
  return { unit: r.unit, points: r.points };
}

/* uPlot wants one x array shared by every line: the union of the times,
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

/* Draws lines (one per series) of metric into box, already laid out. */
async function drawChart(box, title, metric, lines, bands, into) {
  if (!lines.length) return box.append(el("div", { class: "empty" }, t("noPoint", metricName(metric))));
  const rg = state.range;
  const results = await Promise.all(lines.map((s) => fetchSeries(s, metric, rg)));
  if (!results.some((r) => r.points.length)) return box.append(el("div", { class: "empty" }, t("noData")));
  const lo = rg.from.getTime() / 1000, hi = rg.to.getTime() / 1000;
  const [xs, ys] = align(results, [lo, hi]);
  const unit = unitOf(results[0].unit);
  box.querySelector("h3").textContent = t("chartTitle", title, unit || "—", stepWord(rg.step));
  const data = [xs, ...ys];
  const opts = {
    width: Math.max(280, box.clientWidth - 8), height: 220,
    series: [{ label: t("colTime"), value: (u, v) => (v == null ? "—" : fmtTime(v * 1000)) },
             ...lines.map((s, i) => ({ label: s.label || s.name + " " + s.point, stroke: COLOURS[i % COLOURS.length],
                                       width: 1.5, spanGaps: false }))],
    axes: [{ values: (u, splits) => splits.map(axisLabel(u.scales.x.max - u.scales.x.min)), space: 70 },
           { label: unit, size: 60 }],
    cursor: { drag: { x: true, y: false, setScale: true } },
    /* the whole window, also while only an hour or two has data */
    scales: { x: { time: true, range: (u, min, max) => [min, max] } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), state.park.tz),
    /* the box says whether it shows less than the period (Reset zoom's state, visible to tests) */
    hooks: { setScale: [(u, key) => {
      if (key === "x") box.dataset.zoomed = u.scales.x.min > lo + 1 || u.scales.x.max < hi - 1 ? "1" : "0";
    }] },
  };
  for (const b of bands) {
    data.push(new Array(xs.length).fill(b.value));
    opts.series.push({ label: b.label, stroke: b.colour, dash: [6, 4], width: 1, points: { show: false } });
  }
  const chart = new uPlot(opts, data, box);
  chart.phRange = [lo, hi];
  into.push(chart);
}

function destroy(list) {
  list.forEach((c) => c.destroy());
  list.length = 0;
}

async function refreshCharts() {
  if (!state.park || !state.ents.length) return;
  if ($("period").value !== "custom") state.range = rangeOf($("period").value);
  const host = $("charts");
  destroy(state.charts);
  const plan = POLLUTANTS.map((m) => {
    const lim = seriesOf(m).map((s) => s.limit).filter((v) => v != null);
    return { title: t("atStacks", metricName(m)), metric: m,
             bands: lim.length ? [{ label: t("limit"), value: Math.min(...lim), colour: "#c62828" }] : [] };
  });
  plan.push({ title: t("quench"), metric: QUENCH,
              bands: [{ label: DENOVO_LOW + " °C", value: DENOVO_LOW, colour: "#ef6c00" },
                      { label: DENOVO_HIGH + " °C", value: DENOVO_HIGH, colour: "#ef6c00" }] });
  /* every box first, so that each one's width is final before its chart is sized */
  const boxes = plan.map((p) => el("div", { class: "chart", "data-metric": p.metric }, el("h3", {}, p.title)));
  host.replaceChildren(...boxes);
  try {
    for (let i = 0; i < plan.length; i++)
      await drawChart(boxes[i], plan[i].title, plan[i].metric, seriesOf(plan[i].metric), plan[i].bands, state.charts);
    await refreshDrill();
  } catch (e) {
    if (e.status === 401) return showLogin(t("tokenGone"));
    showError(e);
  }
}

/* ---- drill-down: every metric of one point, with its limit ---- */

function fillDrillSelects() {
  const es = $("dent"), keep = es.value;
  es.replaceChildren(...state.ents.map((e) => el("option", { value: e.ent }, e.name || e.ent)));
  if (keep && state.ents.some((e) => e.ent === keep)) es.value = keep;
  fillDrillPoints();
}

function fillDrillPoints() {
  const ps = $("dpoint"), keep = ps.value;
  const pts = state.points[$("dent").value] || [];
  ps.replaceChildren(...pts.map((p) => el("option", { value: p.point }, p.point)));
  if (keep && pts.some((p) => p.point === keep)) ps.value = keep;
}

async function refreshDrill() {
  destroy(state.drill);
  const ent = $("dent").value, point = $("dpoint").value;
  const p = (state.points[ent] || []).find((x) => x.point === point);
  const host = $("drill");
  if (!p) return host.replaceChildren();
  const metrics = p.metrics.filter((m) => m.metric);
  const boxes = metrics.map((m) => el("div", { class: "chart", "data-metric": m.metric }, el("h3", {}, metricName(m.metric))));
  host.replaceChildren(...boxes);
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i];
    const bands = m.limit != null ? [{ label: t("limit"), value: m.limit, colour: "#c62828" }] : [];
    await drawChart(boxes[i], metricName(m.metric), m.metric, [{ ent, point, label: entName(ent) + " " + point }],
                    bands, state.drill);
  }
}

function resetZoom() {
  for (const c of state.charts.concat(state.drill)) c.setScale("x", { min: c.phRange[0], max: c.phRange[1] });
}

/* ---- wiring ---- */

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
$("lang").addEventListener("change", () => {
  setLang($("lang").value, true);
  if ($("park").value === ALL) return renderAllParks();
  if (!state.park) return;
  renderParkInfo();
  tick();
  renderEnts();
  renderStack();
  renderAlarms();
  renderHistory();
  refreshTables();
  refreshCharts();
});
$("histform").addEventListener("submit", (ev) => { ev.preventDefault(); refreshHistory(); });
$("hrule").addEventListener("change", renderHistory);
$("detailclose").addEventListener("click", () => { $("detail").hidden = true; });
$("ackform").addEventListener("submit", submitAck);
$("ackcancel").addEventListener("click", () => $("ackdlg").close());
$("period").addEventListener("change", () => {
  const custom = $("period").value === "custom";
  $("customrange").hidden = !custom;
  if (!custom) {
    state.range = rangeOf($("period").value);
    refreshCharts();
  }
});
$("periodform").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.range = rangeOf("custom");
  refreshCharts();
});
$("zoomreset").addEventListener("click", resetZoom);
$("rhtml").addEventListener("click", () => downloadReport("html"));
$("rcsv").addEventListener("click", () => downloadReport("csv"));
$("ghtml").addEventListener("click", () => download("/api/v1/report", $("gyear").value, "html", "regionerr"));
$("gcsv").addEventListener("click", () => download("/api/v1/report", $("gyear").value, "csv", "regionerr"));
$("aperiod").addEventListener("change", refreshAllParks);
$("dent").addEventListener("change", () => { fillDrillPoints(); refreshDrill(); });
$("dpoint").addEventListener("change", refreshDrill);
setLang(state.lang, false);
start();
