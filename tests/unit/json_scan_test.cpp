#include "common/json_scan.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace mqchat {
namespace {

using Kind = JsonMember::Kind;
const std::string_view kKeys[] = {"sender", "client_id", "room"};

struct Found {
  Kind kind = Kind::Absent;
  std::string value;  // a string's, unescaped
};
struct Scan {
  bool ok;
  Found m[3];
};
Scan scan(std::string_view text) {
  JsonMember m[3];
  Scan s;
  s.ok = scan_json_members(text, kKeys, m, 3);
  for (size_t k = 0; k < 3; ++k) s.m[k] = {m[k].kind, m[k].is_string() ? m[k].text() : ""};
  return s;
}

// What nlohmann::json makes of the same text: the reference.
Scan reference(const std::string& text) {
  Scan s;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  s.ok = j.is_object();
  if (!s.ok) return s;
  for (size_t k = 0; k < 3; ++k) {
    const auto it = j.find(std::string(kKeys[k]));
    if (it == j.end()) continue;
    s.m[k].kind = it->is_string() ? Kind::String : it->is_null() ? Kind::Null : it->is_object() ? Kind::Object : Kind::Other;
    if (it->is_string()) s.m[k].value = it->get<std::string>();
  }
  return s;
}

void expect_same(const std::string& text) {
  const Scan a = scan(text), b = reference(text);
  ASSERT_EQ(a.ok, b.ok) << text;
  if (!a.ok) return;
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(int(a.m[k].kind), int(b.m[k].kind)) << kKeys[k] << " in " << text;
    EXPECT_EQ(a.m[k].value, b.m[k].value) << kKeys[k] << " in " << text;
  }
}

TEST(JsonScan, ReadsTopLevelStringsOnly) {
  const auto s = scan(R"({"id":"1","room":"a_b","sender":"a","metadata":{"client_id":"no","sender":["x"]},"client_id":"k1"})");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.m[0].value, "a");
  EXPECT_EQ(s.m[1].value, "k1");
  EXPECT_EQ(s.m[2].value, "a_b");
}

TEST(JsonScan, AbsentNullObjectsAndOthersAreTold) {
  const auto s = scan(R"( { "sender" : 12.5e-3 , "client_id" : null, "room": {"a": [1, {}]} } )");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.m[0].kind, Kind::Other);
  EXPECT_EQ(s.m[1].kind, Kind::Null);
  EXPECT_EQ(s.m[2].kind, Kind::Object);
  EXPECT_TRUE(scan("{}").ok);
  EXPECT_EQ(scan("{}").m[0].kind, Kind::Absent);
}

TEST(JsonScan, RawIsTheValuesTextInPlace) {
  const std::string_view text = R"({"room":"a\nb", "client_id" : {"k": [1, "}"]} , "sender":true})";
  JsonMember m[3];
  ASSERT_TRUE(scan_json_members(text, kKeys, m, 3));
  EXPECT_EQ(m[0].raw, "true");
  EXPECT_EQ(m[1].raw, R"({"k": [1, "}"]})");
  EXPECT_EQ(m[2].raw, R"(a\nb)");
  EXPECT_TRUE(m[2].escaped);
  EXPECT_EQ(m[2].text(), "a\nb");  // a newline
  EXPECT_GE(m[1].raw.data(), text.data());
}

TEST(JsonScan, UnescapesValuesAndNames) {
  const auto s = scan(R"({"send\u0065r":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00","client_id":"x"})");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.m[0].value, "a\"b\\c/d\n\t\xC3\xA9\xF0\x9F\x98\x80");
}

TEST(JsonScan, TheLastOfARepeatedNameWins) {
  const auto s = scan(R"({"sender":"a","sender":"b","client_id":"k","client_id":3})");
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.m[0].value, "b");
  EXPECT_EQ(s.m[1].kind, Kind::Other);
}

