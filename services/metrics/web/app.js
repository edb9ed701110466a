// 一线 · 城市运行指挥大屏 — the operations dashboard.
//
// Plain browser JavaScript, no build step and nothing from outside: the page, this
// file, the styles and the map geometry all come from the metrics service. The key
// comes from ?key=… (then kept in localStorage and removed from the address bar) or
// from the prompt. Data: GET /v1/dashboard every REFRESH_MS; geometry once.
"use strict";

const REFRESH_MS = 5000;
const KEY_STORE = "yixian.metrics.key";
const SVG = "http://www.w3.org/2000/svg";
const STATES = {
  REPORTED: "已上报", REGISTERED: "已立案", DISPATCHED: "已派遣", ACCEPTED: "处置中",
  RESOLVED: "已办结", VERIFIED: "已核查", CLOSED: "已结案", REJECTED: "不予受理",
  MERGED: "已合并", RETURNED: "退回待仲裁", SUSPENDED: "挂账", REOPENED: "重新办理",
};
const RUNGS = ["—", "主管部门", "指挥中心", "区领导"];

let key = null;        // the API key in use
let timer = null;      // the pending refresh
let geo = null;        // {grids, streets, project} once loaded
let gridPaths = {};    // grid code → its <path>

const $ = (id) => document.getElementById(id);

// -- the key --------------------------------------------------------------------------

function initialKey() {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get("key");
  if (fromUrl) {
    try { localStorage.setItem(KEY_STORE, fromUrl); } catch (e) { /* private mode: keep it in memory */ }
    url.searchParams.delete("key");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    return fromUrl;
  }
  try { return localStorage.getItem(KEY_STORE); } catch (e) { return null; }
}

function askForKey(message) {
  if (timer) { clearTimeout(timer); timer = null; }
  $("key-error").textContent = message || "";
  $("key-dialog").hidden = false;
  $("key-input").focus();
}

function useKey(k) {
  key = k;
  try { localStorage.setItem(KEY_STORE, k); } catch (e) { /* ignore */ }
  $("key-dialog").hidden = true;
  geo = null;
  refresh();
}

// -- data -----------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path) {
  const r = await fetch(path, { headers: { Authorization: "Bearer " + key }, cache: "no-store" });
  if (!r.ok) {
    let message = "HTTP " + r.status;
    try { message = (await r.json()).error.message; } catch (e) { /* not JSON */ }
    throw new ApiError(r.status, message);
  }
  return r.json();
}

function setStatus(text, cls) {
  const s = $("status");
  s.textContent = text;
  s.className = "status " + cls;
}

