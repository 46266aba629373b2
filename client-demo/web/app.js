// mqchat in the browser: MQTT over WebSocket to the same broker, the protocol of docs/PROTOCOL.md.
'use strict';

const P = Protocol;
const $ = (id) => document.getElementById(id);

const state = {
  me: null,
  client: null,
  summaries: [],            // retained users/<me>/conversations
  conversations: new Map(), // room -> conversation state (below)
  active: null,             // room on screen
  presence: new Map(),      // user -> {status, since}
  watchedPresence: new Set(),
  requests: new Map(),      // request_id -> {room, kind}
  typingTimer: null,
  lastTypingSent: 0,
  settings: new Map(),      // room -> {archived, muted} (issue 17: archive/mute)
  userRequests: new Map(),  // request_id -> kind, for users/<me>/requests/<kind> (search, archived, group)
  groups: new Map(),        // room -> {name, members: [{user, role}]} as the last group answer said (issue 17)
};

function conversation(room) {
  if (!state.conversations.has(room)) {
    state.conversations.set(room, {
      room, peer: P.peerOf(room, state.me),
      messages: [], byId: new Map(), pending: new Map(),
      loaded: false, hasMore: false, loadingOlder: false,
      peerReadUpTo: '', lastReadSent: '', editing: null,
      replyTo: null, picking: null,  // issue 17: the message being answered, the one whose emoji picker is open
    });
  }
  return state.conversations.get(room);
}

// ---------------------------------------------------------------- connection

function login(username, password) {
  $('login-error').hidden = true;
  $('login-button').disabled = true;
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
  const client = mqtt.connect(url, {
    protocolVersion: 5, username, password,
    clientId: `web-${username}-${P.randomId()}`,  // 96 random bits: a client id must not be guessable
    clean: true, reconnectPeriod: 2000, connectTimeout: 5000, keepalive: 20,
  });
  let everConnected = false;
  client.on('connect', () => {
    everConnected = true;
    showBanner(null);
    if (!state.me) enterApp(username, client);
    subscribeAll();
  });
  client.on('reconnect', () => { if (everConnected) showBanner('Reconnecting…', 'warn'); });
  client.on('offline', () => { if (everConnected) showBanner('Connection lost — reconnecting…', 'warn'); });
  client.on('error', (err) => {
    if (everConnected) return showBanner(`Connection problem: ${err.message}`, 'warn');
    client.end(true);
    $('login-button').disabled = false;
    const refused = err.code === 134 || err.code === 135 || err.code === 4 || err.code === 5;
    showLoginError(refused ? 'Wrong username or password.' : `Cannot connect: ${err.message}`);
  });
  client.on('message', onMessage);
}

function subscribeAll() {
  const c = state.client;
  c.subscribe(P.topics.mine(state.me), { qos: 1 });
  state.watchedPresence.forEach((u) => c.subscribe(P.topics.presence(u), { qos: 1 }));
  if (state.active) {
    subscribeRoom(state.active);
    catchUp(conversation(state.active));
  }
  state.conversations.forEach((conv) => conv.pending.forEach((p) => { if (p.status === 'sending') publishPending(conv, p); }));
}

function subscribeRoom(room) {
  state.client.subscribe([P.topics.messages(room), P.topics.events(room)], { qos: 1 });
  state.client.subscribe(P.topics.typing(room), { qos: 0, nl: true }); // only the peer's typing
}

function watchPresence(user) {
  if (!user) return;  // a group room has no one peer
  if (state.watchedPresence.has(user)) return;
  state.watchedPresence.add(user);
  if (state.client && state.client.connected) state.client.subscribe(P.topics.presence(user), { qos: 1 });
}

function publish(topic, payload, qos = 1) {
  return new Promise((resolve, reject) => {
    state.client.publish(topic, JSON.stringify(payload), { qos }, (err) => (err ? reject(err) : resolve()));
  });
}