TEST(JsonScan, RefusesWhatIsNotOneObject) {
  for (const char* bad : {"", "[]", "\"x\"", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,}", "{\"a\":1} x",
                          "{\"a\":1}{}", "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":1e}", "{\"a\":tru}",
                          "{\"a\":[1,]}", "{\"a\":{\"b\"}}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}",
                          "{\"a\":\"\\udc00\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"tab\there\"}", "{'a':1}",
                          "{\"a\":\"\xC3\"}", "{\"a\":\"\xED\xA0\x80\"}", "{\"a\":\"\xC0\xAF\"}", "{\"a\":[}"}) {
    EXPECT_FALSE(scan(bad).ok) << bad;
    EXPECT_FALSE(reference(bad).ok) << bad;
  }
}

TEST(JsonScan, NestingIsBounded) {
  const auto nested = [](size_t depth) {
    return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + ",\"sender\":\"s\"}";
  };
  EXPECT_TRUE(scan(nested(kMaxJsonScanDepth)).ok);
  EXPECT_FALSE(scan(nested(kMaxJsonScanDepth + 1)).ok);
  EXPECT_FALSE(scan(std::string(100000, '[')).ok);
}

// Random documents (names from a small set, so wanted ones repeat and nest), written with random
// escapes and white space, then mutated byte by byte: the scan agrees with nlohmann::json on
// every one, accepted or not.
class Writer {
 public:
  explicit Writer(uint32_t seed) : rng_(seed) {}
  std::string object(int depth) {
    std::string s = "{" + ws();
    const int n = pick(5);
    for (int k = 0; k < n; ++k) {
      if (k) s += "," + ws();
      s += string(names_[pick(int(std::size(names_)))]) + ws() + ":" + ws() + value(depth) + ws();
    }
    return s + "}";
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string ws() {
    static const char* spaces[] = {"", "", "", " ", "\n", "\t \r"};
    return spaces[pick(6)];
  }
  std::string value(int depth) {
    switch (depth > 3 ? pick(4) : pick(6)) {
      case 0: return string(texts_[pick(int(std::size(texts_)))]);
      case 1: return numbers_[pick(int(std::size(numbers_)))];
      case 2: return literals_[pick(3)];
      case 3: return string(texts_[pick(int(std::size(texts_)))]);
      case 4: return object(depth + 1);
      default: {
        std::string s = "[" + ws();
        const int n = pick(3);
        for (int k = 0; k < n; ++k) s += (k ? "," : "") + value(depth + 1) + ws();
        return s + "]";
      }
    }
  }
  std::string string(const std::string& text) {  // each character escaped or not, at random
    std::string s = "\"";
    for (unsigned char c : text) {
      const bool must = c == '"' || c == '\\' || c < 0x20;
      if (must || (c < 0x80 && pick(6) == 0)) {
        char u[8];
        std::snprintf(u, sizeof u, "\\u%04x", c);
        s += c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' && pick(2) ? "\\n" : u;
      } else {
        s += char(c);
      }
    }
    return s + "\"";
  }
  std::mt19937 rng_;
  const std::string names_[7] = {"sender", "client_id", "room", "content", "metadata", "", "send"};
  const std::string texts_[7] = {"alice", "", "k-1", "ünïcödé ✓ 😀", "quote\" back\\ slash/", "line\nnext\ttab",
                                 "senderclient_id"};
  const char* numbers_[6] = {"0", "-1", "12.5", "1e10", "-0.0E+3", "123456789012345678901234567890"};
  const char* literals_[3] = {"true", "false", "null"};
};

TEST(JsonScan, AgreesWithNlohmannOnRandomAndMutatedDocuments) {
  Writer writer(20261130);
  std::mt19937 rng(7);
  const std::string bytes = "{}[]\":,\\u0123456789abcdefEe.+- \n\txtrnl\xC3\xA9\xF0\x9F";
  for (int n = 0; n < 3000; ++n) {
    const std::string doc = writer.object(0);
    expect_same(doc);
    for (int m = 0; m < 5; ++m) {
      std::string mutated = doc;
      const size_t at = std::uniform_int_distribution<size_t>(0, mutated.size() - 1)(rng);
      const char c = bytes[std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng)];
      switch (m % 3) {
        case 0: mutated[at] = c; break;
        case 1: mutated.erase(at, 1); break;
        default: mutated.insert(at, 1, c);
      }
      expect_same(mutated);
      if (HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace mqchat
