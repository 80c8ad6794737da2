// The conversation log's viewer, served by `talkdesk serve`.
//
// Every value of an event reaches the page as text (textContent, or an
// attribute set through the DOM), never as markup: a contact named
// <img src=x onerror=alert(1)> shows as those characters.
'use strict';

(function () {
  const FILTERS = ['agent_id', 'contact_id', 'interaction_id', 'type'];
  const MAX_ROWS = 500;
  const CALL_ENDS = new Set(['inboundCallEnds', 'outboundCallEnds', 'reportedCall']);
  const SVG = 'http://www.w3.org/2000/svg';

  const params = new URLSearchParams(location.search);
  const filters = new URLSearchParams();
  for (const f of FILTERS) {
    const v = (params.get(f) || '').trim();
    if (v) filters.set(f, v);
  }
  const conversation = (params.get('conversation') || '').trim();

  const seen = new Set(); // the IDs of the events in the list
  const held = []; // the events in the list, newest first, for the charts
  let conversationEvents = [];
  let lastStreamID = '';

  const $ = (id) => document.getElementById(id);

  // el makes an element with attributes and children; strings become text.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === undefined || c === null || c === '') continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  function status(text, kind) {
    const s = $('status');
    s.textContent = text;
    s.className = kind || '';
  }

  // viewURL is the page's URL for a view: the filters given, and a
  // conversation to open.
  function viewURL(f, conv) {
    const q = new URLSearchParams(f);
    if (conv) q.set('conversation', conv);
    const s = q.toString();
    return s ? '/?' + s : '/';
  }

  // Numbers and texts of a payload, whichever way Talkdesk sent them.
  function num(v) {
    const n = typeof v === 'number' ? v : parseFloat(v);
    return Number.isFinite(n) ? n : null;
  }
  function str(v) {
    if (v === undefined || v === null) return '';
    return Array.isArray(v) ? v.join(', ') : String(v);
  }

  // duration writes seconds as "2 min 34 s".
  function duration(sec) {
    if (sec === null || sec === undefined || !Number.isFinite(sec)) return '';
    let s = Math.round(Math.abs(sec));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    s %= 60;
    const parts = [];
    if (h) parts.push(h + ' h');
    if (m) parts.push(m + ' min');
    if (s || parts.length === 0) parts.push(s + ' s');
    return (sec < 0 ? '−' : '') + parts.join(' ');
  }

  function when(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return el('span', {}, str(iso));
    return el('time', { datetime: iso, title: d.toISOString().replace('.000Z', 'Z') + ' (UTC)' }, d.toLocaleString());
  }

  function agentOf(ev) {
    const p = ev.payload || {};
    if (ev.actor && ev.actor.type === 'agent' && ev.actor.name) return ev.actor.name;
    return str(p.agent_name || p.user_name || ev.agent_id);
  }

  function contactOf(ev) {
    const p = ev.payload || {};
    return str(p.contact_name || ev.contact_id || p.contact_phone_number);
  }

  // summary is one line on an event, by its type.
  function summary(ev) {
    const p = ev.payload || {};
    switch (ev.type) {
      case 'inboundCallEnds':
      case 'outboundCallEnds': {
        const dir = str(p.interaction_type) || (ev.type === 'inboundCallEnds' ? 'inbound' : 'outbound');
        const parts = [dir + ' call ended'];
        if (num(p.duration) !== null) parts.push(duration(num(p.duration)) + ' talking');
        if (p.hangup) parts.push(str(p.hangup) + ' hung up');
        return parts.join(', ');
      }
      case 'reportedCall': {
        const parts = [(str(p.type) || 'call') + ' (from Explore)'];
        if (num(p.talk_time) !== null) parts.push(duration(num(p.talk_time)) + ' talking');
        if (p.hangup) parts.push(str(p.hangup) + ' hung up');
        return parts.join(', ');
      }
      case 'inboundCallReachesContactCenter':
        return 'call from ' + (str(p.contact_phone_number) || 'an unknown number') + ' reached ' + (str(p.talkdesk_phone_number) || 'the contact centre');
      case 'inboundCallStarts': {
        const w = num(p.waiting_time);
        return 'answered by ' + (str(p.agent_name) || str(ev.agent_id) || 'an agent') + (w !== null ? ' after ' + duration(w) : '');
      }
      case 'noteCreated':
        return 'note: ' + [str(p.title), str(p.content)].filter(Boolean).join(': ');
      case 'contactCreated':
        return 'contact created: ' + contactOf(ev);
      case 'contactUpdated':
        return 'contact updated: ' + contactOf(ev);
      case 'agentLogIn':
        return (str(p.agent_name) || str(ev.agent_id)) + ' logged in';
      case 'agentLogOut':
        return (str(p.agent_name) || str(ev.agent_id)) + ' logged out';
      default:
        return str(ev.event || ev.type);
    }
  }

  // details holds an event's payload and raw body, written when opened.
  function details(ev, label) {
    const d = el('details', {}, el('summary', {}, label));
    d.addEventListener('toggle', () => {
      if (!d.open || d.dataset.filled) return;
      d.dataset.filled = '1';
      d.append(
        el('h4', {}, 'Payload'),
        el('pre', { class: 'payload' }, JSON.stringify(ev.payload, null, 2)),
        el('h4', {}, 'Raw body, as Talkdesk sent it'),
        el('pre', { class: 'raw' }, JSON.stringify(ev.raw, null, 2)),
      );
      if (ev.warnings && ev.warnings.length) {
        d.append(el('h4', {}, 'Warnings'), el('pre', { class: 'warnings' }, JSON.stringify(ev.warnings, null, 2)));
      }
    });
    return d;
  }

  function row(ev) {
    const f = new URLSearchParams(filters);
    const agent = agentOf(ev);
    let agentCell = agent;
    if (ev.agent_id) {
      const af = new URLSearchParams(filters);
      af.set('agent_id', ev.agent_id);
      agentCell = el('a', { href: viewURL(af), class: 'agent', title: 'Only the events of agent ' + ev.agent_id }, agent || ev.agent_id);
    }
    let interaction = '';
    if (ev.interaction_id) {
      interaction = el('a', { href: viewURL(f, ev.interaction_id), class: 'interaction', title: 'Open this conversation' }, ev.interaction_id);
    }
    const tr = el('tr', { 'data-id': ev.id, 'data-type': ev.type, 'data-agent': ev.agent_id || '' },
      el('td', { 'data-label': 'Time' }, when(ev.occurred_at)),
      el('td', { 'data-label': 'Type' }, ev.type),
      el('td', { 'data-label': 'Agent', class: 'agent-cell' }, agentCell),
      el('td', { 'data-label': 'Contact', class: 'contact' }, contactOf(ev)),
      el('td', { 'data-label': 'Interaction' }, interaction),
      el('td', { 'data-label': 'Summary', class: 'summary' }, details(ev, summary(ev))),
    );
    return tr;
  }

  // add puts events in the list: live ones at the top.
  function add(evs, live) {
    const body = $('events').tBodies[0];
    const frag = document.createDocumentFragment();
    let added = 0;
    for (const ev of evs) {
      if (!ev || !ev.id || seen.has(ev.id)) continue;
      seen.add(ev.id);
      held.unshift(ev);
      frag.prepend(row(ev));
      added++;
      if (live && conversation && ev.interaction_id === conversation) {
        conversationEvents.push(ev);
        renderConversation();
      }
    }
    if (!added) return;
    body.prepend(frag);
    while (body.rows.length > MAX_ROWS) {
      const last = body.rows[body.rows.length - 1];
      seen.delete(last.dataset.id);
      last.remove();
      held.pop();
    }
    $('empty').hidden = true;
    if (!document.documentElement.dataset.firstEventMs) {
      document.documentElement.dataset.firstEventMs = String(Math.round(performance.now()));
    }
    scheduleCharts();
  }

  // The charts, drawn from the events in the list.
  let chartsPending = false;
  function scheduleCharts() {
    if (chartsPending) return;
    chartsPending = true;
    setTimeout(() => {
      chartsPending = false;
      drawCharts();
    }, 250);
  }

  function drawCharts() {
    const calls = held.filter((ev) => CALL_ENDS.has(ev.type));
    const hours = new Array(24).fill(0);
    const agents = new Map();
    for (const ev of calls) {
      const d = new Date(ev.occurred_at);
      if (!Number.isNaN(d.getTime())) hours[d.getHours()]++;
      const a = agentOf(ev) || 'no agent';
      agents.set(a, (agents.get(a) || 0) + 1);
    }
    barsByHour($('chart-hours'), hours, calls.length);
    barsByAgent($('chart-agents'), [...agents.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 8), calls.length);
  }

  function barsByHour(box, hours, total) {
    const max = Math.max(1, ...hours);
    const w = 480, h = 140, bw = w / 24;
    const s = svg('svg', { viewBox: `0 0 ${w} ${h + 20}`, role: 'img', 'aria-labelledby': 'hours-title hours-desc', class: 'chart' });
    s.append(svg('desc', { id: 'hours-desc' }, total + ' calls; busiest hour ' + hours.indexOf(Math.max(...hours)) + ':00'));
    hours.forEach((n, i) => {
      const bh = Math.round((n / max) * h);
      const bar = svg('rect', { x: i * bw + 1, y: h - bh, width: bw - 2, height: bh, class: 'bar' });
      bar.append(svg('title', {}, `${i}:00–${i}:59: ${n} call${n === 1 ? '' : 's'}`));
      s.append(bar);
      if (i % 3 === 0) s.append(svg('text', { x: i * bw + bw / 2, y: h + 15, 'text-anchor': 'middle', class: 'axis' }, String(i)));
    });
    box.replaceChildren(s);
  }

  function barsByAgent(box, rows, total) {
    if (!rows.length) {
      box.replaceChildren(el('p', { class: 'hint' }, 'No call on this page yet.'));
      return;
    }
    const max = Math.max(1, ...rows.map((r) => r[1]));
    const w = 480, rh = 22, label = 170;
    const s = svg('svg', { viewBox: `0 0 ${w} ${rows.length * rh}`, role: 'img', 'aria-labelledby': 'agents-title agents-desc', class: 'chart' });
    s.append(svg('desc', { id: 'agents-desc' }, total + ' calls by ' + rows.length + ' agents'));
    rows.forEach(([name, n], i) => {
      const y = i * rh;
      s.append(svg('text', { x: label - 6, y: y + 15, 'text-anchor': 'end', class: 'label' }, name.length > 24 ? name.slice(0, 23) + '…' : name));
      const bar = svg('rect', { x: label, y: y + 3, width: Math.max(2, ((w - label - 40) * n) / max), height: rh - 6, class: 'bar' });
      bar.append(svg('title', {}, `${name}: ${n} call${n === 1 ? '' : 's'}`));
      s.append(bar, svg('text', { x: label + ((w - label - 40) * n) / max + 4, y: y + 15, class: 'value' }, String(n)));
    });
    box.replaceChildren(s);
  }

  // The conversation: its timeline in the log's order, with the time
  // between steps and the phases of its call.
  const PHASE = {
    'inboundCallReachesContactCenter>inboundCallStarts': 'waiting',
    'inboundCallStarts>inboundCallEnds': 'talking',
  };

  function order(a, b) {
    const ta = Date.parse(a.occurred_at), tb = Date.parse(b.occurred_at);
    if (ta !== tb) return ta - tb;
    if (a.occurred_at !== b.occurred_at) return a.occurred_at < b.occurred_at ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  }

  function renderConversation() {
    const evs = conversationEvents.slice().sort(order);
    const list = $('timeline');
    const items = [];
    let prev = null;
    for (const ev of evs) {
      const li = el('li', { 'data-id': ev.id, 'data-type': ev.type });
      if (prev) {
        const gap = (Date.parse(ev.occurred_at) - Date.parse(prev.occurred_at)) / 1000;
        const phase = PHASE[prev.type + '>' + ev.type];
        li.append(el('p', { class: 'gap', 'data-phase': phase || '' }, '+' + duration(gap) + (phase ? ' ' + phase : '')));
      }
      li.append(
        el('p', { class: 'step' }, when(ev.occurred_at), ' ', el('strong', {}, ev.type), ' ', agentOf(ev) ? '· ' + agentOf(ev) : ''),
        details(ev, summary(ev)),
      );
      items.push(li);
      prev = ev;
    }
    list.replaceChildren(...items);
    if (!evs.length) list.replaceChildren(el('li', {}, 'No event of this interaction in the log.'));

    // The phases, from the call's last report of its durations.
    const ends = evs.filter((ev) => CALL_ENDS.has(ev.type)).pop();
    const dl = $('phases');
    const phases = [];
    if (ends) {
      const p = ends.payload || {};
      if (ends.type === 'reportedCall') {
        phases.push(['Ringing', num(p.total_ringing_time)], ['Waiting', num(p.wait_time)], ['Talking', num(p.talk_time)], ['On hold', num(p.hold_time)], ['Total', num(p.total_time)]);
      } else {
        const total = num(p.total_duration), talk = num(p.duration), hold = num(p.hold_time);
        if (ends.type === 'outboundCallEnds' && total !== null && talk !== null) phases.push(['Ringing', total - talk]);
        else phases.push(['Waiting', num(p.waiting_time)]);
        phases.push(['Talking', talk !== null ? talk - (hold || 0) : null], ['On hold', hold], ['Total', total]);
      }
    }
    dl.replaceChildren(...phases.filter(([, v]) => v !== null).map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', { 'data-phase': k.toLowerCase() }, duration(v)))));
  }

  async function loadConversation() {
    const sec = $('conversation');
    sec.hidden = false;
    $('conversation-title').textContent = 'Conversation ' + conversation;
    $('conversation-close').href = viewURL(filters);
    const evs = [];
    let cursor = '';
    for (let i = 0; i < 20; i++) {
      const q = new URLSearchParams({ interaction_id: conversation, limit: '1000' });
      if (cursor) q.set('cursor', cursor);
      const res = await fetch('/events?' + q, { headers: { Accept: 'application/json' } });
      if (!res.ok) throw new Error('the conversation could not be read (' + res.status + ')');
      const page = await res.json();
      evs.push(...page.events);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    const ids = new Set(evs.map((ev) => ev.id));
    conversationEvents = evs.concat(conversationEvents.filter((ev) => !ids.has(ev.id)));
    renderConversation();
    $('conversation-title').focus();
  }

  // The live stream, after the newest event read; EventSource resumes
  // after a cut with Last-Event-ID, and a stream refused (a session ended,
  // a server restarting) is opened again once the session is known good.
  let stream = null;
  // A page being left closes its stream first: Firefox cuts it when a
  // navigation starts, and would report the cut as an error.
  const leave = () => {
    if (stream) stream.close();
  };
  window.addEventListener('beforeunload', leave);
  window.addEventListener('pagehide', leave);

  function follow(after) {
    const q = new URLSearchParams(filters);
    if (after) q.set('after', after);
    const es = new EventSource('/events/stream?' + q);
    stream = es;
    es.onopen = () => status('Live: new events appear as they arrive.', 'live');
    es.onmessage = (m) => {
      lastStreamID = m.lastEventId || lastStreamID;
      let ev;
      try {
        ev = JSON.parse(m.data);
      } catch (e) {
        return;
      }
      add([ev], true);
    };
    es.onerror = () => {
      if (es.readyState !== EventSource.CLOSED) {
        status('Reconnecting…', 'warn');
        return;
      }
      es.close();
      status('Disconnected; trying again…', 'warn');
      setTimeout(async () => {
        const res = await fetch('/viewer/recent?' + filters).catch(() => null);
        if (res && res.status === 401) {
          status('Your session has ended: reload the page to log in again.', 'error');
          return;
        }
        follow(lastStreamID || after);
      }, 3000);
    };
  }

  async function start() {
    for (const f of FILTERS) {
      const input = document.querySelector(`#filters [name="${f}"]`);
      if (input) input.value = filters.get(f) || '';
    }
    $('filters').addEventListener('submit', (e) => {
      e.preventDefault();
      const f = new URLSearchParams();
      for (const name of FILTERS) {
        const v = $('filters').elements[name].value.trim();
        if (v) f.set(name, v);
      }
      location.assign(viewURL(f));
    });
    if (filters.toString()) {
      $('events-title').textContent = 'Latest events where ' + [...filters].map(([k, v]) => `${k.replace('_id', '')} is ${v}`).join(' and ');
    }

    let res;
    try {
      res = await fetch('/viewer/recent?' + filters);
    } catch (e) {
      status('The server cannot be reached.', 'error');
      return;
    }
    if (res.status === 401) {
      location.reload();
      return;
    }
    const ans = await res.json();
    if (!res.ok) {
      status('The log could not be read: ' + (ans.error || res.status), 'error');
      return;
    }
    $('logout').hidden = !ans.session;
    add(ans.events, false);
    $('empty').hidden = ans.events.length > 0;
    drawCharts();
    document.documentElement.dataset.loaded = '1';
    status('Connecting…');
    const newest = ans.events.length ? ans.events[ans.events.length - 1].id : '';
    follow(ans.after || newest);
    if (conversation) {
      loadConversation().catch((e) => status(String(e.message || e), 'error'));
    }
  }

  start();
})();
