/* The visitor's ticket page: draws the state the server sends (server/phone_state.py).
 *
 * The state comes by server-sent events; after repeated stream errors the page polls the
 * JSON every 5 s instead. Waking up (visibilitychange) or coming back online reconnects
 * and fetches the state at once, so a phone that slept or lost the network is right again.
 * The call shows full screen, vibrates and beeps where the browser allows (sound needs a
 * tap first: browsers refuse audio before a user gesture).
 */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var labels = JSON.parse($("labels").textContent);
  var state = JSON.parse($("state-data").textContent);
  var POLL_MS = 5000, MAX_STREAM_ERRORS = 3;
  var source = null, errors = 0, pollTimer = null, retryTimer = null, audio = null;
  var KEY = "talon-call:" + location.pathname;

  function setText(el, text) {                 // only real changes: a live region re-reads what changes
    if (el && el.textContent !== (text || "")) { el.textContent = text || ""; }
  }

  function draw(s) {
    state = s;
    $("ticket").setAttribute("data-state", s.state);
    document.body.setAttribute("data-state", s.state);
    setText($("number"), s.number);
    setText($("topic"), s.topic);
    $("topic").hidden = !s.topic;
    setText($("notice"), s.notice);
    $("notice-box").hidden = !s.notice;
    setText($("headline"), s.headline);
    $("figures").hidden = s.state !== "waiting";
    if (s.state === "waiting") {
      setText($("ahead"), s.ahead_text);
      setText($("eta"), s.eta_text);
    }
    setText($("detail"), s.detail);
    $("detail").hidden = !s.detail;
    $("actions").hidden = s.state !== "waiting";
    $("keep-open").hidden = !!s.final;
    drawCall(s);
    if (s.final) { stop(); }
  }

  function drawCall(s) {
    var box = $("call");
    if (s.state !== "called") {
      if (box.firstChild) { box.textContent = ""; }
      return;
    }
    var seen = sessionStorage.getItem(KEY);
    if (box.getAttribute("data-key") === s.call_key) { return; }
    box.setAttribute("data-key", s.call_key);
    box.textContent = "";
    if (seen === s.call_key + ":closed") { return; }      // the visitor already closed this call
    var screen = document.createElement("div");
    screen.className = "call-screen";
    screen.id = "call-screen";
    var text = document.createElement("p");
    text.className = "call-text";
    text.textContent = s.headline;
    var detail = document.createElement("p");
    detail.className = "call-detail";
    detail.textContent = s.detail;
    var ok = document.createElement("button");
    ok.type = "button";
    ok.className = "button";
    ok.textContent = labels.ok;
    ok.addEventListener("click", function () {
      sessionStorage.setItem(KEY, s.call_key + ":closed");
      box.textContent = "";
      $("headline").focus();
    });
    screen.appendChild(text);
    screen.appendChild(detail);
    screen.appendChild(ok);
    box.appendChild(screen);
    if (seen !== s.call_key && seen !== s.call_key + ":closed") {
      sessionStorage.setItem(KEY, s.call_key);
      alertVisitor();
    }
  }

  // ------------------------------------------------------------- vibration and sound
  function alertVisitor() {
    try { if (navigator.vibrate) { navigator.vibrate([400, 200, 400, 200, 400]); } } catch (e) { /* refused */ }
    beep();
  }

  function unlockAudio() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) { return null; }
    try {
      audio = audio || new Ctx();
      if (audio.state === "suspended") { audio.resume(); }
    } catch (e) { audio = null; }
    return audio;
  }

  function beep() {
    if (!audio || audio.state !== "running") { return; }
    [0, 0.35, 0.7].forEach(function (at) {
      var osc = audio.createOscillator(), gain = audio.createGain(), t = audio.currentTime + at;
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.4, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.3);
    });
  }

  var sound = $("sound");
  if (sound && (window.AudioContext || window.webkitAudioContext)) {
    sound.hidden = false;
    sound.addEventListener("click", function () {
      if (unlockAudio()) {
        sound.setAttribute("aria-pressed", "true");
        beep();
        try { if (navigator.vibrate) { navigator.vibrate(100); } } catch (e) { /* refused */ }
      }
    });
  }
  // any tap on the page also allows the sound later (browsers need a gesture first)
  document.addEventListener("pointerdown", function () { unlockAudio(); }, { once: true });

  // ------------------------------------------------------------- getting the state
  // a late stream message must not hide «no network» while the browser itself is offline
  function online(ok) { $("conn").hidden = ok && navigator.onLine !== false; }

  function refetch() {
    if (!window.fetch) { return; }
    fetch(labels.json, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) { online(true); draw(s); })
      .catch(function () { online(false); });
  }

  function startPolling() {
    if (!pollTimer) { pollTimer = setInterval(refetch, POLL_MS); }
    // and try the stream again now and then: a blocked stream may come back
    if (!retryTimer) { retryTimer = setTimeout(function () { retryTimer = null; errors = 0; connect(); }, 60000); }
  }

  function stopPolling() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  function connect() {
    if (state.final) { return; }
    if (source) { source.close(); source = null; }
    if (!window.EventSource || errors >= MAX_STREAM_ERRORS) { startPolling(); return; }
    source = new EventSource(labels.events);
    source.addEventListener("open", function () { online(true); });
    source.addEventListener("state", function (e) {
      errors = 0;
      stopPolling();
      online(true);
      draw(JSON.parse(e.data));
    });
    source.addEventListener("error", function () {
      errors += 1;
      online(false);
      if (errors >= MAX_STREAM_ERRORS || source.readyState === EventSource.CLOSED) {
        source.close();
        source = null;
        startPolling();
      }
    });
  }

  function stop() {
    if (source) { source.close(); source = null; }
    stopPolling();
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
  }

  function wake() {                     // the phone woke up or the network came back
    if (state.final) { return; }
    errors = 0;
    refetch();
    connect();
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { wake(); }
  });
  window.addEventListener("online", wake);
  window.addEventListener("offline", function () { online(false); });
  window.addEventListener("pageshow", function (e) { if (e.persisted) { wake(); } });

  // ------------------------------------------------------------- leaving the queue
  var form = $("leave-form");
  if (form && window.fetch) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var data = new FormData(form);
      $("leave-yes").disabled = true;
      fetch(labels.leave, { method: "POST", body: data, headers: {
        Accept: "application/json", "X-CSRF-Token": data.get("csrf_token") } })
        .then(function (r) {
          if (r.status === 400) { location.reload(); return null; }   // the form expired: a fresh page
          return r.json();
        })
        .then(function (reply) {
          if (!reply) { return; }
          $("leave").open = false;
          var error = $("leave-error");
          error.hidden = reply.ok;
          error.textContent = reply.ok ? "" : reply.message;
          if (reply.state) { draw(reply.state); }
        })
        .catch(function () { online(false); })
        .then(function () { $("leave-yes").disabled = false; });
    });
    $("leave-no").addEventListener("click", function (e) {
      e.preventDefault();
      $("leave").open = false;
      $("leave-ask").focus();
    });
  }

  $("headline").setAttribute("tabindex", "-1");
  draw(state);
  connect();
})();