function request(room, channel, payload, kind) {
  const request_id = P.randomId();
  state.requests.set(request_id, { room, kind });
  return publish(`chat/${room}/${channel}`, { ...payload, request_id }).catch((err) => {
    state.requests.delete(request_id);
    toast(`Request refused: ${err.message}`);
  });
}

// ---------------------------------------------------------------- incoming

function onMessage(topic, buffer) {
  let body;
  try { body = JSON.parse(buffer.toString()); } catch { return; }
  const t = P.parseTopic(topic);
  if (t.kind === 'user' && t.user === state.me) {
    if (t.leaf === 'conversations') onSummaries(body);
    else if (t.leaf === 'history') onHistory(body);
    else if (t.leaf === 'errors') onError(body);
    else if (t.leaf === 'search') onSearchResults(body);
    else if (t.leaf === 'archived') onArchivedList(body);
    else if (t.leaf === 'settings') onSettings(body);
    else if (t.leaf === 'groups') onGroupAnswer(body);
    else if (t.leaf === 'presence') onPresence(t.user, body);
  } else if (t.kind === 'user' && t.leaf === 'presence') {
    onPresence(t.user, body);
  } else if (t.kind === 'chat') {
    const conv = conversation(t.room);
    if (t.channel === 'messages') onChatMessage(conv, body);
    else if (t.channel === 'events') onEvent(conv, body);
    else if (t.channel === 'typing') onTyping(conv);
  }
}

function onSummaries(list) {
  if (!Array.isArray(list)) return;
  state.summaries = list;
  list.forEach((s) => state.settings.set(s.room, { archived: false, muted: Boolean(s.muted) }));
  if (state.active) renderChatTools(conversation(state.active));
  list.forEach((s) => { if (s.with) watchPresence(s.with); });  // groups have no "with"
  renderConversations();
}

function insertMessage(conv, m) {
  if (conv.byId.has(m.id)) { Object.assign(conv.byId.get(m.id), m); return false; }
  conv.byId.set(m.id, m);
  conv.messages.push(m);
  conv.messages.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)); // UUIDv7: id order is time order
  return true;
}

function onHistory(page) {
  const req = state.requests.get(page.request_id);
  if (!req) return;
  state.requests.delete(page.request_id);
  const conv = conversation(req.room);
  const list = $('messages');
  const fromBottom = list.scrollHeight - list.scrollTop;
  page.messages.forEach((m) => insertMessage(conv, m));
  if (req.kind === 'initial') { conv.loaded = true; conv.hasMore = page.has_more; }
  if (req.kind === 'older') { conv.loadingOlder = false; conv.hasMore = page.has_more; }
  if (req.kind === 'catchup' && page.has_more) catchUp(conv);
  if (conv.room !== state.active) return;
  renderMessages(conv);
  if (req.kind === 'older') list.scrollTop = list.scrollHeight - fromBottom; // keep what the reader was looking at
  else scrollToBottom();
  markRead(conv);
}

function onChatMessage(conv, m) {
  if (m.sender === state.me && m.client_id) {
    const p = conv.pending.get(m.client_id);
    if (p) { clearTimeout(p.timer); conv.pending.delete(m.client_id); }
  }
  insertMessage(conv, m);
  if (conv.room !== state.active) return;
  const atBottom = isAtBottom();
  if (m.sender !== state.me) $('typing').hidden = true;
  renderMessages(conv);
  if (atBottom || m.sender === state.me) scrollToBottom();
  markRead(conv);
}

function onEvent(conv, e) {
  if (e.event === 'read' && e.reader !== state.me) {
    const upTo = e.up_to || e.message_id;
    if (upTo > conv.peerReadUpTo) conv.peerReadUpTo = upTo;
  } else if (e.event === 'edited' && conv.byId.has(e.id)) {
    Object.assign(conv.byId.get(e.id), { content: e.content, is_edited: true, edited_at: e.edited_at });
  } else if (e.event === 'deleted' && conv.byId.has(e.id)) {
    Object.assign(conv.byId.get(e.id), { content: null, deleted: true, deleted_at: e.deleted_at });
  } else if (e.event === 'reaction' && conv.byId.has(e.id)) {
    onReaction(conv.byId.get(e.id), e);
  } else if (isGroupEvent(e)) {
    return onGroupEvent(conv, e);
  } else {
    return;
  }
  if (conv.room === state.active) renderMessages(conv);
}

