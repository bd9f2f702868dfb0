// The dashboard: markets, depth, price history and trades, kept live by /stream (SSE),
// and an account panel that trades with the account's API key.
"use strict";

const state = {
  markets: new Map(), selected: null, trades: [], history: [], tradeCount: 0,
  key: null, account: null, poll: null,
};
const MAX_TRADES = 40;
const SVG = "http://www.w3.org/2000/svg";
const MICROS = 1000000;

// ---- money: integer micro-units on the wire, dollars on the page -------------------------

// Decimals a market's prices need: those of its tick (at least two, as for any amount).
function decimalsFor(tick) {
  let decimals = 6;
  while (decimals > 2 && tick % 10 === 0) { tick /= 10; decimals -= 1; }
  return decimals;
}

function decimalsOf(marketId) {
  const m = state.markets.get(marketId);
  return m ? decimalsFor(m.tick_size) : 6;
}

// "$1.250" for 1250000 micro-units at 3 decimals (rounded half up for display only).
function money(micros, decimals = 2) {
  if (micros === null || micros === undefined) return "–";
  const unit = 10 ** (6 - decimals);
  const rounded = Math.round(Math.abs(micros) / unit) * unit;
  const whole = Math.floor(rounded / MICROS);
  const frac = String(rounded % MICROS).padStart(6, "0").slice(0, decimals);
  const sign = micros < 0 ? "-" : "";
  return `${sign}$${whole.toLocaleString("en-US")}${decimals ? "." + frac : ""}`;
}

// An account's amount to the micro-unit: "$0.002", "$150.00".
function amount(micros) {
  let decimals = 6;
  while (decimals > 2 && micros % 10 ** (7 - decimals) === 0) decimals -= 1;
  return money(micros, decimals);
}

// "3.20" or "$3.2" -> 3200000 micro-units, exactly (no binary floats); throws a message.
function parseMoney(text) {
  const match = /^\s*\$?\s*(\d{1,12})(?:\.(\d{0,6}))?\s*$/.exec(text);
  if (!match) {
    throw new Error(/\.\d{7,}/.test(text) ? "at most six decimals (a micro-unit)"
                                          : "a dollar amount, such as 3.20");
  }
  return Number(match[1]) * MICROS + Number((match[2] || "").padEnd(6, "0"));
}

function parseQuantity(text) {
  if (!/^\s*\d{1,15}\s*$/.test(text) || Number(text) < 1) {
    throw new Error("a whole number of instances, 1 or more");
  }
  return Number(text);
}

function clock(tsNs) {
  return new Date(Number(BigInt(tsNs) / 1000000n)).toISOString().slice(11, 19);
}

// ---- HTTP ----------------------------------------------------------------------------------

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// A request with the account's key; a refusal throws an Error carrying the server's field.
async function api(method, path, body) {
  const headers = { "X-API-Key": state.key ?? "" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(data?.error ?? `HTTP ${response.status}`);
    error.field = data?.field ?? "request";
    error.status = response.status;
    throw error;
  }
  return data;
}

function marketPath(id) {
  return `/markets/${id.split("/").map(encodeURIComponent).join("/")}`;
}

// ---- market data ---------------------------------------------------------------------------

function cellRow(values) {
  const row = document.createElement("tr");
  for (const value of values) {
    const cell = document.createElement("td");
    cell.textContent = value;
    row.append(cell);
  }
  return row;
}

function renderMarkets() {
  const body = document.querySelector("#markets tbody");
  body.replaceChildren();
  for (const m of state.markets.values()) {
    const d = decimalsFor(m.tick_size);
    const row = cellRow([m.id, money(m.price, d), money(m.best_bid, d), money(m.best_ask, d),
                         m.trades ?? 0]);
    row.dataset.market = m.id;
    if (m.id === state.selected) row.classList.add("selected");
    row.addEventListener("click", () => select(m.id));
    body.append(row);
  }
}

