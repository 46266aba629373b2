#include "common/message.h"

#include <nlohmann/json.hpp>

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/clock.h"
#include "common/json_text.h"
#include "common/swar.h"
#include "common/utf8.h"
#include "common/uuid.h"

namespace mqchat {

namespace {

ValidationError error(std::string code, std::string reason) {
  return ValidationError{std::move(code), std::move(reason), {}};
}

template <typename T>
Parsed<T> fail(std::string code, std::string reason) {
  return Parsed<T>{std::nullopt, error(std::move(code), std::move(reason))};
}

template <typename T>
Parsed<T> too_large(std::string_view payload, const MessageLimits& limits) {
  return fail<T>("payload_too_large", "payload has " + std::to_string(payload.size()) + " bytes; the limit is " +
                                          std::to_string(limits.max_payload_bytes));
}

// Deepest nesting of objects/arrays, counted without building anything.
size_t json_depth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// Postgres text and jsonb cannot hold U+0000, escaped or not: a metadata key or string value
// with it would be acknowledged and then refused by the database.
bool holds_nul(const nlohmann::json& j) {
  if (j.is_string()) return j.get_ref<const std::string&>().find('\0') != std::string::npos;
  if (j.is_object()) {
    for (const auto& [key, value] : j.items())
      if (key.find('\0') != std::string::npos || holds_nul(value)) return true;
    return false;
  }
  if (j.is_array()) {
    for (const auto& v : j)
      if (holds_nul(v)) return true;
  }
  return false;
}

bool starts_with_brace(std::string_view s) {
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

}  // namespace

bool is_message_type(std::string_view type) {
  return type == "text" || type == "image" || type == "file";
}

std::optional<ValidationError> validate_content(std::string_view content, const MessageLimits& limits) {
  const auto chars = utf8_length(content);
  if (!chars) return error("invalid_utf8", "content is not valid UTF-8 (or contains NUL)");
  if (*chars == 0 || !has_visible_char(content)) return error("blank", "content is empty or blank");
  if (*chars > limits.max_content_chars)
    return error("too_long", "content has " + std::to_string(*chars) + " characters; the limit is " +
                                 std::to_string(limits.max_content_chars));
  return std::nullopt;
}

Parsed<nlohmann::json> parse_json_object(std::string_view payload, const MessageLimits& limits) {
  if (payload.size() > limits.max_payload_bytes) return too_large<nlohmann::json>(payload, limits);
  if (!utf8_length(payload)) return fail<nlohmann::json>("invalid_utf8", "payload is not valid UTF-8");
  if (json_depth(payload) > limits.max_json_depth)
    return fail<nlohmann::json>("bad_json", "JSON is nested deeper than " +
                                                std::to_string(limits.max_json_depth) + " levels");
  auto doc = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail<nlohmann::json>("bad_json", "payload is not valid JSON");
  if (!doc.is_object()) return fail<nlohmann::json>("bad_json", "payload must be a JSON object");
  return Parsed<nlohmann::json>{std::move(doc), {}};
}

namespace {

// The fields a message payload may carry as strings; a field that is present but not a string is
// given as "" for type (so it fails as a bad type, in order) and as absent for content.
struct MessageFields {
  std::optional<std::string_view> content;
  std::optional<std::string_view> type;
  std::optional<std::string_view> client_id;
  std::optional<std::string_view> reply_to;  // "" when present but not a string
};

// The rules for client_id, content and type, in the order their refusals are reported.
// `flat`: the fields were read by scan_flat_message and found UTF-8 without NUL, so only characters
// need counting, and only when the byte count could exceed a limit; and they held no escapes, so
// each is its own JSON string literal's inside.
std::optional<ValidationError> draft_from_fields(const MessageFields& f, const MessageLimits& limits,
                                                 DraftMessage& draft, bool flat = false) {
  const auto chars_within = [flat](std::string_view s, size_t most) -> std::optional<bool> {
    if (flat && s.size() <= most) return true;  // n bytes are never more than n characters
    const auto chars = utf8_length(s);
    if (!chars) return std::nullopt;
    return *chars <= most;
  };
  draft.client_id.clear();
  draft.reply_to.clear();
  draft.plain_json = false;
  set_text(draft.type, "text");
  set_text(draft.metadata_json, "{}");
  if (f.client_id) {
    assign_text(draft.client_id, *f.client_id);
    const auto within = chars_within(*f.client_id, limits.max_client_id_chars);
    if (!within || !*within || f.client_id->empty())
      return error("bad_client_id",
                   "\"client_id\" must have 1.." + std::to_string(limits.max_client_id_chars) + " characters");
  }
  // From here on every refusal carries the client_id back so the publisher can match the report.
  const auto refuse = [&](std::string code, std::string reason) {
    return ValidationError{std::move(code), std::move(reason), draft.client_id};
  };
  if (!f.content) return refuse("bad_content", "\"content\" must be a string");
  const bool quick = flat && f.content->size() <= limits.max_content_chars && !f.content->empty() &&
                     has_visible_char(*f.content);
  if (!quick)
    if (auto bad = validate_content(*f.content, limits)) return refuse(bad->code, bad->reason);
  assign_text(draft.content, *f.content);
  if (f.type) {
    if (!is_message_type(*f.type)) return refuse("bad_type", "\"type\" must be one of text, image, file");
    set_text(draft.type, *f.type);
  }
  if (f.reply_to) {  // only the form here; whether it is a message of this room is Postgres' call
    const auto id = parse_uuid(*f.reply_to);
    if (!id) return refuse("bad_reply_to", "\"reply_to\" must be a message id (UUID)");
    draft.reply_to.resize(kUuidTextSize);
    format_uuid(*id, draft.reply_to.data());
  }
  draft.plain_json = flat;
  return std::nullopt;
}

// The closing quote of a JSON string whose inside starts at p, if the inside holds no escape and
// no control character; nullptr otherwise (or when the string does not end before `end`).
// `high` gathers bit 7 of every byte read (of the string, and perhaps a few after it): while it
// stays clear, all of them are ASCII.
[[gnu::always_inline]] inline const char* plain_string_end(const char* p, const char* end, uint64_t& high) {
  bool stopped = false;
#if defined(__SSE2__)
  // Sixteen bytes a test while there are that many: '"', '\\' and control characters (at most
  // 0x1F unsigned: min(v, 0x1F) == v) from one movemask, bit 7 of each byte from another.
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                     _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v));
    high |= static_cast<uint32_t>(_mm_movemask_epi8(v));
    if (const auto marks = static_cast<uint32_t>(_mm_movemask_epi8(special))) {
      p += __builtin_ctz(marks);
      stopped = true;
      break;
    }
    p += 16;
  }
#endif
  while (!stopped && end - p >= 8) {
    const uint64_t v = swar::load8(p);
    high |= v & swar::kHighBits;
    const size_t n = swar::leading_plain_json(v);
    p += n;
    if (n < 8) break;
  }
  for (; p < end; ++p) {  // the last few bytes, or the first one the eight-byte scan stopped at
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') return p;
    if (c == '\\' || c < 0x20) return nullptr;
    high |= c & 0x80;
  }
  return nullptr;
}