function onTyping(conv) {
  if (conv.room !== state.active) return;
  $('typing').hidden = false;
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(() => { $('typing').hidden = true; }, 3000);
}

function onPresence(user, p) {
  state.presence.set(user, p);
  renderConversations();
  if (state.active && conversation(state.active).peer === user) renderChatHead(conversation(state.active));
}

function onError(e) {
  // A refused message: find it among the pending sends and offer a retry.
  for (const conv of state.conversations.values()) {
    const p = e.client_id && conv.pending.get(e.client_id);
    if (p) {
      clearTimeout(p.timer);
      Object.assign(p, { status: 'failed', reason: e.reason || e.code });
      if (conv.room === state.active) renderMessages(conv);
      return;
    }
  }
  if (e.request_id) { state.requests.delete(e.request_id); state.userRequests.delete(e.request_id); }
  toast(e.reason || e.code || 'Something went wrong');
}

// ---------------------------------------------------------------- actions

function openConversation(room) {
  state.active = room;
  const conv = conversation(room);
  watchPresence(conv.peer);
  document.body.classList.add('chat-open');
  $('chat-empty').hidden = true;
  $('chat-pane').hidden = false;
  $('typing').hidden = true;
  renderChatHead(conv);
  renderReplyBar(conv);
  renderConversations();
  subscribeRoom(room);
  if (!conv.loaded) {
    renderSkeletons();
    request(room, 'history', { limit: 50 }, 'initial');
  } else {
    renderMessages(conv);
    scrollToBottom();
    catchUp(conv);
  }
  $('composer-input').focus();
}

function catchUp(conv) {
  if (!conv.loaded) return request(conv.room, 'history', { limit: 50 }, 'initial');
  const last = conv.messages[conv.messages.length - 1];
  request(conv.room, 'history', last ? { after: last.id, limit: 200 } : { limit: 50 }, 'catchup');
}

function loadOlder(conv) {
  if (!conv.hasMore || conv.loadingOlder || !conv.messages.length) return;
  conv.loadingOlder = true;
  $('messages').prepend($('skeleton').content.cloneNode(true));
  request(conv.room, 'history', { before: conv.messages[0].id, limit: 50 }, 'older');
}

function markRead(conv) {
  if (conv.room !== state.active || document.visibilityState !== 'visible') return;
  const fromPeer = conv.messages.filter((m) => m.sender !== state.me);
  const last = fromPeer[fromPeer.length - 1];
  if (!last || last.id <= conv.lastReadSent) return;
  conv.lastReadSent = last.id;
  publish(P.topics.read(conv.room), { up_to: last.id }).catch(() => { conv.lastReadSent = ''; });
}

function send(conv, text) {
  const p = { client_id: P.randomId(), text, status: 'sending', created: new Date().toISOString(), replyTo: takeReply(conv) };
  conv.pending.set(p.client_id, p);
  publishPending(conv, p);
  renderMessages(conv);
  scrollToBottom();
}

function publishPending(conv, p) {
  clearTimeout(p.timer);
  p.status = 'sending';
  // Not confirmed (stored copy back) within 10 s: let the user retry. The same client_id makes a
  // retry safe: the server stores a message once per client_id.
  p.timer = setTimeout(() => {
    Object.assign(p, { status: 'failed', reason: 'not confirmed' });
    if (conv.room === state.active) renderMessages(conv);
  }, 10000);
  if (!state.client.connected) return; // sent on reconnect (subscribeAll)
  const body = { content: p.text, client_id: p.client_id };
  if (p.replyTo) body.reply_to = p.replyTo;
  publish(P.topics.messages(conv.room), body).catch((err) => {
    clearTimeout(p.timer);
    Object.assign(p, { status: 'failed', reason: err.message });
    if (conv.room === state.active) renderMessages(conv);
  });
}