function renderTrades(fresh) {
  const body = document.querySelector("#trades tbody");
  body.replaceChildren();
  for (const t of state.trades) {
    const row = cellRow([clock(t.ts_ns), t.market, money(t.price, decimalsOf(t.market)),
                         t.quantity]);
    if (fresh && t === state.trades[0]) row.classList.add("flash");
    body.append(row);
  }
  document.getElementById("trade-count").textContent = `${state.tradeCount} live`;
}

// ---- charts: SVG with labelled axes --------------------------------------------------------

const CHART = { W: 600, H: 260, L: 64, R: 30, T: 12, B: 42 };

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Round tick values (1, 2 or 5 times a power of ten, at least `least`) covering lo..hi.
function niceTicks(lo, hi, count, least = 0) {
  const raw = Math.max((hi - lo) / count, least, Number.EPSILON);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(v);
  return ticks;
}

const TIME_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600];

function timeTicks(t0, t1, count) {
  const raw = (t1 - t0) / 1000 / count;
  const step = (TIME_STEPS_S.find((s) => s >= raw) ?? 86400) * 1000;
  const ticks = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  return ticks;
}

// Axes, grid and tick labels; returns the value-to-pixel maps.
function axes(svg, x, y, xLabel, yLabel) {
  const { W, H, L, R, T, B } = CHART;
  const px = (v) => L + ((v - x.lo) / (x.hi - x.lo || 1)) * (W - L - R);
  const py = (v) => H - B - ((v - y.lo) / (y.hi - y.lo || 1)) * (H - T - B);
  for (const v of y.ticks) {
    svg.append(el("line", { x1: L, x2: W - R, y1: py(v), y2: py(v), class: "grid" }));
    svg.append(el("text", { x: L - 6, y: py(v) + 4, "text-anchor": "end", class: "tick" },
                  y.format(v)));
  }
  for (const v of x.ticks) {
    svg.append(el("line", { x1: px(v), x2: px(v), y1: T, y2: H - B, class: "grid" }));
    svg.append(el("text", { x: px(v), y: H - B + 16, "text-anchor": "middle", class: "tick" },
                  x.format(v)));
  }
  svg.append(el("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }));
  svg.append(el("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }));
  svg.append(el("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle",
                          class: "axis-label" }, xLabel));
  svg.append(el("text", { x: 14, y: (T + H - B) / 2, "text-anchor": "middle",
                          transform: `rotate(-90 14 ${(T + H - B) / 2})`, class: "axis-label" },
                yLabel));
  return { px, py };
}

function empty(svg, text) {
  svg.append(el("text", { x: CHART.W / 2, y: CHART.H / 2, "text-anchor": "middle" }, text));
}

function renderDepth(book) {
  const svg = document.getElementById("depth");
  svg.replaceChildren();
  const cumulative = (levels) => {
    let total = 0;
    return levels.map(([price, qty]) => [price, (total += qty)]);
  };
  const bids = cumulative(book.bids), asks = cumulative(book.asks);
  const prices = bids.concat(asks).map((p) => p[0]);
  if (prices.length === 0) { empty(svg, "empty book"); return; }
  const d = decimalsOf(book.market);
  const tick = state.markets.get(book.market)?.tick_size ?? 1;
  const pad = Math.max((Math.max(...prices) - Math.min(...prices)) * 0.05, tick);
  const x = { lo: Math.min(...prices) - pad, hi: Math.max(...prices) + pad };
  x.ticks = niceTicks(x.lo, x.hi, 5, tick);
  x.format = (v) => money(v, d);
  const top = Math.max(1, ...bids.map((p) => p[1]), ...asks.map((p) => p[1]));
  const y = { lo: 0, hi: top * 1.1 };
  y.ticks = niceTicks(0, y.hi, 4, 1);
  y.format = (v) => v.toLocaleString("en-US");
  const { px, py } = axes(svg, x, y, "price, $ per instance-hour",
                          "instances (cumulative)");
  const area = (levels, color) => {
    if (levels.length === 0) return;
    let path = `M${px(levels[0][0])},${py(0)}`;
    let prev = levels[0][0];
    for (const [price, cum] of levels) {
      path += ` L${px(prev)},${py(cum)} L${px(price)},${py(cum)}`;
      prev = price;
    }
    path += ` L${px(prev)},${py(0)} Z`;
    svg.append(el("path", { d: path, fill: color, "fill-opacity": 0.35, stroke: color }));
  };
  area(bids, "var(--bid)");
  area(asks, "var(--ask)");
}

function renderHistory() {
  const svg = document.getElementById("history");
  svg.replaceChildren();
  const points = state.history;
  if (points.length === 0) { empty(svg, "no prices yet"); return; }
  const values = points.map((p) => p.price);
  const d = decimalsOf(state.selected);
  // A flat history sits mid-chart, with a 1% band around it.
  const margin = Math.max((Math.max(...values) - Math.min(...values)) * 0.1,
                          Math.max(...values) * 0.01, 1);
  const y = { lo: Math.min(...values) - margin, hi: Math.max(...values) + margin };
  y.ticks = niceTicks(y.lo, y.hi, 4, 10 ** (6 - d));
  y.format = (v) => money(v, d);
  const t1 = points[points.length - 1].t;
  const x = { lo: Math.min(points[0].t, t1 - 10000), hi: t1 };
  x.ticks = timeTicks(x.lo, x.hi, 5);
  x.format = (t) => new Date(t).toISOString().slice(11, 19);
  const { px, py } = axes(svg, x, y, "time (UTC)", "$ per instance-hour");
  const line = points.map((p) => `${px(p.t).toFixed(1)},${py(p.price).toFixed(1)}`).join(" ");
  svg.append(el("polyline", { points: line, fill: "none", stroke: "var(--line)",
                             "stroke-width": 2 }));
  const last = points[points.length - 1];
  svg.append(el("circle", { cx: px(last.t), cy: py(last.price), r: 3.5, fill: "var(--line)" }));
}

async function select(id) {
  state.selected = id;
  document.getElementById("depth-market").textContent = id;
  document.getElementById("history-market").textContent = id;
  document.querySelector("#order-form [name=market]").value = id;
  renderMarkets();
  const [book, candles] = await Promise.all([
    getJson(`${marketPath(id)}/book?depth=30`),
    getJson(`${marketPath(id)}/ohlc?interval=1&limit=300`),
  ]);
  renderDepth(book);
  state.history = candles.map((c) => ({ t: Number(BigInt(c.ts_ns) / 1000000n), price: c.close }));
  renderHistory();
}

// ---- the account panel ---------------------------------------------------------------------

// Show a refusal next to the field the server named, or under the form when it is no input.
function showError(scope, error) {
  const spot = scope.querySelector(`.field-error[data-field="${CSS.escape(error.field)}"]`);
  const target = spot ?? scope.querySelector(".form-error") ?? scope.querySelector(".field-error");
  target.textContent = spot ? error.message : `${error.field}: ${error.message}`;
  scope.querySelector(`[name="${CSS.escape(error.field)}"]`)?.setAttribute("aria-invalid", "true");
}

function clearErrors(scope) {
  for (const spot of scope.querySelectorAll(".field-error, .form-error")) spot.textContent = "";
  for (const input of scope.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// Read a field with its parser; a bad value throws an error naming that field.
function read(scope, name, parse) {
  try {
    return parse(scope.querySelector(`[name="${name}"]`).value);
  } catch (error) {
    error.field = name;
    throw error;
  }
}

function renderAccount(account, capacity) {
  document.getElementById("account-id").textContent = `${account.id} (${account.role})`;
  document.getElementById("acct-balance").textContent = amount(account.balance);
  document.getElementById("acct-reserved").textContent = amount(account.reserved);
  document.getElementById("acct-available").textContent = amount(account.available);
  const table = document.getElementById("allocations");
  table.hidden = capacity.length === 0;
  table.tBodies[0].replaceChildren(...capacity.map((c) =>
    cellRow([c.market, c.provided, c.allocated, c.offered])));
}

function orderRow(order) {
  const market = order.markets.join(" + ");
  const row = cellRow([order.id, order.side, market, "", "", ""]);
  row.dataset.order = order.id;
  const edit = document.createElement("div");
  edit.className = "edit";
  row.cells[5].append(edit);
  edit.innerHTML = `<label>price $ <input name="price" size="7" inputmode="decimal">
      <span class="field-error" data-field="price"></span></label>
    <label>qty <input name="quantity" size="4" inputmode="numeric">
      <span class="field-error" data-field="quantity"></span></label>
    <button type="button" class="modify">Modify</button>
    <button type="button" class="cancel">Cancel</button>
    <span class="form-error"></span>`;
  edit.querySelector(".modify").addEventListener("click", () => modifyOrder(row));
  edit.querySelector(".cancel").addEventListener("click", () => cancelOrder(row));
  return row;
}

// Rows are kept by order id, so what someone is typing survives each refresh.
function renderOrders(orders) {
  const body = document.querySelector("#orders tbody");
  const rows = new Map([...body.rows].map((r) => [r.dataset.order, r]));
  const kept = orders.map((order) => {
    const row = rows.get(order.id) ?? orderRow(order);
    row.cells[3].textContent = money(order.price, decimalsOf(order.markets[0]));
    row.cells[4].textContent = order.remaining;
    return row;
  });
  body.replaceChildren(...kept);
}

async function refreshAccount() {
  if (!state.key) return;
  const [account, capacity, orders] = await Promise.all([
    api("GET", "/account"), api("GET", "/account/capacity"), api("GET", "/orders"),
  ]);
  state.account = account;
  renderAccount(account, capacity);
  renderOrders(orders);
}

function note(text) {
  document.getElementById("order-note").textContent = text;
}

function describe(result) {
  const d = decimalsOf(document.querySelector("#order-form [name=market]").value);
  const fills = result.trades.map((t) => `${t.quantity} at ${money(t.price, d)}`).join(", ");
  return `order ${result.order_id}: ${result.status}` +
    (fills ? `, traded ${fills}` : "") + (result.remaining ? `, ${result.remaining} open` : "");
}

async function placeOrder(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  try {
    const body = {
      side: form.side.value,
      market: form.market.value,
      price: read(form, "price", parseMoney),
      quantity: read(form, "quantity", parseQuantity),
      tif: form.tif.value,
    };
    if (form.post_only.checked) body.post_only = true;
    note(describe(await api("POST", "/orders", body)));
  } catch (error) {
    showError(form, error);
    return;
  }
  await refreshAccount();
}

async function modifyOrder(row) {
  const scope = row.cells[5];
  clearErrors(scope);
  const change = {};
  try {
    if (scope.querySelector("[name=price]").value.trim()) {
      change.price = read(scope, "price", parseMoney);
    }
    if (scope.querySelector("[name=quantity]").value.trim()) {
      change.quantity = read(scope, "quantity", parseQuantity);
    }
    if (!("price" in change) && !("quantity" in change)) {
      throw Object.assign(new Error("give a new price, quantity or both"), { field: "price" });
    }
    note(describe(await api("PATCH", `/orders/${encodeURIComponent(row.dataset.order)}`,
                            change)));
    for (const input of scope.querySelectorAll("input")) input.value = "";
  } catch (error) {
    showError(scope, error);
    return;
  }
  await refreshAccount();
}

async function cancelOrder(row) {
  const scope = row.cells[5];
  clearErrors(scope);
  try {
    note(describe(await api("DELETE", `/orders/${encodeURIComponent(row.dataset.order)}`)));
  } catch (error) {
    showError(scope, error);
    return;
  }
  await refreshAccount();
}

function forgetKey() {
  state.key = null;
  sessionStorage.removeItem("auctioneer-key");
  clearInterval(state.poll);
  document.getElementById("account-body").hidden = true;
  document.getElementById("key-forget").hidden = true;
  document.getElementById("account-id").textContent = "paste an API key to trade";
  document.querySelector("#orders tbody").replaceChildren();
}

async function openAccount(key) {
  const form = document.getElementById("key-form");
  clearErrors(form);
  state.key = key.trim();
  try {
    await refreshAccount();
  } catch (error) {
    forgetKey();
    showError(form, error.status === 401 ? error : Object.assign(error, { field: "X-API-Key" }));
    return;
  }
  sessionStorage.setItem("auctioneer-key", state.key);
  document.getElementById("account-body").hidden = false;
  document.getElementById("key-forget").hidden = false;
  clearInterval(state.poll);
  state.poll = setInterval(() => refreshAccount().catch(() => {}), 2000);
}

function startAccountPanel() {
  const picker = document.querySelector("#order-form [name=market]");
  picker.replaceChildren(...[...state.markets.keys()].map((id) => new Option(id, id)));
  if (state.selected) picker.value = state.selected;
  picker.addEventListener("change", () => picker.value && selectMarket(picker.value));
  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    openAccount(document.getElementById("api-key").value);
  });
  document.getElementById("key-forget").addEventListener("click", forgetKey);
  document.getElementById("order-form").addEventListener("submit", placeOrder);
  const saved = sessionStorage.getItem("auctioneer-key");
  if (saved) openAccount(saved);
}

function selectMarket(id) {
  select(id).catch((err) => { document.getElementById("status").textContent = err.message; });
}

// ---- the live stream -----------------------------------------------------------------------

function onTrade(trade) {
  state.tradeCount += 1;
  state.trades.unshift(trade);
  state.trades.length = Math.min(state.trades.length, MAX_TRADES);
  const m = state.markets.get(trade.market);
  if (m) m.trades = (m.trades ?? 0) + 1;
  renderTrades(true);
}

function onPrice(update) {
  const m = state.markets.get(update.market);
  if (m) m.price = update.price;
  if (update.market === state.selected) {
    state.history.push({ t: Number(BigInt(update.ts_ns) / 1000000n), price: update.price });
    if (state.history.length > 600) state.history.shift();
    renderHistory();
  }
  renderMarkets();
}

function onBook(book) {
  const m = state.markets.get(book.market);
  if (m) {
    m.best_bid = book.bids.length ? book.bids[0][0] : null;
    m.best_ask = book.asks.length ? book.asks[0][0] : null;
  }
  if (book.market === state.selected) renderDepth(book);
}

function connect() {
  const status = document.getElementById("status");
  const source = new EventSource("/stream");
  source.onopen = () => { status.textContent = "live"; status.classList.add("live"); };
  source.onerror = () => { status.textContent = "reconnecting…"; status.classList.remove("live"); };
  source.addEventListener("trade", (e) => onTrade(JSON.parse(e.data)));
  source.addEventListener("price", (e) => onPrice(JSON.parse(e.data)));
  source.addEventListener("book", (e) => onBook(JSON.parse(e.data)));
  // Markets re-rendered at most a few times a second, whatever the trade rate.
  setInterval(renderMarkets, 500);
}

async function start() {
  const markets = await getJson("/markets");
  for (const m of markets) state.markets.set(m.id, m);
  state.trades = await getJson("/trades?limit=" + MAX_TRADES);
  renderMarkets();
  renderTrades(false);
  if (markets.length > 0) await select(markets[0].id);
  startAccountPanel();
  connect();
}

start().catch((err) => {
  document.getElementById("status").textContent = `error: ${err.message}`;
});
