"""The operator dashboard: one self-contained page served by the KMS application.

Routes (left out of the ETSI 014 OpenAPI document):

- ``GET /dashboard``: the page (inline SVG, CSS and JavaScript; nothing loaded from
  elsewhere: no CDN, it works on a machine without internet);
- ``GET /dashboard/state``: :meth:`qnetai.kms.live.LiveNetwork.snapshot` as JSON;
- ``GET /dashboard/events``: server-sent events: ``state`` (the snapshot, every
  ``interval_s``) and ``alert`` (each new alert as soon as it is raised, polled every
  50 ms);
- ``POST /dashboard/alerts`` (``{"message": ..., "link": ...}``) and
  ``POST /dashboard/eavesdropper`` (``{"link": ..., "fraction": ...}``): operator actions,
  accepted only from the loopback interface (403 otherwise).

The page draws the topology from the nodes' ``position_km`` (QKD links coloured by state,
labelled with key rate and QBER), the key-pool levels of every SAE pair, the alerts and the
entanglement service figures, and updates from the event stream.
"""

import asyncio
import json
from typing import Any

from qnetai.kms.live import LiveNetwork

__all__ = ["PAGE", "add_dashboard"]

_LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}


def add_dashboard(app: Any, live: LiveNetwork, *, interval_s: float = 1.0) -> None:
    """Add the dashboard routes to the FastAPI ``app`` over ``live``."""
    from fastapi import Request
    from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

    from qnetai.kms.app import KMSError

    def loopback(request: Request) -> None:
        host = request.client.host if request.client else None
        if host not in _LOOPBACK:
            raise KMSError(403, "operator actions are accepted from the loopback interface only")

    @app.get("/dashboard", include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(PAGE)

    @app.get("/dashboard/state", include_in_schema=False)
    def state() -> JSONResponse:
        return JSONResponse(live.snapshot())

    @app.get("/dashboard/events", include_in_schema=False)
    async def events(request: Request) -> StreamingResponse:
        async def stream() -> Any:
            sent_alert = 0
            next_state = 0.0
            loop = asyncio.get_running_loop()
            yield "retry: 1000\n\n"
            while not await request.is_disconnected():
                now = loop.time()
                if now >= next_state:
                    snap = await asyncio.to_thread(live.snapshot, since_alert=sent_alert)
                    if snap["alerts"]:
                        sent_alert = snap["alerts"][-1]["id"]
                    yield f"event: state\ndata: {json.dumps(snap)}\n\n"
                    next_state = now + interval_s
                else:
                    new = [a for a in list(live.alerts) if a["id"] > sent_alert]
                    for alert in new:
                        yield f"event: alert\ndata: {json.dumps(alert)}\n\n"
                        sent_alert = alert["id"]
                await asyncio.sleep(0.05)

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    @app.post("/dashboard/alerts", include_in_schema=False)
    async def inject_alert(request: Request) -> JSONResponse:
        loopback(request)
        body = await _json_object(request)
        message = body.get("message")
        if not isinstance(message, str) or not message:
            raise KMSError(400, "message: a non-empty string is required")
        link = body.get("link")
        return JSONResponse(live.add_alert(message, kind="operator", link=link))

    @app.post("/dashboard/eavesdropper", include_in_schema=False)
    async def eavesdropper(request: Request) -> JSONResponse:
        loopback(request)
        body = await _json_object(request)
        try:
            live.set_eavesdropper(str(body.get("link")), float(body.get("fraction", 0.5)))
        except (KeyError, ValueError, TypeError) as exc:
            raise KMSError(400, str(exc).strip("'\"")) from None
        return JSONResponse({"link": body.get("link"), "fraction": body.get("fraction", 0.5)})


async def _json_object(request: Any) -> dict[str, Any]:
    from qnetai.kms.app import KMSError

    try:
        body = await request.json()
    except ValueError:
        raise KMSError(400, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise KMSError(400, "the body must be a JSON object")
    return body


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>qnetai operator dashboard</title>
<style>
body{font-family:system-ui,sans-serif;margin:1em;background:#fafafa;color:#222}
h1{font-size:1.3em;margin:0 0 .3em} h2{font-size:1.05em;margin:.8em 0 .3em}
#grid{display:grid;grid-template-columns:minmax(420px,1.3fr) 1fr;gap:1em}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em}
table{border-collapse:collapse;font-size:.85em;width:100%}
td,th{padding:2px 6px;border-bottom:1px solid #eee;text-align:left}
.bar{background:#e5e5e5;width:120px;height:10px;display:inline-block}
.bar>span{background:#2a7;height:10px;display:block}
#alerts li{margin:.2em 0} .qber{color:#b00;font-weight:bold} .cusum{color:#c50}
.operator{color:#a60} .restored{color:#070}
#status.live{color:#070} #status.down{color:#b00}
</style></head><body>
<h1>qnetai operator dashboard: <span id="scenario">...</span></h1>
<div>stream: <span id="status">connecting</span> &middot; updates: <span id="updates">0</span>
&middot; simulated time: <span id="simtime">0</span> s</div>
<div id="grid">
<div class="card"><h2>Topology (QKD links: key rate, QBER)</h2>
<svg id="topology" width="100%" viewBox="0 0 600 420" role="img"></svg></div>
<div class="card"><h2>QKD alerts</h2><ul id="alerts"></ul>
<h2>Key pools (SAE pairs)</h2><table id="pools"><thead><tr><th>pair</th><th>level</th>
<th>bits</th><th>rate (bit/s)</th></tr></thead><tbody></tbody></table>
<h2>Entanglement service</h2><table id="entanglement"><tbody></tbody></table></div>
</div>
<script>
"use strict";
let updates = 0;
const seen = new Set();
const fmt = (x, d = 3) => (x === null || x === undefined) ? "-" :
  (Math.abs(x) >= 1e4 ? x.toExponential(2) : Number(x).toPrecision(d));
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",
  '"':"&quot;"}[c]));
function addAlert(a) {
  if (seen.has(a.id)) return;
  seen.add(a.id);
  const li = document.createElement("li");
  li.className = a.kind; li.dataset.id = a.id;
  li.textContent = new Date(a.time_s * 1000).toLocaleTimeString() + " [" + a.kind + "] " +
    a.message;
  const ul = document.getElementById("alerts");
  ul.insertBefore(li, ul.firstChild);
}
function drawTopology(s) {
  const svg = document.getElementById("topology");
  const xs = s.nodes.map(n => n.position_km[0]), ys = s.nodes.map(n => n.position_km[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = x => 40 + 520 * (x - x0) / ((x1 - x0) || 1);
  const sy = y => 380 - 340 * (y - y0) / ((y1 - y0) || 1);
  const pos = {};
  s.nodes.forEach(n => pos[n.name] = [sx(n.position_km[0]), sy(n.position_km[1])]);
  let out = "";
  s.links.forEach(l => {
    const [xa, ya] = pos[l.a], [xb, yb] = pos[l.b];
    const col = l.up ? "#2a7" : "#c00";
    out += `<line class="link" data-link="${esc(l.name)}" data-up="${l.up}" x1="${xa}"
      y1="${ya}" x2="${xb}" y2="${yb}" stroke="${col}" stroke-width="4"
      ${l.up ? "" : 'stroke-dasharray="6 4"'}/>`;
    out += `<text x="${(xa + xb) / 2 + 4}" y="${(ya + yb) / 2 - 4}" font-size="10"
      fill="${col}">${fmt(l.key_rate_bps)} b/s${l.fading ? " (fading)" : ""}, QBER
      ${(100 * l.qber).toFixed(1)}%</text>`;
  });
  s.nodes.forEach(n => {
    const [x, y] = pos[n.name];
    out += `<circle cx="${x}" cy="${y}" r="5" fill="#346"/><text x="${x + 6}" y="${y + 12}"
      font-size="9">${esc(n.name)}</text>`;
  });
  svg.innerHTML = out;
}
function render(s) {
  updates += 1;
  document.getElementById("updates").textContent = updates;
  document.getElementById("scenario").textContent = s.scenario;
  document.getElementById("simtime").textContent = fmt(s.simulated_s, 4);
  drawTopology(s);
  document.querySelector("#pools tbody").innerHTML = s.pools.map(p => {
    const pct = 100 * p.level_bits / p.capacity_bits;
    return `<tr class="pool" data-pair="${esc(p.saes.join("-"))}"><td>${esc(p.saes.join("-"))}
      </td><td><span class="bar"><span style="width:${pct.toFixed(1)}%"></span></span></td>
      <td class="level">${p.level_bits}</td><td>${fmt(p.rate_bps)}</td></tr>`;
  }).join("");
  const e = s.entanglement;
  let rows = `<tr><td>pairs delivered</td><td>${fmt(e.pairs_delivered, 6)}</td></tr>
    <tr><td>pairs/s</td><td>${fmt(e.pairs_per_s)}</td></tr>
    <tr><td>mean fidelity</td><td>${fmt(e.mean_fidelity)}</td></tr>
    <tr><td>mean latency (s)</td><td>${fmt(e.mean_latency_s)}</td></tr>`;
  rows += e.qkd_pairs.map(q => `<tr><td>BBM92 ${esc(q.source)}-${esc(q.destination)}</td>
    <td>${q.pairs_delivered} pairs, F=${fmt(q.mean_fidelity)},
    ${fmt(q.key_rate_bps_expected)} b/s</td></tr>`).join("");
  document.querySelector("#entanglement tbody").innerHTML = rows;
  s.alerts.forEach(addAlert);
}
function connect() {
  const es = new EventSource("/dashboard/events");
  const st = document.getElementById("status");
  es.onopen = () => { st.textContent = "live"; st.className = "live"; };
  es.onerror = () => { st.textContent = "reconnecting"; st.className = "down"; };
  es.addEventListener("state", ev => render(JSON.parse(ev.data)));
  es.addEventListener("alert", ev => addAlert(JSON.parse(ev.data)));
}
connect();
</script></body></html>
"""
