// Cairn dashboard: reads /api/dashboard, re-reads it on each server-sent
// event from /api/events, and renders with textContent only (no markup
// from data). No library, no network fetch beyond this origin.
"use strict";

let snapshot = null;
let selected = decodeURIComponent(location.hash.slice(1));
let pending = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells, cls) {
  const tr = el("tr", null, cls);
  for (const c of cells) {
    const td = el("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined || c === null ? "—" : String(c);
    tr.appendChild(td);
  }
  return tr;
}

function fill(id, rows) {
  const body = document.querySelector("#" + id + " tbody");
  body.replaceChildren(...rows);
}

function short(hex) { return hex ? hex.slice(0, 10) : "—"; }

function code(text, title) { const c = el("code", text); if (title) c.title = title; return c; }

function risks(p) {
  if (!p.at_risk) return el("span", "no", "ok");
  const span = el("span");
  for (const r of p.risks) span.appendChild(el("span", r.reason + ": " + r.detail, "risk"));
  return span;
}

function render() {
  const s = snapshot;
  document.getElementById("owner").textContent = short(s.owner);
  document.getElementById("height").textContent = s.height;
  const err = document.getElementById("error");
  err.hidden = !s.error;
  err.textContent = s.error || "";
  document.getElementById("no-drives").hidden = s.drives.length > 0;
  if (!s.drives.some(d => d.name === selected || d.id === selected)) selected = s.drives.length ? s.drives[0].name : "";
  fill("drives", s.drives.map(d => {
    const tr = row([d.name, d.bucket, d.strategy.kind + (d.strategy.interval ? " every " + d.strategy.interval + " blocks" : ""),
      code(short(d.root_cid), d.root_cid), d.pending ? "yes" : "no", d.latest ? d.latest.height : "none",
      d.at_risk ? d.at_risk + " provider(s)" : "none"], d.name === selected ? "selected" : "");
    tr.dataset.drive = d.name;
    tr.addEventListener("click", () => { selected = d.name; location.hash = encodeURIComponent(d.name); render(); });
    return tr;
  }));
  const d = s.drives.find(d => d.name === selected);
  document.getElementById("drive").hidden = !d;
  if (d) renderDrive(d);
}

function renderDrive(d) {
  document.getElementById("drive-title").textContent = "Drive " + d.name;
  document.getElementById("drive-status").textContent = "bucket " + d.bucket + ", quorum " + d.quorum +
    (d.last_result ? ", this client's last checkpoint attempt: " + d.last_result : "") + (d.last_error ? " (" + d.last_error + ")" : "") +
    (d.probed ? ", providers probed at height " + d.probed : ", providers not probed yet");
  fill("providers", d.providers.map(p => {
    const tr = row([code(short(p.account), p.account + " " + p.endpoint), p.role, el("span", p.status, p.status),
      p.status === "unknown" ? null : Math.round(p.success_rate * 100) + "%",
      p.status === "unknown" ? null : p.latency_ms.toFixed(1) + " ms",
      p.leaves, p.lag, p.stake, risks(p)], p.at_risk ? "at-risk" : "");
    tr.dataset.provider = p.account;
    tr.dataset.status = p.status;
    return tr;
  }));
  document.getElementById("latest-height").textContent = d.latest ? d.latest.height : "none";
  document.getElementById("latest-leaves").textContent = d.latest ? d.latest.leaf_count : 0;
  const chart = document.getElementById("chart");
  // The key changes when the plot would: a new checkpoint or a newly known time to quorum.
  const timed = d.checkpoints.filter(c => c.quorum_ms !== undefined).length;
  const src = "/api/drives/" + encodeURIComponent(d.name) + "/chart.svg?h=" + (d.latest ? d.latest.height : 0) + "&n=" + d.checkpoints.length + "&t=" + timed;
  if (chart.getAttribute("src") !== src) chart.setAttribute("src", src);
  fill("checkpoints", d.checkpoints.map(c => row([c.height, code(short(c.root), c.root), c.leaf_count,
    c.signers.length + " (" + c.signers.map(short).join(", ") + ")", c.quorum_ms === undefined ? null : c.quorum_ms.toFixed(0) + " ms"])));
  fill("conflicts", d.conflicts.map(c => row([code(short(c.provider), c.provider), c.class, ["no_answer", "not_probed", "late"].includes(c.class) ? null : c.leaf_count, c.proof])));
  document.getElementById("no-challenges").hidden = d.challenges.length > 0;
  fill("challenges", d.challenges.map(c => row([c.id, code(short(c.provider), c.provider), c.state, c.leaf_index, c.opened_height, c.deadline, c.outcome])));
}

async function load() {
  try {
    const r = await fetch("/api/dashboard", { cache: "no-store" });
    if (!r.ok) throw new Error((await r.json()).message || r.statusText);
    snapshot = await r.json();
    render();
  } catch (e) {
    const err = document.getElementById("error");
    err.hidden = false;
    err.textContent = "cannot load: " + e.message;
  }
}

// reload coalesces the events of one moment into one read.
function reload() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; load(); }, 150);
}

function listen() {
  const live = document.getElementById("live");
  const es = new EventSource("/api/events");
  es.addEventListener("hello", () => { live.textContent = "live"; live.className = "on"; reload(); });
  es.addEventListener("block", e => {
    document.getElementById("height").textContent = JSON.parse(e.data).height;
    if (!snapshot) reload(); // the first read came before the server's first refresh
  });
  for (const k of ["checkpoint", "health", "challenge"]) es.addEventListener(k, reload);
  es.onerror = () => { live.textContent = "reconnecting"; live.className = "off"; };
}

load();
listen();