async function refresh() {
  if (timer) { clearTimeout(timer); timer = null; }
  try {
    if (!geo) {
      const [grids, streets] = await Promise.all([api("/v1/geo/grids"), api("/v1/geo/streets")]);
      geo = drawMap(grids, streets);
    }
    render(await api("/v1/dashboard"));
    setStatus("实时", "ok");
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
      setStatus("密钥无效", "bad");
      askForKey(e.status === 401 ? "密钥无效，请重新输入" : "该密钥无权查看统计（需要操作员或管理员密钥）");
      return;
    }
    setStatus(e instanceof ApiError && e.status === 503 ? "数据源不可用，正在重试" : "连接中断，正在重试", "bad");
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

// -- formatting -----------------------------------------------------------------------

function pct(v) { return v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%"; }

function duration(s) {
  if (s === null || s === undefined) return "—";
  if (s < 60) return s + "秒";
  if (s < 3600) return Math.round(s / 60) + "分钟";
  if (s < 86400) return (s / 3600).toFixed(1) + "小时";
  return (s / 86400).toFixed(1) + "天";
}

function clock(iso) {
  if (!iso) return "—";
  const m = /T(\d\d:\d\d)/.exec(iso);
  const d = /^\d{4}-(\d\d-\d\d)/.exec(iso);
  return (d ? d[1] + " " : "") + (m ? m[1] : iso);
}

function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

// -- rendering --------------------------------------------------------------------------

function render(d) {
  const c = d.counters;
  $("scope-name").textContent = d.scope.name;
  document.title = "一线 · " + d.scope.name + " · 指挥大屏";
  $("updated").textContent = clock(d.generated_at);
  $("c-reported-today").textContent = c.reported_today;
  $("c-open").textContent = c.open;
  $("c-late").textContent = c.late;
  $("c-escalated").textContent = c.escalated;
  $("c-top-rung").textContent = c.top_rung;
  $("c-closed-today").textContent = c.closed_today;
  $("c-triage").textContent = c.triage;
  $("c-suspended").textContent = c.suspended;
  const r = d.rates;
  $("r-response").textContent = pct(r.response_rate);
  $("r-on-time").textContent = pct(r.on_time_rate);
  $("r-resolution").textContent = pct(r.resolution_rate);
  $("r-satisfaction").textContent = pct(r.satisfaction_rate);
  $("r-rework").textContent = pct(r.rework_rate);
  $("r-return").textContent = pct(r.return_rate);
  $("r-ack").textContent = duration(r.mean_ack_s);
  $("r-resolve").textContent = duration(r.mean_resolve_s);
  renderBoard(d.board, d.board_total);
  renderLeague(d.league);
  renderMap(d.map, c);
  renderTrend(d.trend);
  document.body.dataset.ready = "1";
}

function renderBoard(rows, total) {
  const body = $("board").tBodies[0];
  body.replaceChildren();
  for (const b of rows) {
    const tr = document.createElement("tr");
    tr.dataset.case = b.id;
    if (b.level >= 3) tr.className = "top";
    else if (b.late) tr.className = "late";
    cell(tr, b.id, "mono");
    cell(tr, b.category_name || b.category || "未分类");
    cell(tr, [b.street_name, b.community_name].filter(Boolean).join(" ") || "—");
    cell(tr, b.department_name || "—");
    cell(tr, STATES[b.state] || b.state);
    cell(tr, RUNGS[b.level] || String(b.level), "level");
    cell(tr, b.late ? clock(b.late_since) : "—");
    body.appendChild(tr);
  }
  $("board-total").textContent = total;
  $("board-empty").hidden = rows.length > 0;
}

function renderLeague(rows) {
  const body = $("league").tBodies[0];
  body.replaceChildren();
  const shown = rows.slice(0, 15);
  shown.forEach((g, i) => {
    const tr = document.createElement("tr");
    tr.dataset.dept = g.key;
    if (i < 3 && g.on_time_rate !== null) tr.className = "red-list";
    else if (i >= shown.length - 3 && shown.length > 6) tr.className = "black-list";
    cell(tr, String(i + 1));
    cell(tr, g.name);
    cell(tr, String(g.assigned));
    cell(tr, pct(g.response_rate));
    cell(tr, pct(g.on_time_rate), "on-time");
    cell(tr, pct(g.resolution_rate));
    cell(tr, pct(g.satisfaction_rate));
    cell(tr, pct(g.return_rate));
    cell(tr, duration(g.mean_ack_s));
    body.appendChild(tr);
  });
  $("league-empty").hidden = shown.length > 0;
}

// -- the map ----------------------------------------------------------------------------

function rings(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  return [];
}

function drawMap(grids, streets) {
  const svg = $("map");
  svg.replaceChildren();
  gridPaths = {};
  const all = grids.features.length ? grids.features : streets.features;
  let minX = 180, maxX = -180, minY = 90, maxY = -90;
  for (const f of all) {
    for (const ring of rings(f.geometry)) {
      for (const [x, y] of ring) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  if (minX > maxX) return { project: () => [0, 0], size: 1 };
  const kx = Math.cos(((minY + maxY) / 2) * Math.PI / 180);
  const scale = 1000 / Math.max((maxX - minX) * kx, maxY - minY, 1e-9);
  const project = ([x, y]) => [((x - minX) * kx * scale).toFixed(1), ((maxY - y) * scale).toFixed(1)];
  const w = ((maxX - minX) * kx * scale).toFixed(0), h = ((maxY - minY) * scale).toFixed(0);
  svg.setAttribute("viewBox", `-10 -10 ${+w + 20} ${+h + 20}`);
  const path = (f) => rings(f.geometry).map((r) => "M" + r.map((p) => project(p).join(" ")).join("L") + "Z").join("");
  const gGrids = document.createElementNS(SVG, "g");
  gGrids.setAttribute("class", "grids");
  for (const f of grids.features) {
    const p = document.createElementNS(SVG, "path");
    p.setAttribute("d", path(f));
    p.setAttribute("class", "grid g0");
    p.dataset.grid = f.properties.code;
    p.dataset.open = "0";
    const title = document.createElementNS(SVG, "title");
    title.textContent = f.properties.code;
    p.appendChild(title);
    gridPaths[f.properties.code] = p;
    gGrids.appendChild(p);
  }
  const gStreets = document.createElementNS(SVG, "g");
  gStreets.setAttribute("class", "streets");
  for (const f of streets.features) {
    const p = document.createElementNS(SVG, "path");
    p.setAttribute("d", path(f));
    p.setAttribute("class", "street");
    p.dataset.street = f.properties.adcode;
    gStreets.appendChild(p);
  }
  const gPoints = document.createElementNS(SVG, "g");
  gPoints.setAttribute("id", "points");
  svg.append(gGrids, gStreets, gPoints);
  return { project, size: Math.max(+w, +h) };
}

function renderMap(map, counters) {
  for (const code in gridPaths) {
    const cnt = map.grids[code] || [0, 0];
    const p = gridPaths[code];
    p.dataset.open = String(cnt[0]);
    p.dataset.late = String(cnt[1]);
    const level = cnt[0] === 0 ? 0 : cnt[0] === 1 ? 1 : cnt[0] <= 3 ? 2 : 3;
    p.setAttribute("class", "grid g" + level + (cnt[1] ? " has-late" : ""));
    p.firstChild.textContent = `${code}：在办 ${cnt[0]}，超期 ${cnt[1]}`;
  }
  const g = $("points");
  g.replaceChildren();
  const r = Math.max(geo.size / 220, 2).toFixed(1);
  for (const [lon, lat, late] of map.points) {
    const [x, y] = geo.project([lon, lat]);
    const c = document.createElementNS(SVG, "circle");
    c.setAttribute("cx", x);
    c.setAttribute("cy", y);
    c.setAttribute("r", r);
    c.setAttribute("class", late ? "pt late" : "pt ok");
    g.appendChild(c);
  }
  $("map-open").textContent = counters.open;
  $("map-late").textContent = counters.late;
}

// -- the day's trend ------------------------------------------------------------------

function renderTrend(t) {
  const svg = $("trend");
  svg.replaceChildren();
  const left = 34, bottom = 196, top = 12, width = 680;
  const max = Math.max(1, ...t.reported_today, ...t.closed_today, ...t.reported_yesterday);
  const step = width / 24, bw = step * 0.36;
  const y = (v) => bottom - (v / max) * (bottom - top);
  const add = (name, attrs, text) => {
    const e = document.createElementNS(SVG, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    svg.appendChild(e);
    return e;
  };
  for (const v of [0, Math.round(max / 2), max]) {
    add("line", { x1: left, x2: left + width, y1: y(v), y2: y(v), class: "axis" });
    add("text", { x: left - 6, y: y(v) + 4, class: "tick", "text-anchor": "end" }, String(v));
  }
  for (let h = 0; h < 24; h++) {
    const x = left + h * step;
    const rep = add("rect", { x: x + step * 0.12, y: y(t.reported_today[h]), width: bw,
                              height: bottom - y(t.reported_today[h]), class: "bar rep" });
    rep.dataset.hour = h;
    rep.dataset.value = t.reported_today[h];
    const clo = add("rect", { x: x + step * 0.12 + bw, y: y(t.closed_today[h]), width: bw,
                              height: bottom - y(t.closed_today[h]), class: "bar clo" });
    clo.dataset.hour = h;
    clo.dataset.value = t.closed_today[h];
    if (h % 3 === 0) add("text", { x: x + step / 2, y: bottom + 16, class: "tick", "text-anchor": "middle" }, h + "时");
  }
  const pts = t.reported_yesterday.map((v, h) => `${(left + h * step + step / 2).toFixed(1)},${y(v).toFixed(1)}`);
  add("polyline", { points: pts.join(" "), class: "yesterday" });
}

// -- start ------------------------------------------------------------------------------

$("key-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const k = $("key-input").value.trim();
  if (k) useKey(k);
});
$("change-key").addEventListener("click", () => askForKey(""));

key = initialKey();
if (key) refresh();
else askForKey("");