function startEdit(conv, id) {
  conv.editing = id;
  renderMessages(conv);
  const box = document.querySelector(`[data-id="${id}"] textarea`);
  if (box) { box.focus(); box.setSelectionRange(box.value.length, box.value.length); }
}

function saveEdit(conv, id, content) {
  conv.editing = null;
  if (!content.trim()) return toast('A message cannot be blank.');
  request(conv.room, 'edit', { id, content }, 'edit');
  renderMessages(conv);
}

function deleteMessage(conv, id) {
  if (!confirm('Delete this message?')) return;
  request(conv.room, 'delete', { id }, 'delete');
}

function sendTyping(conv) {
  const now = Date.now();
  if (now - state.lastTypingSent < 2000 || !state.client.connected) return;
  state.lastTypingSent = now;
  state.client.publish(P.topics.typing(conv.room), JSON.stringify({ typing: true }), { qos: 0 });
}

// ---------------------------------------------------------------- rendering

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderConversations() {
  const ul = $('conversations');
  ul.replaceChildren();
  if (!state.summaries.length) {
    ul.append(el('li', 'empty small muted', 'No conversations yet — start one above.'));
    return;
  }
  for (const s of state.summaries) {
    const li = el('li', `conversation${s.room === state.active ? ' active' : ''}`);
    li.dataset.room = s.room;
    const p = state.presence.get(s.with);
    li.append(el('span', `dot${p && p.status === 'online' ? ' online' : ''}`));
    const body = el('div', 'conversation-body');
    const top = el('div', 'conversation-top');
    top.append(el('strong', 'name', s.group ? `# ${s.name} (${s.members})` : s.with),
      el('span', 'time small muted', P.shortTime(s.updated_at)));
    const last = s.last_message;
    const preview = !last ? 'No messages yet'
      : `${last.sender === state.me ? 'You: ' : ''}${last.content == null ? 'message deleted' : last.content}`;
    const bottom = el('div', 'conversation-bottom');
    bottom.append(el('span', 'preview small muted', preview));
    if (s.muted) top.querySelector('.name').append(el('span', 'muted-mark', ' 🔕'));
    const unread = s.room === state.active ? 0 : s.unread_count;
    if (unread > 0) bottom.append(el('span', 'badge', String(unread)));
    body.append(top, bottom);
    li.append(body);
    li.addEventListener('click', () => openConversation(s.room));
    ul.append(li);
  }
}

function renderChatHead(conv) {
  const group = state.summaries.find((s) => s.room === conv.room && s.group);
  $('peer-name').textContent = group ? `# ${group.name}` : conv.peer;
  const p = state.presence.get(conv.peer);
  const online = p && p.status === 'online';
  $('peer-dot').className = `dot${online ? ' online' : ''}`;
  $('peer-status').textContent = !p ? '' : online ? 'online' : `last seen ${P.shortTime(p.since)}`;
  renderChatTools(conv);
  renderGroupTools(conv);
}

function renderSkeletons() {
  const list = $('messages');
  list.replaceChildren();
  for (let i = 0; i < 3; i++) list.append($('skeleton').content.cloneNode(true));
}

function isRead(conv, m) {
  return Boolean(m.read_at) || m.read === true || (conv.peerReadUpTo && m.id <= conv.peerReadUpTo);
}

