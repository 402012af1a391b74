// Talon live dashboard: draws the JSON snapshot and redraws on every server-sent event.
// No libraries; EventSource reconnects by itself (the server sends "retry: 2000").
(function () {
  "use strict";
  var L = JSON.parse(document.getElementById("labels").textContent);

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }
  function num(v) {
    if (v === null || v === undefined) { return "—"; }
    return (Math.round(v * 10) / 10).toString().replace(".", document.documentElement.lang === "ru" ? "," : ".");
  }
  function mins(v) { return v === null || v === undefined ? "—" : num(v) + " " + L.min; }
  function row(cells, cls) {
    var tr = el("tr", cls ? {"class": cls} : {});
    cells.forEach(function (c) { tr.appendChild(el("td", c[1] ? {"class": c[1]} : {}, c[0])); });
    return tr;
  }
  function fill(id, rows) {
    var body = document.querySelector("#" + id + " tbody");
    body.replaceChildren.apply(body, rows);
  }

  // staff saw a visitor's alert (call for staff, assisted service): POST it; the next snapshot drops it
  function ackButton(key, li) {
    var b = el("button", {"type": "button", "class": "ack"}, L.ack);
    b.addEventListener("click", function () {
      b.disabled = true;
      var body = new URLSearchParams({"key": key, "csrf_token": L.csrf});
      fetch(L.ack_url, {"method": "POST", "body": body, "credentials": "same-origin",
                        "headers": {"X-CSRF-Token": L.csrf}})
        .then(function (r) { if (r.ok) { li.remove(); } else { b.disabled = false; } },
              function () { b.disabled = false; });
    });
    return b;
  }

  function draw(s) {
    fill("topics", s.topics.map(function (t) {
      return row([[t.prefix + " — " + t.name], [String(t.waiting), "num big"],
                  [t.oldest_ticket ? t.oldest_ticket + " · " + mins(t.oldest_wait_min) : "—", "num" + (t.over_norm ? " bad" : "")],
                  [mins(t.wait_norm_min), "num muted"], [mins(t.eta_min), "num"]], t.over_norm ? "over" : "");
    }));
    fill("windows", s.windows.map(function (w) {
      var state = L[w.state] || w.state;
      return row([[String(w.number), "big"], [state, "state-" + w.state], [w.operator_name || w.operator || "—"],
                  [w.ticket ? w.ticket + (w.ticket_state === "called" ? " " + L.called : "") : "—", "ticket"],
                  [mins(w.service_min), "num" + (w.over_norm ? " bad" : "")], [mins(w.service_norm_min), "num muted"]],
                 w.over_norm ? "over" : "");
    }));
    var devices = s.devices.map(function (d) {
      return row([[d.device], [d.state === "online" ? L.online : L.offline, d.state === "online" ? "ok" : "bad"],
                  [mins(d.since_min), "num muted"], [d.printer || ""]]);
    });
    var none = row([[L.no_devices, "muted"]]);
    none.firstChild.setAttribute("colspan", "4");
    fill("devices", devices.length ? devices : [none]);
    var ul = document.getElementById("alerts");
    var items = s.alerts.map(function (a) {
      var li = el("li", {"class": a.level, "data-kind": a.kind}, a.text);
      if (a.ack) { li.appendChild(ackButton(a.ack, li)); }
      return li;
    });
    if (!items.length) { items = [el("li", {"class": "none"}, L.no_alerts)]; }
    ul.replaceChildren.apply(ul, items);
    document.getElementById("updated").textContent = s.at.substring(11, 19);
    document.getElementById("total-waiting").textContent = s.totals.waiting;
    if (window.talonCheckTables) { window.talonCheckTables(); }
  }

  draw(JSON.parse(document.getElementById("snapshot").textContent));
  if (!window.EventSource) { return; }
  var source = new EventSource(L.stream);
  var conn = document.getElementById("conn"), dot = document.getElementById("status-dot");
  source.addEventListener("snapshot", function (ev) {
    conn.hidden = true; dot.className = "dot live";
    draw(JSON.parse(ev.data));
  });
  source.onerror = function () { conn.hidden = false; dot.className = "dot lost"; };
})();