// Bytes above ' ' (all but a few) are answered by the first comparison.
bool is_ws(char c) {
  return static_cast<unsigned char>(c) <= ' ' && (c == ' ' || c == '\t' || c == '\n' || c == '\r');
}

// The shape nearly every client sends, a flat object of plain strings under the known keys
// ({"content":"hi","client_id":"c-1"}), read without building a DOM: a fifth of the broker's
// per-message work went into nlohmann's parse. Anything else (escapes, numbers, nesting,
// metadata, a repeated field) returns nullopt and takes the full parser, so both agree on every
// payload. Other keys with plain string values are allowed and ignored (clients send e.g. a
// "sender", which the server sets itself). UTF-8 is the caller's to check, unless every string was
// ASCII: in the known fields' values when there was no other key (the rest is then ASCII), else in
// the whole payload.
struct FlatMessage {
  MessageFields fields;
  bool other_keys = false;
  // No byte of any string has bit 7 set: with the punctuation and blanks around them, the whole
  // payload is ASCII without NUL, so it is UTF-8 without a second look.
  bool ascii = false;
};
std::optional<FlatMessage> scan_flat_message(std::string_view s) {
  const char* p = s.data();
  const char* const end = p + s.size();
  const auto skip_ws = [&p, end] {
    while (p < end && is_ws(*p)) ++p;
  };
  // `"key":` at p for one of the known keys, compared whole (the closing quote included).
  const auto field_at = [&p, end](MessageFields& f) -> std::optional<std::string_view>* {
    static constexpr std::string_view kContent = "\"content\"", kType = "\"type\"", kClientId = "\"client_id\"",
                                      kReplyTo = "\"reply_to\"";
    const auto is = [&p, end](std::string_view key) {
      if (end - p < static_cast<ptrdiff_t>(key.size()) || std::memcmp(p, key.data(), key.size()) != 0) return false;
      p += key.size();
      return true;
    };
    if (is(kContent)) return &f.content;
    if (is(kClientId)) return &f.client_id;
    if (is(kType)) return &f.type;
    if (is(kReplyTo)) return &f.reply_to;
    return nullptr;
  };
  FlatMessage flat;
  MessageFields& f = flat.fields;
  std::optional<std::string_view> ignored;
  uint64_t high = 0;  // bit 7 of the strings' bytes (plain_string_end)
  skip_ws();
  if (p >= end || *p++ != '{') return std::nullopt;
  skip_ws();
  if (p < end && *p == '}') {
    ++p;
  } else {
    for (;;) {
      std::optional<std::string_view>* field = field_at(f);
      if (field && *field) return std::nullopt;  // given twice: the full parser says which one wins
      if (!field) {  // another key: read and ignored
        if (p >= end || *p++ != '"') return std::nullopt;
        const char* close = plain_string_end(p, end, high);
        if (!close || std::string_view(p, static_cast<size_t>(close - p)) == "metadata") return std::nullopt;
        p = close + 1;
        flat.other_keys = true;
        field = &ignored;
      }
      skip_ws();
      if (p >= end || *p++ != ':') return std::nullopt;
      skip_ws();
      if (p >= end || *p++ != '"') return std::nullopt;
      const char* close = plain_string_end(p, end, high);
      if (!close) return std::nullopt;
      *field = std::string_view(p, static_cast<size_t>(close - p));
      p = close + 1;
      skip_ws();
      if (p >= end) return std::nullopt;
      const char next = *p++;
      if (next == '}') break;
      if (next != ',') return std::nullopt;
      skip_ws();
    }
  }
  skip_ws();
  if (p != end) return std::nullopt;
  flat.ascii = high == 0;
  return flat;
}

