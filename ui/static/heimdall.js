// Heimdall Live: the connection badge, stale marking and relative times.
// Runs in the browser, so it keeps telling the truth while the server is unreachable.
(function () {
  "use strict";
  const BACKOFF_S = [1, 2, 4, 8, 16]; // then every 30 s
  const MAX_S = 30;
  const JITTER = 0.1; // +-10 %

  const conn = {
    state: "connecting", // connecting | connected | disconnected | reconnecting
    attempt: 0,
    nextTryAt: null,
    lostAt: null,
    lastUpdateAt: Date.now(),
    timer: null,
  };
  window.heimdallConnection = conn; // read by tests and by curious operators

  function delayMs(attempt) {
    const base = attempt <= BACKOFF_S.length ? BACKOFF_S[attempt - 1] : MAX_S;
    return base * 1000 * (1 - JITTER + Math.random() * 2 * JITTER);
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function span(s) {
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
    return Math.floor(s / 86400) + " d";
  }
  // A time past reads "5 min ago"; one to come (a silence's end, a maintenance window) "in 5 min".
  function ago(ms) {
    const s = Math.round((Date.now() - ms) / 1000);
    return s < -1 ? "in " + span(-s) : span(Math.max(0, s)) + " ago";
  }

  function render() {
    const badge = document.getElementById("hl-badge");
    if (!badge) return;
    const text = document.getElementById("hl-badge-text");
    const button = document.getElementById("hl-reconnect");
    const last = document.getElementById("hl-last-update");
    const banner = document.getElementById("hl-stale-banner");
    let label;
    if (conn.state === "connected") {
      label = "Connected";
    } else if (conn.state === "connecting") {
      label = "Connecting…";
    } else {
      const wait = conn.nextTryAt ? Math.max(0, Math.ceil((conn.nextTryAt - Date.now()) / 1000)) : null;
      const head = conn.state === "disconnected" ? "Disconnected" : "Reconnecting · attempt " + conn.attempt;
      label = head + (wait === null ? " · trying now…" : " · next try in " + wait + " s");
    }
    badge.dataset.state = conn.state;
    text.textContent = label;
    button.hidden = conn.state === "connected";
    last.textContent = "last update " + clock(conn.lastUpdateAt);
    last.title = new Date(conn.lastUpdateAt).toString();
    const stale = conn.state !== "connected";
    document.body.classList.toggle("hl-stale", stale);
    if (banner) {
      banner.hidden = !stale;
      banner.textContent = stale
        ? "Connection to the gateway lost " + (conn.lostAt ? ago(conn.lostAt) : "") +
          ". The figures below are from " + clock(conn.lastUpdateAt) + " (" + ago(conn.lastUpdateAt) + ") and may be out of date."
        : "";
    }
  }

  function tryNow() {
    clearTimeout(conn.timer);
    conn.nextTryAt = null;
    if (conn.state !== "connecting") conn.state = conn.attempt === 0 ? "connecting" : "reconnecting";
    render();
    const socket = window.socket;
    // NiceGUI resumes from the last message it has; keep the query it reconnects with current.
    if (socket.io.opts.query) socket.io.opts.query.next_message_id = window.nextMessageId;
    socket.connect();
  }

  function scheduleRetry() {
    clearTimeout(conn.timer);
    conn.attempt += 1;
    const wait = delayMs(conn.attempt);
    conn.nextTryAt = Date.now() + wait;
    conn.timer = setTimeout(tryNow, wait);
    render();
  }

  window.heimdallReconnect = function () {
    if (conn.state === "connected") return;
    if (conn.state === "disconnected") conn.attempt = 1;
    tryNow();
  };

  function attach(socket) {
    socket.io.reconnection(false); // this page decides when to retry, and says so
    if (socket.connected) conn.state = "connected";
    socket.on("connect", function () {
      conn.state = "connected";
      conn.attempt = 0;
      conn.nextTryAt = null;
      conn.lostAt = null;
      conn.lastUpdateAt = Date.now();
      clearTimeout(conn.timer);
      render();
    });
    socket.on("disconnect", function (reason) {
      if (reason === "io client disconnect") return; // the page is going away
      conn.state = "disconnected";
      conn.lostAt = Date.now();
      conn.attempt = 0;
      clearTimeout(conn.timer);
      const wait = delayMs(1);
      conn.nextTryAt = Date.now() + wait;
      conn.timer = setTimeout(function () {
        conn.attempt = 1;
        conn.state = "reconnecting";
        tryNow();
      }, wait);
      render();
    });
    socket.on("connect_error", function () {
      if (conn.state === "connected") return;
      conn.state = "reconnecting";
      scheduleRetry();
    });
    socket.onAny(function () {
      conn.lastUpdateAt = Date.now();
    });
    render();
  }

  // Relative times: <time datetime="ISO"> elements, re-read on every tick so that server
  // updates to them show at once; the absolute local time is on hover.
  function formatTimes() {
    document.querySelectorAll("time[datetime]").forEach(function (el) {
      const iso = el.getAttribute("datetime");
      if (!iso) return;
      const ms = Date.parse(iso);
      if (isNaN(ms)) return;
      // Write only what changed: a write is a DOM mutation, which would wake the observer again.
      const text = ago(ms);
      const title = new Date(ms).toLocaleString();
      if (el.textContent !== text) el.textContent = text;
      if (el.title !== title) el.title = title;
    });
  }

  const wait = setInterval(function () {
    if (window.socket && window.socket.io) {
      clearInterval(wait);
      attach(window.socket);
    }
  }, 20);
  setInterval(function () {
    render();
    formatTimes();
  }, 1000);
  new MutationObserver(formatTimes).observe(document.documentElement, { subtree: true, childList: true, attributes: true, attributeFilter: ["datetime"] });
})();

// Map tiles come from a tile server in this browser: say so when they do not load,
// instead of leaving a grey box (a control room without internet, say).
window.heimdallWatchTiles = function (elementId) {
  const element = getElement(elementId);
  const notice = document.querySelector(".hl-tiles-notice");
  if (!element || !element.map || !notice) return;
  let loaded = 0;
  function watch(layer) {
    if (!(layer instanceof L.TileLayer) || layer._heimdallWatched) return;
    layer._heimdallWatched = true;
    layer.on("tileerror", function () { if (!loaded) notice.hidden = false; });
    layer.on("tileload", function () { loaded += 1; notice.hidden = true; });
  }
  element.map.eachLayer(watch);
  element.map.on("layeradd", function (e) { watch(e.layer); });
};

// Dark mode: the system's preference until the operator chooses; the choice is kept in
// this browser and applies on every page.
(function () {
  "use strict";
  const KEY = "heimdall-dark";
  function apply() {
    if (!(window.Quasar && Quasar.Dark)) return;
    const chosen = localStorage.getItem(KEY);
    const wanted = chosen === null ? "auto" : chosen === "true";
    if (Quasar.Dark.mode !== wanted) Quasar.Dark.set(wanted);
  }
  window.heimdallToggleDark = function () {
    const dark = !(window.Quasar && Quasar.Dark && Quasar.Dark.isActive);
    localStorage.setItem(KEY, String(dark));
    apply();
  };
  // Charts draw their own text (ECharts, on a canvas): give it the page's contrast in either mode.
  function chartText() {
    if (!(window.Quasar && Quasar.Dark)) return;
    const dark = Quasar.Dark.isActive;
    const color = dark ? "#e5e7eb" : "#374151";
    const lines = dark ? "rgba(229, 231, 235, .18)" : "rgba(55, 65, 81, .15)";
    document.querySelectorAll(".nicegui-echart").forEach(function (node) {
      const element = getElement(node.id.slice(1));
      const chart = element && element.chart;
      if (!chart || chart.hlDark === dark) return;
      chart.hlDark = dark;
      const axis = { axisLabel: { color: color }, nameTextStyle: { color: color },
                     splitLine: { lineStyle: { color: lines } } };
      chart.setOption({ textStyle: { color: color }, legend: { textStyle: { color: color } }, xAxis: axis, yAxis: axis });
    });
  }
  // NiceGUI sets its own mode when the page mounts: keep ours (a no-op once it holds).
  setInterval(function () { apply(); chartText(); }, 100);
})();

// The receivers on the network map: one clustered layer, drawn once with every receiver
// and recoloured with only the statuses that changed (ui/netmap.py).
window.heimdallReceivers = (function () {
  "use strict";
  const DOWN = ["offline", "unhealthy", "unreachable"];
  function escapeText(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }
  // A cluster is a ring of its members' states, each by its share (the way map clustering
  // usually shows a mix), the count inside; the worst state's count on a badge, and every
  // count in its label, so a few offline among many online are neither hidden nor blown up.
  const ORDER = [["online", "online"], ["degraded", "degraded"], ["down", "offline"], ["unknown", "not checked yet"]];
  function stateOf(status) {
    if (DOWN.includes(status)) return "down";
    if (status === "degraded") return "degraded";
    return status === "unknown" || !status ? "unknown" : "online";
  }
  function clusterIcon(cluster, colors) {
    const markers = cluster.getAllChildMarkers();
    const counts = { online: 0, degraded: 0, down: 0, unknown: 0 };
    for (const marker of markers) counts[stateOf(marker.hlStatus)] += 1;
    const color = { online: colors.online, degraded: colors.degraded, down: colors.offline, unknown: colors.unknown };
    let from = 0;
    const stops = [];
    for (const [state] of ORDER) {
      if (!counts[state]) continue;
      const to = from + (counts[state] / markers.length) * 360;
      stops.push(color[state] + " " + from.toFixed(1) + "deg " + to.toFixed(1) + "deg");
      from = to;
    }
    const worst = counts.down ? "down" : counts.degraded ? "degraded" : counts.unknown ? "unknown" : "online";
    const label = markers.length + " receivers: " + ORDER.filter(([state]) => counts[state])
      .map(([state, words]) => counts[state] + " " + words).join(", ");
    const badge = worst === "online" ? "" : '<span class="hl-cluster-badge hl-cluster-badge-' + worst + '">' +
      counts[worst] + "</span>";
    return L.divIcon({
      html: '<div class="hl-cluster hl-cluster-worst-' + worst + '" role="img" aria-label="' + label + '" title="' +
        label + '" style="background: conic-gradient(' + stops.join(", ") + ')"><span class="hl-cluster-count">' +
        markers.length + "</span>" + badge + "</div>",
      className: "hl-cluster-icon", iconSize: L.point(44, 44),
    });
  }
  function draw(elementId, receivers, colors, labelledUpTo) {
    const element = getElement(elementId);
    if (!element || !element.map) return;
    const map = element.map;
    if (element.hlReceivers) map.removeLayer(element.hlReceivers.layer);
    const clustered = typeof L.markerClusterGroup === "function" && receivers.length > labelledUpTo;
    const layer = clustered
      ? L.markerClusterGroup({ maxClusterRadius: 60, disableClusteringAtZoom: 13, showCoverageOnHover: false,
                               chunkedLoading: true,
                               iconCreateFunction: function (cluster) { return clusterIcon(cluster, colors); } })
      : L.layerGroup();
    const markers = new Map();
    for (const [id, name, lat, lon, status, href] of receivers) {
      const marker = L.circleMarker([lat, lon], {
        radius: 9, color: "#111827", weight: 2, fillColor: colors[status] || colors.unknown, fillOpacity: 0.9,
        className: "hl-receiver hl-receiver-" + id,
      });
      marker.hlStatus = status;
      // "auto": to the left of a receiver in the map's right half, so no label runs off its edge.
      marker.bindTooltip(escapeText(name), {
        permanent: receivers.length <= labelledUpTo, direction: "auto", className: "hl-map-label" });
      marker.on("click", function () { window.location.href = href; });
      markers.set(id, marker);
      layer.addLayer(marker);
    }
    map.addLayer(layer);
    element.hlReceivers = { layer: layer, markers: markers, colors: colors, clustered: clustered };
    if (!clustered) {
      if (element.hlDeclutter) map.off("zoomend", element.hlDeclutter);
      element.hlDeclutter = function () { declutter(map, markers); };
      map.on("zoomend", element.hlDeclutter);
      declutter(map, markers);
    }
  }
  // Labels of nearby receivers would overlap: a label that would cover one already placed
  // is hidden (in the order the receivers come, problems first) and shows on hover; at a
  // closer zoom, where they part, they all show.
  function declutter(map, markers) {
    const placed = [];
    for (const marker of markers.values()) {
      const tip = marker.getTooltip();
      const label = tip && tip.getElement();
      if (!label) continue;
      const at = map.latLngToContainerPoint(marker.getLatLng());
      const box = { x: at.x + 8, y: at.y - 11, w: label.offsetWidth || 7 * String(tip.getContent()).length + 12,
                    h: label.offsetHeight || 22 };
      const clash = placed.some(function (b) {
        return box.x < b.x + b.w && b.x < box.x + box.w && box.y < b.y + b.h && b.y < box.y + box.h;
      });
      label.classList.toggle("hl-map-label-hidden", clash);
      if (!clash) placed.push(box);
      if (!marker.hlHover) {
        marker.hlHover = true;
        marker.on("mouseover", function () { label.classList.remove("hl-map-label-hidden"); });
        marker.on("mouseout", function () { declutter(map, markers); });
      }
    }
  }
  function recolor(elementId, statuses) {
    const element = getElement(elementId);
    const drawn = element && element.hlReceivers;
    if (!drawn) return;
    const changed = [];
    for (const [id, status] of Object.entries(statuses)) {
      const marker = drawn.markers.get(id);
      if (!marker) continue;
      marker.hlStatus = status;
      marker.setStyle({ fillColor: drawn.colors[status] || drawn.colors.unknown });
      changed.push(marker);
    }
    if (drawn.clustered && changed.length) drawn.layer.refreshClusters(changed);
  }
  return { draw: draw, recolor: recolor };
})();

// The coverage layer (ui/netmap.py): a grid of the expected position error, one code per
// cell from the south-west, row by row ('0'.. class index, '-' no fix), drawn on a canvas
// as one image: 1,600 cells cost the map one layer, not 1,600.
window.heimdallCoverage = (function () {
  "use strict";
  function draw(elementId, grid, colors) {
    const element = getElement(elementId);
    if (!element || !element.map) return;
    if (element.hlCoverage) element.map.removeLayer(element.hlCoverage);
    element.hlCoverage = null;
    if (!grid || !grid.bounds) return;
    const n = grid.cells;
    const canvas = document.createElement("canvas");
    canvas.width = n;
    canvas.height = n;
    const context = canvas.getContext("2d");
    let painted = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const code = grid.codes[i * n + j];
        if (code === "-" || code === undefined) continue;
        context.fillStyle = colors[Number(code)];
        context.fillRect(j, n - 1 - i, 1, 1); // row 0 is the south: the canvas's bottom
        painted += 1;
      }
    }
    if (!painted) return; // no fix anywhere (too few ready): no layer, not an empty one
    const [south, west, north, east] = grid.bounds;
    const layer = L.imageOverlay(canvas.toDataURL(), [[south, west], [north, east]],
                                 { opacity: 0.45, interactive: false, className: "hl-coverage" });
    layer.addTo(element.map);
    layer.bringToBack();
    element.hlCoverage = layer;
  }
  return { draw: draw };
})();

