"use strict";
// The catalog's page: plain DOM and SVG drawn from the service's JSON answers; no library.
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 1100;
const LEFT = 110;
const STATE_COLORS = {listed: "#3d9a5f", halted: "#e0a030", delisted: "#b0b6bf", relisted: "#4a7fd0"};
const PAUSED = new Set(["halted", "cancel_only", "pre_trading", "settling"]);
const STEPS = ["tick_size", "lot_size", "min_notional", "funding_interval"];
const PALETTE = ["#4a7fd0", "#d0684a", "#3d9a5f", "#9a5fd0", "#e0a030", "#4ab3c0"];
const state = {symbol: null, knownAt: null};
const $ = (id) => document.getElementById(id);

async function ask(path) {
  const answer = await fetch(path, {headers: {Accept: "application/json"}});
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.detail || answer.statusText);
  return body;
}

function el(tag, attributes = {}, text = null) {
  const found = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) found.setAttribute(name, value);
  if (text !== null) found.textContent = text;
  return found;
}

function svgEl(tag, attributes = {}, text = null) {
  const found = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) found.setAttribute(name, value);
  if (text !== null) found.textContent = text;
  return found;
}

// An instant as the command line shows it: 2024-01-01 00:00:00Z, microseconds only if any.
function shown(instant) {
  if (!instant) return "-";
  return instant.replace("T", " ").replace(/\.(\d*?)0*Z$/, (_, d) => (d ? `.${d}Z` : "Z"));
}

function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function value(text) {
  if (text === null || text === undefined) return "-";
  if (typeof text === "object") return Object.entries(text).map(([k, v]) => `${k}=${v}`).join(" ");
  return String(text);
}

// -- search -------------------------------------------------------------------------------

let typing = null;
let asked = 0;

function suggestions(names) {
  const list = $("suggestions");
  list.replaceChildren(...names.map((name, at) => {
    const item = el("li", {role: "option", "data-name": name}, name);
    if (at === 0) item.classList.add("current");
    item.addEventListener("mousedown", (event) => { event.preventDefault(); open(name); });
    return item;
  }));
}

async function suggest() {
  const typed = $("search").value.trim();
  const mine = ++asked;
  if (!typed) { suggestions([]); return; }
  const found = await ask(`/search?q=${encodeURIComponent(typed)}&limit=10`);
  if (mine === asked) suggestions(found.matches);
}

function moveCurrent(step) {
  const items = [...$("suggestions").children];
  if (!items.length) return;
  const at = items.findIndex((item) => item.classList.contains("current"));
  items.forEach((item) => item.classList.remove("current"));
  items[(at + step + items.length) % items.length].classList.add("current");
}

$("search").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(suggest, 120); });
$("search").addEventListener("keydown", (event) => {
  if (event.key === "ArrowDown") { moveCurrent(1); event.preventDefault(); }
  if (event.key === "ArrowUp") { moveCurrent(-1); event.preventDefault(); }
  if (event.key === "Enter") {
    const current = $("suggestions").querySelector("li.current");
    open(current ? current.dataset.name : $("search").value.trim());
  }
  if (event.key === "Escape") suggestions([]);
});
$("search").addEventListener("blur", () => setTimeout(() => suggestions([]), 100));

// -- the timeline -------------------------------------------------------------------------

function open(symbol) {
  if (!symbol) return;
  suggestions([]);
  $("search").value = symbol;
  state.symbol = symbol;
  remember();
  showTimeline();
}

function remember() {
  const said = new URLSearchParams({symbol: state.symbol});
  if (state.knownAt) said.set("known_at", state.knownAt);
  history.replaceState(null, "", `#${said}`);
}

function versionState(rows, at) {
  const row = rows[at];
  if (!row.active) return "delisted";
  if (PAUSED.has(row.status)) return "halted";
  return rows.slice(0, at).some((earlier) => !earlier.active) ? "relisted" : "listed";
}

async function showTimeline() {
  const key = encodeURIComponent(state.symbol);
  const error = $("timeline-error");
  $("timeline").hidden = false;
  try {
    const now = await ask(`/instruments/${key}/history`);
    const then = state.knownAt
      ? await ask(`/instruments/${key}/history?known_at=${encodeURIComponent(state.knownAt)}`)
      : now;
    error.hidden = true;
    drawTimeline(now.rows, then.rows);
  } catch (failed) {
    error.textContent = failed.message;
    error.hidden = false;
  }
  $("timeline").dataset.ready = `${state.symbol}|${state.knownAt || ""}`;
}

function timeScale(rows) {
  const starts = rows.map((row) => Date.parse(row.valid_from));
  const first = Math.min(...starts);
  const last = Math.max(Date.now(), ...starts);
  const span = Math.max(last - first, 1);
  return (instant) => LEFT + ((instant === null ? last : Date.parse(instant)) - first) / span * (WIDTH - LEFT - 20);
}