function messageElement(conv, m) {
  const mine = m.sender === state.me;
  const item = el('div', `message ${mine ? 'mine' : 'theirs'}`);
  item.dataset.id = m.id;
  if (m.client_id) item.dataset.clientId = m.client_id;
  const bubble = el('div', 'bubble');
  const deleted = m.deleted || m.content == null;
  if (conv.editing === m.id) {
    const box = el('textarea', 'edit-box');
    box.value = m.content;
    const save = el('button', 'small', 'Save');
    const cancel = el('button', 'small link', 'Cancel');
    save.addEventListener('click', () => saveEdit(conv, m.id, box.value));
    cancel.addEventListener('click', () => { conv.editing = null; renderMessages(conv); });
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); saveEdit(conv, m.id, box.value); }
      if (e.key === 'Escape') { conv.editing = null; renderMessages(conv); }
    });
    bubble.append(box, save, cancel);
  } else {
    if (!mine && P.isGroupRoom(conv.room)) bubble.append(el('strong', 'sender small', m.sender));  // who, in a group
    if (m.reply_to) bubble.append(quoteElement(m.reply_to));
    bubble.append(el('span', deleted ? 'content deleted' : 'content', deleted ? 'Message deleted' : m.content));
  }
  const meta = el('div', 'meta small');
  meta.append(el('span', 'time', P.shortTime(m.created_at)));
  if (m.is_edited && !deleted) meta.append(el('span', 'edited', 'edited'));
  if (mine && !deleted) meta.append(el('span', `receipt${isRead(conv, m) ? ' read' : ''}`, isRead(conv, m) ? '✓✓' : '✓'));
  if (mine && !deleted && conv.editing !== m.id) {
    const edit = el('button', 'link small action', 'Edit');
    edit.addEventListener('click', () => startEdit(conv, m.id));
    const del = el('button', 'link small action', 'Delete');
    del.addEventListener('click', () => deleteMessage(conv, m.id));
    meta.append(edit, del);
  }
  if (!deleted && conv.editing !== m.id) meta.append(...messageActions(conv, m));
  bubble.append(meta);
  if (!deleted) bubble.append(...reactionElements(conv, m));
  item.append(bubble);
  return item;
}

function pendingElement(conv, p) {
  const item = el('div', `message mine pending ${p.status}`);
  item.dataset.clientId = p.client_id;
  const bubble = el('div', 'bubble');
  bubble.append(el('span', 'content', p.text));
  const meta = el('div', 'meta small');
  if (p.status === 'failed') {
    meta.append(el('span', 'failed-reason', `Not sent: ${p.reason}`));
    const retry = el('button', 'small retry', 'Retry');
    retry.addEventListener('click', () => { publishPending(conv, p); renderMessages(conv); });
    meta.append(retry);
  } else {
    meta.append(el('span', 'sending', 'sending…'));
  }
  bubble.append(meta);
  item.append(bubble);
  return item;
}

function renderMessages(conv) {
  const list = $('messages');
  const top = list.scrollTop;
  list.replaceChildren();
  if (conv.hasMore) {
    const more = el('button', 'link small load-older', 'Load older messages');
    more.addEventListener('click', () => loadOlder(conv));
    list.append(more);
  }
  if (!conv.messages.length && !conv.pending.size) {
    list.append(el('div', 'empty-state small', `No messages yet. Say hello to ${conv.peer}!`));
  }
  conv.messages.forEach((m) => list.append(messageElement(conv, m)));
  conv.pending.forEach((p) => list.append(pendingElement(conv, p)));
  list.scrollTop = top;
}

function isAtBottom() {
  const list = $('messages');
  return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
}

function scrollToBottom() {
  const list = $('messages');
  list.scrollTop = list.scrollHeight;
}

let bannerTimer = null;
function showBanner(text, kind = 'info', ms = 0) {
  const b = $('banner');
  clearTimeout(bannerTimer);
  b.hidden = !text;
  if (!text) return;
  b.textContent = text;
  b.className = `banner ${kind}`;
  if (ms) bannerTimer = setTimeout(() => { b.hidden = true; }, ms);
}

const toast = (text) => showBanner(text, 'error', 5000);

function showLoginError(text) {
  $('login-error').textContent = text;
  $('login-error').hidden = false;
}

function enterApp(username, client) {
  state.me = username;
  state.client = client;
  $('me-name').textContent = username;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  renderConversations();
}

// ---------------------------------------------------------------- wiring

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  login($('login-user').value.trim().toLowerCase(), $('login-password').value);
});

$('logout').addEventListener('click', () => {
  if (state.client) state.client.end(true);
  location.reload();
});