// Every value of a flat message is UTF-8 without NUL (its keys and punctuation are ASCII).
bool values_are_utf8(const MessageFields& f) {
  for (const auto* v : {&f.content, &f.type, &f.client_id, &f.reply_to})
    if (*v && !utf8_length(**v)) return false;
  return true;
}

}  // namespace

Parsed<DraftMessage> parse_message_payload(std::string_view payload, const MessageLimits& limits) {
  DraftMessage draft;
  if (auto refused = parse_message_payload(payload, limits, draft)) return {std::nullopt, std::move(*refused)};
  return {std::move(draft), {}};
}

std::optional<ValidationError> parse_message_payload(std::string_view payload, const MessageLimits& limits,
                                                     DraftMessage& draft) {
  if (payload.size() > limits.max_payload_bytes) return too_large<DraftMessage>(payload, limits).error;
  if (!starts_with_brace(payload)) {
    return draft_from_fields(MessageFields{payload, std::nullopt, std::nullopt, std::nullopt}, limits, draft);
  }
  if (auto flat = scan_flat_message(payload)) {
    if (!flat->ascii && !(flat->other_keys ? utf8_length(payload).has_value() : values_are_utf8(flat->fields)))
      return error("invalid_utf8", "payload is not valid UTF-8");
    return draft_from_fields(flat->fields, limits, draft, /*flat=*/true);
  }

  auto parsed = parse_json_object(payload, limits);
  if (!parsed) return parsed.error;
  const auto& doc = *parsed.value;

  MessageFields fields;
  if (const auto client_id = doc.find("client_id"); client_id != doc.end() && !client_id->is_null()) {
    if (!client_id->is_string()) return error("bad_client_id", "\"client_id\" must be a string");
    fields.client_id = client_id->get_ref<const std::string&>();
  }
  if (const auto content = doc.find("content"); content != doc.end() && content->is_string())
    fields.content = content->get_ref<const std::string&>();
  if (const auto type = doc.find("type"); type != doc.end())
    fields.type = type->is_string() ? std::string_view(type->get_ref<const std::string&>()) : std::string_view();
  if (const auto reply_to = doc.find("reply_to"); reply_to != doc.end() && !reply_to->is_null())
    fields.reply_to =
        reply_to->is_string() ? std::string_view(reply_to->get_ref<const std::string&>()) : std::string_view();
  if (auto refused = draft_from_fields(fields, limits, draft)) return refused;

  if (const auto metadata = doc.find("metadata"); metadata != doc.end() && !metadata->is_null()) {
    const auto refuse = [&](std::string code, std::string reason) {
      return ValidationError{std::move(code), std::move(reason), draft.client_id};
    };
    if (!metadata->is_object()) return refuse("bad_metadata", "\"metadata\" must be a JSON object");
    if (holds_nul(*metadata)) return refuse("bad_metadata", "\"metadata\" must not contain NUL (\\u0000)");
    draft.metadata_json = metadata->dump();
    if (draft.metadata_json.size() > limits.max_metadata_bytes)
      return refuse("metadata_too_large", "\"metadata\" has " + std::to_string(draft.metadata_json.size()) +
                                              " bytes; the limit is " + std::to_string(limits.max_metadata_bytes));
  }
  return std::nullopt;
}