function axis(svg, rows, x, y) {
  const first = new Date(Math.min(...rows.map((row) => Date.parse(row.valid_from))));
  for (let year = first.getUTCFullYear() + 1; year <= new Date().getUTCFullYear(); year++) {
    const at = x(`${year}-01-01T00:00:00Z`);
    svg.append(svgEl("line", {x1: at, x2: at, y1: 4, y2: y, stroke: "#eef0f3"}));
    svg.append(svgEl("text", {x: at + 2, y: y + 12}, String(year)));
  }
}

function drawTimeline(now, rows) {
  $("title").textContent = state.symbol;
  const last = rows.length ? rows[rows.length - 1] : now[now.length - 1];
  $("instrument-id").textContent = last ? last.instrument_id : "";
  const x = timeScale(now.length ? now : rows);
  const lanes = state.knownAt ? [["as known at", rows, "then"], ["as known now", now, "now"]] : [["versions", rows, "now"]];
  const height = 30 * lanes.length + 40;
  const bands = svgEl("svg", {width: WIDTH, height, "data-chart": "bands"});
  axis(bands, now.length ? now : rows, x, height - 18);
  lanes.forEach(([label, lane, name], number) => drawBands(bands, lane, x, 14 + 30 * number, label, name));
  const legend = el("div", {class: "legend"});
  for (const [kind, color] of Object.entries(STATE_COLORS)) {
    const item = el("span", {}, kind);
    item.prepend(el("i", {style: `background:${color}`}));
    legend.append(item);
  }
  $("bands").replaceChildren(bands, legend);
  $("steps").replaceChildren(...STEPS.map((name) => stepChart(name, now, rows, x)));
  versionsTable(now, rows);
}

function drawBands(svg, rows, x, top, label, lane) {
  svg.append(svgEl("text", {x: 6, y: top + 16}, label));
  rows.forEach((row, at) => {
    const kind = versionState(rows, at);
    const from = x(row.valid_from);
    const band = svgEl("rect", {
      x: from, y: top, height: 24, width: Math.max(x(row.valid_until) - from, 2),
      fill: STATE_COLORS[kind], "data-state": kind, "data-valid-from": row.valid_from, "data-lane": lane,
    });
    band.append(svgEl("title", {}, `${kind} from ${shown(row.valid_from)}, known since ${shown(row.known_since)}`));
    svg.append(band);
    if (at > 0 && row.symbol !== rows[at - 1].symbol) {
      svg.append(svgEl("line", {x1: from, x2: from, y1: top - 4, y2: top + 28, stroke: "#1d2430", "stroke-width": 2, "data-rename": row.symbol}));
      svg.append(svgEl("text", {x: from + 3, y: top + 16}, `renamed ${row.symbol}`));
    }
  });
}

function stepPath(rows, name, x, y) {
  let path = "";
  let previous = null;
  for (const row of rows) {
    if (row[name] === null || row[name] === undefined) { previous = null; continue; }
    const level = y(Number(row[name]));
    path += previous === null ? `M${x(row.valid_from)},${level}` : `V${level}`;
    path += `H${x(row.valid_until)}`;
    previous = level;
  }
  return path;
}

function stepChart(name, now, rows, x) {
  const svg = svgEl("svg", {width: WIDTH, height: 62, "data-chart": name});
  svg.append(svgEl("text", {x: 6, y: 34}, name));
  const numbers = [...now, ...rows].map((row) => row[name]).filter((v) => v !== null && v !== undefined).map(Number);
  if (!numbers.length) {
    svg.append(svgEl("text", {x: LEFT, y: 34, class: "muted"}, "not given"));
    return svg;
  }
  const top = Math.max(...numbers) * 1.15 || 1;
  const y = (level) => 54 - (level / top) * 44;
  if (rows !== now) {
    svg.append(svgEl("path", {d: stepPath(now, name, x, y), fill: "none", stroke: "#b0b6bf", "stroke-dasharray": "4 3", "stroke-width": 2}));
  }
  svg.append(svgEl("path", {d: stepPath(rows, name, x, y), fill: "none", stroke: "#1d2430", "stroke-width": 2}));
  let said = null;
  for (const row of rows) {
    if (row[name] === null || row[name] === said) continue;
    said = row[name];
    svg.append(svgEl("text", {x: x(row.valid_from) + 3, y: y(Number(said)) - 3, "data-value": said}, said));
  }
  return svg;
}

const VERSION_COLUMNS = ["state", "valid_from", "valid_until", "known_since", "symbol", "status", ...STEPS];

function versionRow(row, kind, later) {
  const line = el("tr", {"data-valid-from": row.valid_from, "data-known-since": row.known_since});
  if (later) line.classList.add("later");
  for (const column of VERSION_COLUMNS) {
    const text = column === "state" ? kind : column.endsWith("_from") || column.endsWith("_until") || column === "known_since" ? shown(row[column]) : value(row[column]);
    line.append(el("td", {class: STEPS.includes(column) ? "num" : "", "data-column": column}, column === "valid_until" && !row[column] ? "now" : text));
  }
  return line;
}