// Localizations on the map (ui/netmap.py): the 1, 2 and 3 sigma ellipses, the point,
// dashed lines to the receivers that took part, and the details on a click. Text comes
// from producers: it is set as text, never as HTML.
window.heimdallLocalizations = (function () {
  "use strict";
  function textOf(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span;
  }
  function detailsOf(item) {
    const box = document.createElement("div");
    box.className = "hl-loc-details";
    const table = document.createElement("table");
    for (const [label, value] of item.details) {
      const row = table.insertRow();
      row.insertCell().textContent = label;
      row.insertCell().textContent = value;
    }
    box.appendChild(table);
    if (item.receivers.length) {
      const title = document.createElement("div");
      title.textContent = "Receivers that took part:";
      box.appendChild(title);
      const list = document.createElement("ul");
      for (const [, , name, href] of item.receivers) {
        const entry = document.createElement("li");
        const link = document.createElement(href ? "a" : "span");
        if (href) link.href = href;
        link.textContent = name;
        entry.appendChild(link);
        list.appendChild(entry);
      }
      box.appendChild(list);
    }
    return box;
  }
  function add(elementId, item, color, kept) {
    const element = getElement(elementId);
    if (!element || !element.map) return;
    const shown = element.hlLocalizations || (element.hlLocalizations = []);
    const group = L.featureGroup();
    item.rings.forEach(function (ring, index) { // 3 sigma first, so the 1 sigma lies on top
      L.polygon(ring, { color: color, weight: index === 2 ? 2 : 1, dashArray: index === 2 ? null : "4 4",
                        fillOpacity: [0.05, 0.08, 0.14][index], className: "hl-localization hl-sigma-" + (3 - index) })
        .addTo(group);
    });
    for (const [lat, lon] of item.receivers) {
      if (lat === null) continue; // not a receiver this gateway knows: listed, not drawn
      L.polyline([[item.lat, item.lon], [lat, lon]], { color: color, weight: 1, dashArray: "2 6", opacity: 0.8,
                                                       className: "hl-localization-link" }).addTo(group);
    }
    L.circleMarker([item.lat, item.lon], { radius: 5, color: "#1d4ed8", fillColor: "#1d4ed8", fillOpacity: 1,
                                            className: "hl-localization-point" })
      .bindTooltip(textOf(item.summary)).addTo(group);
    group.bindPopup(function () { return detailsOf(item); }, { maxWidth: 320 });
    group.addTo(element.map);
    shown.push(group);
    while (shown.length > kept) element.map.removeLayer(shown.shift());
  }
  return { add: add };
})();