$('new-chat').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('new-chat-user').value.trim().toLowerCase();
  $('new-chat-error').hidden = true;
  try {
    const room = P.roomOf(state.me, name);
    $('new-chat-user').value = '';
    if (!state.summaries.some((s) => s.room === room))
      state.summaries.unshift({ room, with: name, last_message: null, unread_count: 0, updated_at: null });
    openConversation(room);
  } catch (err) {
    $('new-chat-error').textContent = err.message;
    $('new-chat-error').hidden = false;
  }
});

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('composer-input');
  const text = input.value;
  if (!state.active || !text.trim()) return;
  if (P.characters(text) > P.MAX_CHARS) return toast(`Messages are limited to ${P.MAX_CHARS} characters.`);
  input.value = '';
  send(conversation(state.active), text);
});

$('composer-input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('composer').requestSubmit(); }
});
$('composer-input').addEventListener('input', () => { if (state.active) sendTyping(conversation(state.active)); });

$('messages').addEventListener('scroll', () => {
  if (state.active && $('messages').scrollTop < 40) loadOlder(conversation(state.active));
});

$('back').addEventListener('click', () => {
  document.body.classList.remove('chat-open');
  state.active = null;
  $('chat-pane').hidden = true;
  $('chat-empty').hidden = false;
  renderConversations();
});

document.addEventListener('visibilitychange', () => { if (state.active) markRead(conversation(state.active)); });

// ================================================================ issue 17 features
// Each feature below keeps to its own section; the code above calls into them at a few marked
// places (onMessage, onEvent, messageElement, send, renderChatHead, renderConversations).

// Publishes a request about me, not a room (users/<me>/requests/<kind>); the reply comes on users/<me>/<kind>.
function userRequest(kind, payload) {
  const request_id = P.randomId();
  state.userRequests.set(request_id, kind);
  return publish(P.topics.userRequest(state.me, kind), { ...payload, request_id }).then(() => request_id)
    .catch((err) => { state.userRequests.delete(request_id); toast(`Request refused: ${err.message}`); });
}

function takeUserReply(body, kind) {
  if (!body || state.userRequests.get(body.request_id) !== kind) return false;
  state.userRequests.delete(body.request_id);
  return true;
}

function messageActions(conv, m) {
  const reply = el('button', 'link small action reply-action', 'Reply');
  reply.addEventListener('click', () => startReply(conv, m));
  const react = el('button', 'link small action react-action', 'React');
  react.addEventListener('click', () => { conv.picking = conv.picking === m.id ? null : m.id; renderMessages(conv); });
  return [reply, react];
}

// ---------------------------------------------------------------- replies

function quoteElement(q) {
  const quote = el('div', `quote${q.deleted ? ' deleted' : ''}`);
  quote.dataset.replyTo = q.id;
  quote.append(el('strong', 'quote-sender', `${q.sender}: `),
    el('span', 'quote-text', q.deleted ? 'message deleted' : `${q.content}${q.truncated ? '…' : ''}`));
  return quote;
}

function startReply(conv, m) {
  conv.replyTo = { id: m.id, sender: m.sender, content: m.content };
  renderReplyBar(conv);
  $('composer-input').focus();
}

// The reply target for the message being sent (then cleared).
function takeReply(conv) {
  const id = conv.replyTo && conv.replyTo.id;
  conv.replyTo = null;
  renderReplyBar(conv);
  return id || null;
}

function renderReplyBar(conv) {
  const r = conv && conv.room === state.active ? conv.replyTo : null;
  $('reply-bar').hidden = !r;
  if (!r) return;
  $('reply-to-sender').textContent = r.sender;
  $('reply-to-text').textContent = Array.from(r.content || '').slice(0, 80).join('');
}

$('reply-cancel').addEventListener('click', () => { if (state.active) takeReply(conversation(state.active)); });

// ---------------------------------------------------------------- reactions

