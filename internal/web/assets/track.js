// GoShop's order tracking page (GET /track/{order_id}). Hand-written, no library, served from
// /assets so that the page's CSP can say script-src 'self' and hold no inline script.
//
// The buyer signs in here with their GoShop account (POST /api/v1/auth/login); the tokens are
// kept in sessionStorage (this tab only, gone when it closes). The page then reads the order,
// its status history and its shipment through the API with the buyer's token, exactly as any
// client would: the API decides what this account may see, and another account's order answers
// 404, shown as "not found". The shipper's position comes live from the WebSocket stream
// /api/v1/shipping/{order_id}/live-tracking, authenticated with ?token= because a browser cannot
// set headers on an upgrade. Everything is drawn from the API's numbers on an inline SVG: no
// request leaves this server.
(function () {
  'use strict';

  var API = '/api/v1';
  var KEY = 'goshop.track.session';
  var W = 320, H = 220, MARGIN = 24;

  var $ = function (id) { return document.getElementById(id); };
  var orderId = $('track').getAttribute('data-order');
  var T = JSON.parse($('track-text').textContent);
  var state = { session: loadSession(), ws: null, retry: 0, timer: 0, shipment: null, trail: [] };

  function loadSession() {
    try {
      var s = JSON.parse(sessionStorage.getItem(KEY));
      return s && s.access_token ? s : null;
    } catch (e) {
      return null;
    }
  }

  // call sends a JSON request to the API and reads the answer whole: {status, body}.
  async function call(method, path, body, token) {
    var headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    token = token || (state.session && state.session.access_token);
    if (token) headers.Authorization = 'Bearer ' + token;
    var res = await fetch(API + path, {
      method: method, headers: headers, credentials: 'omit', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    var data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
    return { status: res.status, body: data };
  }

  // --- views ---------------------------------------------------------------------------------

  function show(view, message, kind) {
    $('signin').hidden = view !== 'signin';
    $('order').hidden = view !== 'order';
    var m = $('message');
    m.hidden = !message;
    m.textContent = message || '';
    m.setAttribute('data-kind', kind || '');
    $('signout').hidden = !state.session;
  }

  function when(at) {
    var d = new Date(at);
    if (isNaN(d.getTime())) return '';
    return d.toLocaleString(T.locale, { dateStyle: 'short', timeStyle: 'medium' });
  }

  function money(amount, currency) {
    try {
      var f = new Intl.NumberFormat(T.locale, { style: 'currency', currency: currency || 'VND' });
      var digits = f.resolvedOptions().maximumFractionDigits;
      return f.format(amount / Math.pow(10, digits)); // the API counts minor units
    } catch (e) {
      return amount + ' ' + (currency || '');
    }
  }

  function label(prefix, status) {
    return T[prefix + status] || status;
  }

  function renderOrder(o) {
    $('order-status').textContent = label('st_', o.status);
    $('order-status').setAttribute('data-status', o.status);
    $('order-total').textContent = money(o.total, o.currency);
  }

  function renderHistory(moves) {
    var ol = $('timeline');
    while (ol.firstChild) ol.removeChild(ol.firstChild);
    moves.forEach(function (m, i) {
      var li = document.createElement('li');
      li.setAttribute('data-status', m.to);
      if (i === moves.length - 1) li.className = 'current';
      var b = document.createElement('strong');
      b.textContent = label('st_', m.to);
      li.appendChild(b);
      var w = document.createElement('span');
      w.className = 'when';
      w.textContent = when(m.at) + (m.actor_role ? ' · ' + (T['by_' + m.actor_role] || m.actor_role) : '') +
        (m.reason ? ' · ' + m.reason : '');
      li.appendChild(w);
      ol.appendChild(li);
    });
  }

  function renderShipment(sh) {
    state.shipment = sh;
    var text = label('sh_', sh.status);
    if (sh.status === 'awaiting_pickup' && !sh.shipper_id) text += ' — ' + T.waiting_shipper;
    $('shipment-status').textContent = text;
    $('shipment-status').setAttribute('data-status', sh.status);
    // The trail: the positions the timeline recorded, then the last one known, then those the
    // stream brought that are newer than this answer (it may have been read before they came).
    var lastAt = sh.last_location ? Date.parse(sh.last_location.at) : 0;
    var newer = state.trail.filter(function (p) { return Date.parse(p.at) > lastAt; });
    state.trail = [];
    (sh.events || []).forEach(function (e) {
      if (e.location) state.trail.push({ lat: e.location.lat, lng: e.location.lng, at: e.at });
    });
    if (sh.last_location) state.trail.push(sh.last_location);
    state.trail = state.trail.concat(newer);
    drawMap();
  }

  function noShipment() {
    state.shipment = null;
    state.trail = [];
    $('shipment-status').textContent = T.no_shipment;
    $('shipment-status').setAttribute('data-status', '');
    drawMap();
  }

  // --- the map: points projected from lat/lng onto the SVG ---------------------------------

  function projection(points) {
    var minLat = Infinity, maxLat = -Infinity, minLng = Infinity, maxLng = -Infinity;
    points.forEach(function (p) {
      minLat = Math.min(minLat, p.lat); maxLat = Math.max(maxLat, p.lat);
      minLng = Math.min(minLng, p.lng); maxLng = Math.max(maxLng, p.lng);
    });
    // A degree of longitude is shorter than one of latitude away from the equator.
    var k = Math.cos(((minLat + maxLat) / 2) * Math.PI / 180);
    var spanX = Math.max((maxLng - minLng) * k, 0.004);
    var spanY = Math.max(maxLat - minLat, 0.004);
    var scale = Math.min((W - 2 * MARGIN) / spanX, (H - 2 * MARGIN) / spanY);
    var offX = (W - (maxLng - minLng) * k * scale) / 2;
    var offY = (H - (maxLat - minLat) * scale) / 2;
    return function (p) {
      return { x: offX + (p.lng - minLng) * k * scale, y: H - offY - (p.lat - minLat) * scale };
    };
  }

  function place(el, pt, p) {
    if (!pt) {
      el.setAttribute('visibility', 'hidden');
      return;
    }
    el.setAttribute('cx', pt.x.toFixed(1));
    el.setAttribute('cy', pt.y.toFixed(1));
    el.setAttribute('data-lat', String(p.lat));
    el.setAttribute('data-lng', String(p.lng));
    el.setAttribute('visibility', 'visible');
  }

  function drawMap() {
    var sh = state.shipment;
    var start = sh ? sh.pickup : null;
    var dest = sh && sh.dropoff ? sh.dropoff : null;
    var here = state.trail.length ? state.trail[state.trail.length - 1] : null;
    var points = state.trail.slice();
    if (start) points.push(start);
    if (dest) points.push(dest);
    var proj = points.length ? projection(points) : null;
    var ps = start && proj(start), pd = dest && proj(dest), ph = here && proj(here);
    place($('start'), ps, start);
    place($('dest'), pd, dest);
    place($('shipper'), ph, here);
    var route = $('route');
    if (ps && pd) {
      route.setAttribute('x1', ps.x.toFixed(1)); route.setAttribute('y1', ps.y.toFixed(1));
      route.setAttribute('x2', pd.x.toFixed(1)); route.setAttribute('y2', pd.y.toFixed(1));
      route.setAttribute('visibility', 'visible');
    } else {
      route.setAttribute('visibility', 'hidden');
    }
    $('trail').setAttribute('points', state.trail.map(function (p) {
      var q = proj(p);
      return q.x.toFixed(1) + ',' + q.y.toFixed(1);
    }).join(' '));
    $('position').textContent = here ? T.last_seen + ' ' + when(here.at) : (sh ? T.no_position : '');
  }

  // --- loading -------------------------------------------------------------------------------

  function expired() {
    forget();
    show('signin');
    $('signin-error').textContent = T.expired;
  }

  function notFound() {
    disconnect();
    show('message', T.not_found + ' ' + T.not_found_hint, 'not-found');
  }

  // open reads the order with the signed-in account and follows it; false when it may not.
  // Quiet (a reconnection) keeps what is shown while it reads.
  async function open(quiet) {
    if (!quiet) show('message', T.loading, 'loading');
    var o;
    try {
      o = await call('GET', '/orders/' + encodeURIComponent(orderId));
    } catch (e) {
      if (quiet) retryLater(); else show('message', T.error, 'error');
      return false;
    }
    if (o.status === 401) { expired(); return false; }
    if (o.status === 404 || o.status === 403) { notFound(); return false; }
    if (o.status !== 200) {
      if (quiet) retryLater(); else show('message', T.error, 'error');
      return false;
    }
    renderOrder(o.body);
    show('order');
    await Promise.all([loadHistory(), loadTracking()]);
    connect();
    return true;
  }

  async function loadOrder() {
    var o = await call('GET', '/orders/' + encodeURIComponent(orderId));
    if (o.status === 200) renderOrder(o.body);
  }

  async function loadHistory() {
    var r = await call('GET', '/orders/' + encodeURIComponent(orderId) + '/status-history');
    if (r.status === 200) renderHistory(r.body.items || []);
  }

  async function loadTracking() {
    var r = await call('GET', '/shipping/' + encodeURIComponent(orderId) + '/tracking');
    if (r.status === 200) renderShipment(r.body);
    else if (r.status === 404) noShipment();
  }

  // --- live ----------------------------------------------------------------------------------

  function setLive(on) {
    var live = $('live');
    live.setAttribute('data-state', on ? 'on' : 'off');
    live.textContent = on ? '● ' + T.live : T.offline;
    $('map').setAttribute('data-live', on ? 'on' : 'off');
  }

  function connect() {
    if (!state.session || state.ws) return;
    var scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    var ws = new WebSocket(scheme + '//' + location.host + API + '/shipping/' + encodeURIComponent(orderId) +
      '/live-tracking?token=' + encodeURIComponent(state.session.access_token));
    state.ws = ws;
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      onLive(m);
    };
    ws.onclose = function () {
      if (state.ws !== ws) return;
      state.ws = null;
      setLive(false);
      retryLater();
    };
  }

  // retryLater backs off, then asks the API before the stream again: the token may have
  // expired, or the order become another's to see.
  function retryLater() {
    clearTimeout(state.timer);
    var delay = Math.min(30000, 1000 * Math.pow(2, state.retry++));
    state.timer = setTimeout(function () { if (state.session) open(true); }, delay);
  }

  function disconnect() {
    clearTimeout(state.timer);
    var ws = state.ws;
    state.ws = null;
    if (ws) ws.close();
  }

  function onLive(m) {
    var d = m.data || {};
    switch (m.type) {
      case 'subscribed':
        state.retry = 0;
        setLive(true);
        break;
      case 'shipment':
        renderShipment(d);
        break;
      case 'location':
        state.trail.push({ lat: d.lat, lng: d.lng, at: d.at || m.at });
        if (state.trail.length > 500) state.trail.shift();
        drawMap();
        break;
      case 'status':
      case 'assigned':
        loadTracking();
        loadOrder();
        loadHistory();
        break;
    }
  }

  // --- signing in and out --------------------------------------------------------------------

  function forget() {
    disconnect();
    state.session = null;
    state.shipment = null;
    state.trail = [];
    sessionStorage.removeItem(KEY);
  }

  $('signin-form').addEventListener('submit', async function (ev) {
    ev.preventDefault();
    var err = $('signin-error'), button = $('signin-submit');
    err.textContent = '';
    button.disabled = true;
    try {
      var r = await call('POST', '/auth/login', { email: $('email').value.trim(), password: $('password').value });
      if (r.status === 200) {
        state.session = { access_token: r.body.access_token, refresh_token: r.body.refresh_token };
        sessionStorage.setItem(KEY, JSON.stringify(state.session));
        $('password').value = '';
        await open();
      } else if (r.status === 401) {
        err.textContent = T.bad_login;
      } else if (r.status === 429) {
        err.textContent = T.too_many;
      } else {
        err.textContent = T.error;
      }
    } catch (e) {
      err.textContent = T.error;
    } finally {
      button.disabled = false;
    }
  });

  $('signout').addEventListener('click', function () {
    var s = state.session;
    forget();
    show('signin');
    if (s && s.refresh_token) {
      // Ends the session on the server too; the page has forgotten it whatever the answer.
      call('POST', '/auth/logout', { refresh_token: s.refresh_token }, s.access_token).catch(function () {});
    }
  });

  if (state.session) open(); else show('signin');
})();