function versionsTable(now, rows) {
  const table = $("versions");
  table.tHead.replaceChildren(el("tr"));
  for (const column of VERSION_COLUMNS) table.tHead.rows[0].append(el("th", {}, column));
  const lines = rows.map((row, at) => versionRow(row, versionState(rows, at), false));
  let note = "";
  if (state.knownAt) {
    const bound = Date.parse(state.knownAt);
    const later = now.filter((row) => Date.parse(row.known_since) > bound);
    lines.push(...later.map((row) => versionRow(row, "known later", true)));
    note = `${plural(rows.length, "version")} as known at ${shown(state.knownAt)}, ` +
      `${now.length} as known now; highlighted: ${later.length} known only later`;
  }
  $("known-note").textContent = note;
  table.tBodies[0].replaceChildren(...lines);
}

$("knowing").addEventListener("submit", (event) => {
  event.preventDefault();
  state.knownAt = $("known-at").value.trim() || null;
  remember();
  showTimeline();
});
$("known-now").addEventListener("click", () => {
  $("known-at").value = "";
  state.knownAt = null;
  remember();
  showTimeline();
});

// -- the catalog at large -----------------------------------------------------------------

function countsChart(counts) {
  const svg = svgEl("svg", {width: WIDTH, height: 170, "data-chart": "counts"});
  const times = counts.instants.map((instant) => Date.parse(instant));
  const first = times[0];
  const span = Math.max(times[times.length - 1] - first, 1);
  const x = (at) => LEFT + (times[at] - first) / span * (WIDTH - LEFT - 20);
  const top = Math.max(1, ...Object.values(counts.exchanges).flat()) * 1.1;
  const y = (level) => 150 - (level / top) * 135;
  svg.append(svgEl("text", {x: 6, y: y(top / 1.1) + 4}, String(Math.round(top / 1.1))));
  svg.append(svgEl("text", {x: 6, y: 150}, "0"));
  for (const [at, instant] of counts.instants.entries()) {
    if (at % Math.ceil(counts.instants.length / 8) === 0) svg.append(svgEl("text", {x: x(at), y: 165}, instant.slice(0, 10)));
  }
  const legend = el("div", {class: "legend"});
  Object.entries(counts.exchanges).forEach(([exchange, series], number) => {
    const color = PALETTE[number % PALETTE.length];
    const path = series.map((level, at) => `${at ? `H${x(at)}V` : `M${x(at)},`}${y(level)}`).join("");
    svg.append(svgEl("path", {d: path, fill: "none", stroke: color, "stroke-width": 2, "data-exchange": exchange}));
    const item = el("span", {}, `${exchange} (${series[series.length - 1]} now)`);
    item.prepend(el("i", {style: `background:${color}`}));
    legend.append(item);
  });
  $("counts").replaceChildren(svg, legend);
}

function changesTable(changes) {
  const table = $("changes");
  const columns = ["effective_at", "what", "symbol", "change"];
  table.tHead.replaceChildren(el("tr"));
  for (const column of columns) table.tHead.rows[0].append(el("th", {}, column));
  table.tBodies[0].replaceChildren(...changes.rows.slice().reverse().map((line) => {
    const row = el("tr");
    const change = line.field ? `${line.field}: ${value(line.old)} → ${value(line.new)}` : value(line.new);
    for (const text of [shown(line.effective_at), line.what, line.symbol || "-", change]) row.append(el("td", {}, text));
    return row;
  }));
}

function auditSummary(audit) {
  const box = $("audit");
  const verdict = audit.ok ? el("p", {class: "ok"}, "clean: every check passed") : el("p", {class: "failed"}, `FAILED: ${audit.violations} violations`);
  const about = el("p", {class: "muted"}, `${audit.events} events, log version ${audit.log_version}, audited ${shown(audit.audited_at)}`);
  const checks = el("table");
  for (const check of audit.checks) {
    const row = el("tr");
    row.append(el("td", {class: check.ok ? "ok" : "failed"}, check.status), el("td", {}, check.name), el("td", {class: "num"}, String(check.count)));
    checks.append(row);
  }
  box.replaceChildren(verdict, about, checks);
}

async function overview() {
  const health = await ask("/health");
  $("health").textContent = `${health.root} · log version ${health.log_version} · ${health.instruments} instruments`;
  const counts = await ask("/universe/counts?points=60");
  countsChart(counts);
  const until = new Date(Date.parse(counts.instants[counts.instants.length - 1]) + 1000);
  const since = new Date(until.getTime() - 180 * 86400e3);
  changesTable(await ask(`/changes?since=${since.toISOString()}&until=${until.toISOString()}&last=20`));
  auditSummary(await ask("/audit"));
  document.body.dataset.ready = "yes";
}

const asked_for = new URLSearchParams(location.hash.slice(1));
if (asked_for.get("known_at")) { state.knownAt = asked_for.get("known_at"); $("known-at").value = state.knownAt; }
if (asked_for.get("symbol")) open(asked_for.get("symbol"));
overview();