function reactionElements(conv, m) {
  const out = [];
  if (m.reactions && m.reactions.length) {
    const row = el('div', 'reactions');
    for (const r of m.reactions) {
      const b = el('button', `reaction${r.mine ? ' mine' : ''}`, `${r.emoji} ${r.count}`);
      b.dataset.emoji = r.emoji;
      b.title = r.mine ? 'remove your reaction' : 'react with this too';
      b.addEventListener('click', () => react(conv, m.id, r.emoji, Boolean(r.mine)));
      row.append(b);
    }
    out.push(row);
  }
  if (conv.picking === m.id) {
    const picker = el('div', 'picker');
    for (const emoji of P.REACTIONS) {
      const b = el('button', 'pick', emoji);
      b.addEventListener('click', () => {
        conv.picking = null;
        const mine = (m.reactions || []).some((r) => r.emoji === emoji && r.mine);
        react(conv, m.id, emoji, mine);
      });
      picker.append(b);
    }
    out.push(picker);
  }
  return out;
}

function react(conv, id, emoji, remove) {
  request(conv.room, 'react', remove ? { id, emoji, remove: true } : { id, emoji }, 'react');
  renderMessages(conv);
}

// {"event":"reaction","id","user","emoji","action","reactions":[{"emoji","count"}]}: counts from the
// event, "mine" kept from what we knew and changed when the reaction is ours.
function onReaction(m, e) {
  const mine = new Set((m.reactions || []).filter((r) => r.mine).map((r) => r.emoji));
  if (e.user === state.me) {
    if (e.action === 'added') mine.add(e.emoji); else mine.delete(e.emoji);
  }
  m.reactions = (e.reactions || []).map((r) => ({ ...r, mine: mine.has(r.emoji) }));
}

// ---------------------------------------------------------------- search

function search(query) {
  if (!query.trim()) return;
  $('search-summary').textContent = 'Searching…';
  $('search-list').replaceChildren();
  $('search-results').hidden = false;
  userRequest('search', { query, limit: 20 });
}

function onSearchResults(page) {
  if (!takeUserReply(page, 'search')) return;
  const list = $('search-list');
  list.replaceChildren();
  const results = page.results || [];
  $('search-summary').textContent = results.length ? `${results.length}${page.next ? '+' : ''} result(s) for "${page.query}"`
    : `Nothing found for "${page.query}"`;
  for (const r of results) {
    const li = el('li', 'result');
    li.dataset.room = r.room;
    li.dataset.id = r.id;
    const head = el('div', 'small muted', `${r.sender} · ${P.peerOf(r.room, state.me)} · ${P.shortTime(r.created_at)}`);
    const text = el('div', 'headline');
    text.innerHTML = r.headline;  // the server escapes everything but <mark> (docs/PROTOCOL.md)
    li.append(head, text);
    li.addEventListener('click', () => openConversation(r.room));
    list.append(li);
  }
}

$('search-form').addEventListener('submit', (e) => { e.preventDefault(); search($('search-input').value); });
$('search-close').addEventListener('click', () => { $('search-results').hidden = true; $('search-input').value = ''; });

// ---------------------------------------------------------------- archive and mute

function setting(room) { return state.settings.get(room) || { archived: false, muted: false }; }

function renderChatTools(conv) {
  const s = setting(conv.room);
  $('mute-toggle').textContent = s.muted ? 'Unmute' : 'Mute';
  $('archive-toggle').textContent = s.archived ? 'Unarchive' : 'Archive';
}

function onSettings(s) {
  if (!s || !s.room) return;
  if (s.request_id) state.requests.delete(s.request_id);
  state.settings.set(s.room, { archived: Boolean(s.archived), muted: Boolean(s.muted) });
  if (state.active === s.room) renderChatTools(conversation(s.room));
  if (!$('archived').hidden) userRequest('archived', {});
}