std::string to_json(const StoredMessage& m) {
  std::string out;
  append_json(out, m);
  return out;
}

void append_json(std::string& out, const StoredMessage& m) {
  append_json(out, StoredMessageRef{m.id, m.conversation_id, m.room, m.sender, m.draft, m.created_at});
}

void append_json(std::string& out, const StoredMessageRef& m) {
  // id, conversation_id, room, sender, type and created_at are made of [0-9a-z.:_TZ-] by
  // construction (uuids, usernames, RFC 3339): only content and client_id can need escaping.
  // Written through a pointer into room for the worst case: appends were a tenth of the
  // broker thread's work per message.
  static constexpr std::string_view kKeys = R"({"id":"","conversation_id":"","room":"","sender":"","content":,"type":"","metadata":,"client_id":,"created_at":"","reply_to":""})";
  const DraftMessage& d = m.draft;
  const size_t start = out.size();
  out.resize(start + kKeys.size() + m.id.size() + m.conversation_id.size() + m.room.size() + m.sender.size() +
             max_json_string_size(d.content.size()) + d.type.size() + d.metadata_json.size() +
             max_json_string_size(d.client_id.size()) + 4 /* null */ + m.created_at.size() + d.reply_to.size());
  const auto plain = [](char* p, std::string_view key, std::string_view value) {
    p = write_raw(p, key);
    *p++ = '"';
    // Three uuids or timestamps in every message: copied as moves of a known size, not by a call.
    if (value.size() == kUuidTextSize) std::memcpy(p, value.data(), kUuidTextSize);
    else if (value.size() == kRfc3339Size) std::memcpy(p, value.data(), kRfc3339Size);
    else write_raw(p, value);
    p += value.size();
    *p++ = '"';
    return p;
  };
  char* p = out.data() + start;
  p = plain(p, "{\"id\":", m.id);
  p = plain(p, ",\"conversation_id\":", m.conversation_id);
  p = plain(p, ",\"room\":", m.room);
  p = plain(p, ",\"sender\":", m.sender);
  // A string that needed no escaping when it was read needs none when it is written.
  const auto string = [&d](char* p, std::string_view s) {
    if (!d.plain_json) return write_json_string(p, s);
    *p++ = '"';
    p = write_raw(p, s);
    *p++ = '"';
    return p;
  };
  p = string(write_raw(p, ",\"content\":"), d.content);
  p = plain(p, ",\"type\":", d.type);
  p = write_raw(write_raw(p, ",\"metadata\":"), d.metadata_json);
  p = write_raw(p, ",\"client_id\":");
  p = d.client_id.empty() ? write_raw(p, "null") : string(p, d.client_id);
  p = plain(p, ",\"created_at\":", m.created_at);
  if (!d.reply_to.empty()) p = plain(p, ",\"reply_to\":", d.reply_to);  // canonical uuid
  *p++ = '}';
  out.resize(static_cast<size_t>(p - out.data()));
}

}  // namespace mqchat
