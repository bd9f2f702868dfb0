// The dashboard: markets, depth, price history and trades, kept live by /stream (SSE).
"use strict";

const state = { markets: new Map(), selected: null, trades: [], history: [], tradeCount: 0 };
const MAX_TRADES = 40;
const SVG = "http://www.w3.org/2000/svg";

function money(micros) {
  if (micros === null || micros === undefined) return "–";
  const sign = micros < 0 ? "-" : "";
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / 1e6);
  const frac = String(abs % 1e6).padStart(6, "0").replace(/0{1,4}$/, "");
  return `${sign}$${whole}.${frac.length < 2 ? frac.padEnd(2, "0") : frac}`;
}

function clock(tsNs) {
  return new Date(Number(BigInt(tsNs) / 1000000n)).toISOString().slice(11, 19);
}

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function marketPath(id) {
  return `/markets/${id.split("/").map(encodeURIComponent).join("/")}`;
}

function renderMarkets() {
  const body = document.querySelector("#markets tbody");
  body.replaceChildren();
  for (const m of state.markets.values()) {
    const row = document.createElement("tr");
    row.dataset.market = m.id;
    if (m.id === state.selected) row.classList.add("selected");
    const cells = [m.id, money(m.price), money(m.best_bid), money(m.best_ask), m.trades ?? 0];
    for (const value of cells) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    row.addEventListener("click", () => select(m.id));
    body.append(row);
  }
}

function el(name, attrs, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderDepth(book) {
  const svg = document.getElementById("depth");
  svg.replaceChildren();
  const W = 600, H = 240, PAD = 24;
  const bids = [], asks = [];
  let total = 0;
  for (const [price, qty] of book.bids) { total += qty; bids.push([price, total]); }
  total = 0;
  for (const [price, qty] of book.asks) { total += qty; asks.push([price, total]); }
  const prices = bids.concat(asks).map((p) => p[0]);
  if (prices.length === 0) {
    svg.append(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "empty book"));
    return;
  }
  const lo = Math.min(...prices), hi = Math.max(...prices);
  const span = Math.max(hi - lo, 1);
  const top = Math.max(1, ...bids.map((p) => p[1]), ...asks.map((p) => p[1]));
  const x = (price) => PAD + ((price - lo) / span) * (W - 2 * PAD);
  const y = (qty) => H - PAD - (qty / top) * (H - 2 * PAD);
  const area = (levels, color) => {
    if (levels.length === 0) return;
    let d = `M${x(levels[0][0])},${H - PAD}`;
    let prev = levels[0][0];
    for (const [price, cum] of levels) {
      d += ` L${x(prev)},${y(cum)} L${x(price)},${y(cum)}`;
      prev = price;
    }
    d += ` L${x(prev)},${H - PAD} Z`;
    svg.append(el("path", { d, fill: color, "fill-opacity": 0.35, stroke: color }));
  };
  area(bids, "var(--bid)");
  area(asks, "var(--ask)");
  svg.append(el("text", { x: PAD, y: H - 6 }, money(lo)));
  svg.append(el("text", { x: W - PAD, y: H - 6, "text-anchor": "end" }, money(hi)));
  svg.append(el("text", { x: PAD, y: 14 }, `${top} instances`));
}

function renderHistory() {
  const svg = document.getElementById("history");
  svg.replaceChildren();
  const W = 600, H = 240, PAD = 24;
  const points = state.history;
  if (points.length === 0) {
    svg.append(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no prices yet"));
    return;
  }
  const values = points.map((p) => p.price);
  // A flat history sits mid-chart, with a 1% band around it.
  const margin = Math.max((Math.max(...values) - Math.min(...values)) * 0.1,
                          Math.max(...values) * 0.01, 1);
  const lo = Math.min(...values) - margin, hi = Math.max(...values) + margin;
  const span = hi - lo;
  const t0 = points[0].t, t1 = points[points.length - 1].t;
  const tspan = Math.max(t1 - t0, 1);
  const x = (t) => PAD + ((t - t0) / tspan) * (W - 2 * PAD);
  const y = (v) => H - PAD - ((v - lo) / span) * (H - 2 * PAD);
  const line = points.map((p) => `${x(p.t).toFixed(1)},${y(p.price).toFixed(1)}`).join(" ");
  svg.append(el("polyline", { points: line, fill: "none", stroke: "var(--line)",
                             "stroke-width": 2 }));
  const last = points[points.length - 1];
  svg.append(el("circle", { cx: x(last.t), cy: y(last.price), r: 3.5, fill: "var(--line)" }));
  svg.append(el("text", { x: PAD, y: 14 }, money(hi)));
  svg.append(el("text", { x: PAD, y: H - 6 }, money(lo)));
}

function renderTrades(fresh) {
  const body = document.querySelector("#trades tbody");
  body.replaceChildren();
  for (const t of state.trades) {
    const row = document.createElement("tr");
    if (fresh && t === state.trades[0]) row.classList.add("flash");
    for (const value of [clock(t.ts_ns), t.market, money(t.price), t.quantity]) {
      const cell = document.createElement("td");
      cell.textContent = value;
      row.append(cell);
    }
    body.append(row);
  }
  document.getElementById("trade-count").textContent = `${state.tradeCount} live`;
}

async function select(id) {
  state.selected = id;
  document.getElementById("depth-market").textContent = id;
  document.getElementById("history-market").textContent = id;
  renderMarkets();
  const [book, candles] = await Promise.all([
    getJson(`${marketPath(id)}/book?depth=30`),
    getJson(`${marketPath(id)}/ohlc?interval=1&limit=300`),
  ]);
  renderDepth(book);
  state.history = candles.map((c) => ({ t: Number(BigInt(c.ts_ns) / 1000000n), price: c.close }));
  renderHistory();
}

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
  const recent = await getJson("/trades?limit=" + MAX_TRADES);
  state.trades = recent;
  renderMarkets();
  renderTrades(false);
  if (markets.length > 0) await select(markets[0].id);
  connect();
}

start().catch((err) => {
  document.getElementById("status").textContent = `error: ${err.message}`;
});