function onArchivedList(page) {
  if (!takeUserReply(page, 'archived')) return;
  const ul = $('archived-list');
  ul.replaceChildren();
  const list = page.conversations || [];
  if (!list.length) ul.append(el('li', 'empty small muted', 'No archived conversations.'));
  for (const s of list) {
    state.settings.set(s.room, { archived: true, muted: Boolean(s.muted) });
    const li = el('li', 'conversation archived-conversation');
    li.dataset.room = s.room;
    const body = el('div', 'conversation-body');
    body.append(el('strong', 'name', s.group ? `# ${s.name}` : s.with), el('div', 'preview small muted',
      s.last_message ? (s.last_message.content == null ? 'message deleted' : s.last_message.content) : 'No messages yet'));
    li.append(body);
    li.addEventListener('click', () => openConversation(s.room));
    ul.append(li);
  }
}

$('mute-toggle').addEventListener('click', () => {
  if (!state.active) return;
  request(state.active, 'mute', { muted: !setting(state.active).muted }, 'mute');
});
$('archive-toggle').addEventListener('click', () => {
  if (!state.active) return;
  request(state.active, 'archive', { archived: !setting(state.active).archived }, 'archive');
});
$('archived-toggle').addEventListener('click', () => {
  $('archived').hidden = !$('archived').hidden;
  if (!$('archived').hidden) userRequest('archived', {});
});

// ---------------------------------------------------------------- groups

const usernames = (text) => text.split(/[\s,]+/).map((u) => u.trim().toLowerCase()).filter(Boolean);

function groupRequest(op, fields) { return userRequest('group', { op, ...fields }); }

// users/<me>/groups: {"op","group":{"room","name","members":[{"user","role"}]},"request_id"}.
function onGroupAnswer(body) {
  if (!takeUserReply(body, 'group') || !body.group) return;
  const g = body.group;
  if (body.op === 'leave') {
    state.groups.delete(g.room);
    state.summaries = state.summaries.filter((s) => s.room !== g.room);
    if (state.active === g.room) $('back').click();
    else renderConversations();
    return;
  }
  state.groups.set(g.room, g);
  if (!state.summaries.some((s) => s.room === g.room))
    state.summaries.unshift({ room: g.room, group: true, name: g.name, members: g.members.length,
                              last_message: null, unread_count: 0, updated_at: g.created_at });
  if (body.op === 'create') openConversation(g.room);
  else if (state.active === g.room) renderChatHead(conversation(g.room));
}

const kGroupEvents = ['group_created', 'member_added', 'member_removed', 'member_left', 'group_renamed',
                      'owner_changed', 'role_changed'];
function isGroupEvent(e) { return kGroupEvents.includes(e.event); }

// Membership changed: the member count now, and the member list asked for again when it is on screen.
function onGroupEvent(conv, e) {
  const s = state.summaries.find((x) => x.room === conv.room);
  if (s && typeof e.members === 'number') s.members = e.members;
  if (s && e.event === 'group_renamed') s.name = e.name;
  renderConversations();
  if (state.active === conv.room) groupRequest('info', { room: conv.room });
}

function renderGroupTools(conv) {
  const group = P.isGroupRoom(conv.room);
  $('group-tools').hidden = !group;
  if (!group) return;
  const g = state.groups.get(conv.room);
  if (!g) { groupRequest('info', { room: conv.room }); return; }
  $('peer-name').textContent = `# ${g.name}`;
  $('group-members').textContent = `${g.members.length} members: ` +
    g.members.map((m) => (m.role === 'member' ? m.user : `${m.user} (${m.role})`)).join(', ');
}

$('new-group').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('new-group-name').value.trim();
  const users = usernames($('new-group-users').value);
  if (!name || users.length < 2) return toast('A group needs a name and at least two other members.');
  $('new-group-name').value = '';
  $('new-group-users').value = '';
  groupRequest('create', { name, users });
});
$('group-add').addEventListener('click', () => {
  const users = usernames(prompt('Add to the group (usernames):') || '');
  if (state.active && users.length) groupRequest('add', { room: state.active, users });
});
$('group-remove').addEventListener('click', () => {
  const user = (prompt('Remove from the group (username):') || '').trim().toLowerCase();
  if (state.active && user) groupRequest('remove', { room: state.active, user });
});
$('group-leave').addEventListener('click', () => {
  if (state.active && confirm('Leave this group?')) groupRequest('leave', { room: state.active });
});
