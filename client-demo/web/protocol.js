// The chat protocol for the browser (docs/PROTOCOL.md): names, topics, payloads. No DOM here.
'use strict';

const Protocol = (() => {
  const USERNAME = /^[a-z0-9][a-z0-9.-]{0,31}$/;

  const isValidUsername = (name) => USERNAME.test(name);

  // The canonical room of two users: the byte-wise smaller name first (ASCII only, so JS order is byte order).
  function roomOf(me, peer) {
    if (!isValidUsername(peer)) throw new Error(`"${peer}" is not a valid username`);
    if (peer === me) throw new Error('you cannot chat with yourself');
    return me < peer ? `${me}_${peer}` : `${peer}_${me}`;
  }

  const isGroupRoom = (room) => /^g:[0-9a-f]{16}$/.test(room);
  const peerOf = (room, me) => (isGroupRoom(room) ? null : room.split('_').find((u) => u !== me));  // a group has no one peer

  const topics = {
    messages: (room) => `chat/${room}/messages`,
    typing: (room) => `chat/${room}/typing`,
    events: (room) => `chat/${room}/events`,
    history: (room) => `chat/${room}/history`,
    read: (room) => `chat/${room}/read`,
    edit: (room) => `chat/${room}/edit`,
    remove: (room) => `chat/${room}/delete`,
    react: (room) => `chat/${room}/react`,
    archive: (room) => `chat/${room}/archive`,
    mute: (room) => `chat/${room}/mute`,
    userRequest: (me, kind) => `users/${me}/requests/${kind}`,  // search, archived, group
    mine: (me) => `users/${me}/#`,
    presence: (user) => `users/${user}/presence`,
  };

  // What a topic is about: {kind: 'chat', room, channel} or {kind: 'user', user, leaf}.
  function parseTopic(topic) {
    const parts = topic.split('/');
    if (parts[0] === 'chat' && parts.length === 3) return { kind: 'chat', room: parts[1], channel: parts[2] };
    if (parts[0] === 'users' && parts.length === 3) return { kind: 'user', user: parts[1], leaf: parts[2] };
    return { kind: 'other' };
  }

  function randomId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  // "18:19" today, "Nov 24" otherwise (local time).
  function shortTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    const now = new Date();
    if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    return d.toLocaleDateString([], { month: 'short', day: 'numeric' });
  }

  const characters = (text) => Array.from(text).length;

  // The emoji the page offers for reactions (the server takes any emoji: docs/PROTOCOL.md).
  const REACTIONS = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

  return { isValidUsername, isGroupRoom, roomOf, peerOf, topics, parseTopic, randomId, shortTime, characters, REACTIONS, MAX_CHARS: 4000 };
})();
